"""Create/update/delete of project entities, alone (REST) or as a batch (operations)."""

from __future__ import annotations

import re
from typing import Any

from ayon_launcher.localserver.store import Store, new_id, now_iso

ENTITY_TYPES = ("folder", "task", "product", "version", "representation", "workfile")
_PLURALS = {f"{t}s": t for t in ENTITY_TYPES}
_NAME_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.\-]*$")
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# Fields a client may set on each entity type (besides id, attrib, data, status, tags, active).
_FIELDS = {
    "folder": ("name", "label", "folderType", "parentId", "thumbnailId"),
    "task": ("name", "label", "taskType", "folderId", "assignees", "thumbnailId"),
    "product": ("name", "folderId", "productType", "productBaseType"),
    "version": ("version", "productId", "taskId", "author", "thumbnailId"),
    "representation": ("name", "versionId", "files", "context", "traits"),
    "workfile": ("path", "taskId", "thumbnailId", "createdBy", "updatedBy"),
}


class OperationError(Exception):
    """One operation failed; ``status`` is the HTTP-like status of the failure."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or _ERROR_CODES.get(status, "error")


_ERROR_CODES = {400: "bad-request", 403: "forbidden", 404: "not-found", 409: "conflict"}


def entity_type_from_plural(plural: str) -> str | None:
    return _PLURALS.get(plural)


def _get(store: Store, project: str, kind: str, entity_id: str | None) -> dict[str, Any] | None:
    return store.get(kind, entity_id, project) if entity_id else None


def _require(store: Store, project: str, kind: str, entity_id: Any) -> dict[str, Any]:
    if not isinstance(entity_id, str):
        raise OperationError(400, f"Parent {kind} is required")
    parent = _get(store, project, kind, entity_id)
    if parent is None:
        # As the real server's database answers a reference to a missing parent.
        uid = entity_id
        if len(uid) == 32:
            uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"
        raise OperationError(409, f"{kind}_id '{uid}' is not present in table \"{kind}s\".",
                             "foreign-key-violation")
    return parent


def _check_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise OperationError(400, f"Invalid {what} name: {value!r}")
    return value


def _siblings(store: Store, project: str, kind: str, key: str, value: Any) -> list[dict]:
    return [e for e in store.list(kind, project) if e.get(key) == value]


def _folder_path(store: Store, project: str, folder: dict[str, Any]) -> str:
    parent = _get(store, project, "folder", folder.get("parentId"))
    return (parent["path"] if parent else "") + "/" + folder["name"]


def _validate(store: Store, project: str, kind: str, entity: dict[str, Any]) -> None:
    """Check references and uniqueness of an entity about to be written."""
    project_doc = store.get("project", project) or {}
    if kind == "folder":
        _check_name(entity.get("name"), "folder")
        if entity.get("parentId"):
            _require(store, project, "folder", entity["parentId"])
        types = [t["name"] for t in project_doc.get("folderTypes", [])]
        entity.setdefault("folderType", types[0] if types else "Folder")
        if types and entity.get("folderType") not in types:
            raise OperationError(400, f"Unknown folder type '{entity.get('folderType')}'")
        clash = [f for f in _siblings(store, project, "folder", "parentId", entity.get("parentId"))
                 if f["name"] == entity["name"] and f["id"] != entity["id"]]
        entity["path"] = _folder_path(store, project, entity)
    elif kind == "task":
        _check_name(entity.get("name"), "task")
        _require(store, project, "folder", entity.get("folderId"))
        types = [t["name"] for t in project_doc.get("taskTypes", [])]
        if types and entity.get("taskType") not in types:
            raise OperationError(400, f"Unknown task type '{entity.get('taskType')}'")
        clash = [t for t in _siblings(store, project, "task", "folderId", entity["folderId"])
                 if t["name"] == entity["name"] and t["id"] != entity["id"]]
    elif kind == "product":
        _check_name(entity.get("name"), "product")
        _require(store, project, "folder", entity.get("folderId"))
        if not isinstance(entity.get("productType"), str) or not entity["productType"]:
            raise OperationError(400, "Product needs a 'productType'")
        clash = [p for p in _siblings(store, project, "product", "folderId", entity["folderId"])
                 if p["name"] == entity["name"] and p["id"] != entity["id"]]
    elif kind == "version":
        _require(store, project, "product", entity.get("productId"))
        number = entity.get("version")
        if not isinstance(number, int) or isinstance(number, bool):
            raise OperationError(400, "Version needs an integer 'version'")
        if entity.get("taskId"):
            _require(store, project, "task", entity["taskId"])
        clash = [v for v in _siblings(store, project, "version", "productId", entity["productId"])
                 if v["version"] == number and v["id"] != entity["id"]]
    elif kind == "representation":
        if not isinstance(entity.get("name"), str) or not entity["name"]:
            raise OperationError(400, "Representation needs a 'name'")
        _require(store, project, "version", entity.get("versionId"))
        files = entity.get("files") or []
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise OperationError(400, "'files' must be a list of objects")
        for item in files:
            item.setdefault("id", new_id())
            item.setdefault("name", str(item.get("path", "")).replace("\\", "/").split("/")[-1])
        clash = [r for r in _siblings(store, project, "representation", "versionId",
                                      entity["versionId"])
                 if r["name"] == entity["name"] and r["id"] != entity["id"]]
    else:  # workfile
        if not isinstance(entity.get("path"), str) or not entity["path"]:
            raise OperationError(400, "Workfile needs a 'path'")
        _require(store, project, "task", entity.get("taskId"))
        clash = []
    if clash:
        raise OperationError(409, f"A {kind} with the same name already exists"
                                  if kind != "version" else
                                  f"Version {entity['version']} of this product already exists")


def create_entity(store: Store, project: str, kind: str, data: dict[str, Any],
                  entity_id: str | None, user: str) -> dict[str, Any]:
    entity_id = entity_id or data.get("id") or new_id()
    if not isinstance(entity_id, str) or not _ID_RE.match(entity_id.replace("-", "")):
        raise OperationError(400, f"Invalid entity id: {entity_id!r}")
    entity_id = entity_id.replace("-", "")
    if _get(store, project, kind, entity_id) is not None:
        raise OperationError(409, f"{kind.capitalize()} '{entity_id}' already exists")
    entity: dict[str, Any] = {
        "id": entity_id,
        "attrib": {k: v for k, v in (data.get("attrib") or {}).items() if v is not None},
        "data": data.get("data") or {},
        "status": data.get("status") or "Not ready",
        "tags": list(data.get("tags") or []),
        "active": data.get("active", True),
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
        "thumbnailId": None,
    }
    for field in _FIELDS[kind]:
        if field in data:
            entity[field] = data[field]
    if kind == "version":
        entity.setdefault("author", user)
        entity.setdefault("taskId", None)
    if kind == "workfile":
        entity.setdefault("createdBy", user)
        entity.setdefault("updatedBy", user)
    if kind == "task":
        entity.setdefault("assignees", [])
    if kind == "folder":
        entity.setdefault("parentId", None)
    _validate(store, project, kind, entity)
    store.put(kind, entity_id, entity, project)
    return entity


def update_entity(store: Store, project: str, kind: str, entity_id: str,
                  data: dict[str, Any]) -> dict[str, Any]:
    entity = _get(store, project, kind, entity_id)
    if entity is None:
        raise OperationError(404, f"Entity {entity_id} not found")
    for field in (*_FIELDS[kind], "status", "tags", "active", "thumbnailId"):
        if field in data:
            entity[field] = data[field]
    if "attrib" in data:
        attrib = dict(entity.get("attrib") or {})
        for key, value in (data["attrib"] or {}).items():
            if value is None:
                attrib.pop(key, None)
            else:
                attrib[key] = value
        entity["attrib"] = attrib
    if "data" in data:
        entity["data"] = {**(entity.get("data") or {}), **(data["data"] or {})}
    entity["updatedAt"] = now_iso()
    _validate(store, project, kind, entity)
    store.put(kind, entity_id, entity, project)
    if kind == "folder":
        _refresh_paths(store, project, entity)
    return entity


def _refresh_paths(store: Store, project: str, folder: dict[str, Any]) -> None:
    for child in _siblings(store, project, "folder", "parentId", folder["id"]):
        child["path"] = folder["path"] + "/" + child["name"]
        store.put("folder", child["id"], child, project)
        _refresh_paths(store, project, child)


_CHILDREN = {
    "product": [("version", "productId")],
    "version": [("representation", "versionId")],
    "task": [("workfile", "taskId")],
}


def delete_entity(store: Store, project: str, kind: str, entity_id: str,
                  force: bool = False) -> None:
    """Delete an entity; versions and products take their children along (publish rollback)."""
    if _get(store, project, kind, entity_id) is None:
        raise OperationError(404, f"Entity {entity_id} not found")
    if kind == "folder":
        blockers = (_siblings(store, project, "folder", "parentId", entity_id)
                    + _siblings(store, project, "product", "folderId", entity_id))
        if blockers and not force:
            raise OperationError(409, "Folder has child folders or products")
        for child in _siblings(store, project, "folder", "parentId", entity_id):
            delete_entity(store, project, "folder", child["id"], force=True)
        for child_kind in ("product", "task"):
            for child in _siblings(store, project, child_kind, "folderId", entity_id):
                delete_entity(store, project, child_kind, child["id"], force=True)
    for child_kind, key in _CHILDREN.get(kind, []):
        for child in _siblings(store, project, child_kind, key, entity_id):
            delete_entity(store, project, child_kind, child["id"], force=True)
    store.delete(kind, entity_id, project)


class _Rollback(Exception):
    pass


def process_operations(store: Store, project: str, operations: Any, can_fail: bool,
                       user: str) -> dict[str, Any]:
    """Apply a batch as ayon-backend 1.16 does.

    Without ``can_fail`` the batch stops at the first failure (later operations are not
    reported) and is rolled back, but the results of the earlier ones still say success; when
    the failure is an update or delete of an entity that does not exist (404), the real server
    keeps the earlier operations, and so does this one.
    """
    if not isinstance(operations, list):
        raise OperationError(400, "'operations' must be a list")
    results: list[dict[str, Any]] = []
    try:
        with store.transaction():
            for op in operations:
                result = _apply_one(store, project, op, user)
                results.append(result)
                if not result["success"] and not can_fail:
                    if result["status"] == 404 and result["type"] in {"update", "delete"}:
                        break
                    raise _Rollback
    except _Rollback:
        pass
    success = all(r["success"] for r in results)
    return {"operations": results, "success": success}


def _apply_one(store: Store, project: str, op: Any, user: str) -> dict[str, Any]:
    if not isinstance(op, dict):
        return {"id": new_id(), "type": None, "entityType": None, "entityId": None,
                "success": False, "status": 400, "errorCode": "bad-request",
                "detail": "Operation must be an object"}
    kind = op.get("entityType")
    op_type = op.get("type")
    result: dict[str, Any] = {"id": op.get("id") or new_id(), "type": op_type,
                              "entityType": kind, "entityId": op.get("entityId"),
                              "success": False, "status": None, "errorCode": None,
                              "detail": None}
    try:
        if kind not in ENTITY_TYPES:
            raise OperationError(400, f"Unknown entity type {kind!r}")
        data = op.get("data") or {}
        if not isinstance(data, dict):
            raise OperationError(400, "Operation 'data' must be an object")
        if op_type == "create":
            entity = create_entity(store, project, kind, data, op.get("entityId"), user)
            result.update(entityId=entity["id"], status=201)
        elif op_type == "update":
            update_entity(store, project, kind, str(op.get("entityId")), data)
            result["status"] = 204
        elif op_type == "delete":
            delete_entity(store, project, kind, str(op.get("entityId")),
                          force=bool(op.get("force")))
            result["status"] = 204
        else:
            raise OperationError(400, f"Unknown operation type {op_type!r}")
        result["success"] = True
    except OperationError as exc:
        result.update(status=exc.status, detail=exc.detail, errorCode=exc.code)
        if op_type == "create":
            result["entityId"] = None  # as the real server reports a failed creation
    return result
