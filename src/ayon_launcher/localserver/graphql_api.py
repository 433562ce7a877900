"""GraphQL schema answering the queries ayon-python-api builds (projects, folders ... users)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    graphql_sync,
)

from ayon_launcher.localserver.attributes import attribute_defaults
from ayon_launcher.localserver.store import Store

S = GraphQLString
LS = GraphQLList(GraphQLNonNull(GraphQLString))
LI = GraphQLList(GraphQLNonNull(GraphQLInt))
HAS_LINKS = GraphQLEnumType("HasLinksFilter", {v: v for v in ("NONE", "IN", "OUT", "ANY", "BOTH")})

PAGING_ARGS = {
    "first": GraphQLArgument(GraphQLInt),
    "after": GraphQLArgument(S),
    "last": GraphQLArgument(GraphQLInt),
    "before": GraphQLArgument(S),
    "filter": GraphQLArgument(S),
    "search": GraphQLArgument(S),
    "sortBy": GraphQLArgument(S),
}


# -- data helpers -----------------------------------------------------------------------------
class Context:
    """Per-request cache of a project's entities."""

    def __init__(self, store: Store, user: dict[str, Any]) -> None:
        self.store = store
        self.user = user
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def entities(self, project: str, entity_type: str) -> list[dict[str, Any]]:
        key = (project, entity_type)
        if key not in self._cache:
            self._cache[key] = self.store.list(entity_type, project)
        return self._cache[key]

    def by_id(self, project: str, entity_type: str, entity_id: str | None) -> dict | None:
        if not entity_id:
            return None
        index_key = (project, entity_type + "#index")
        if index_key not in self._cache:
            self._cache[index_key] = [{e["id"]: e for e in self.entities(project, entity_type)}]
        return self._cache[index_key][0].get(entity_id)


def _ctx(info) -> Context:  # noqa: ANN001
    return info.context


def _node(entity: dict[str, Any], project: str, entity_type: str) -> dict[str, Any]:
    return {**entity, "_project": project, "_type": entity_type}


def _all_attrib(ctx: Context, node: dict[str, Any]) -> dict[str, Any]:
    project, kind = node["_project"], node["_type"]
    values = attribute_defaults(kind)
    if kind in {"folder", "task"}:
        project_doc = ctx.store.get("project", project) or {}
        for key, value in (project_doc.get("attrib") or {}).items():
            if key in values and value is not None:
                values[key] = value
        chain = []
        folder = ctx.by_id(project, "folder",
                           node.get("parentId") if kind == "folder" else node.get("folderId"))
        while folder is not None:
            chain.append(folder)
            folder = ctx.by_id(project, "folder", folder.get("parentId"))
        for ancestor in reversed(chain):
            for key, value in (ancestor.get("attrib") or {}).items():
                if key in values and value is not None:
                    values[key] = value
    for key, value in (node.get("attrib") or {}).items():
        if value is not None:
            values[key] = value
    return values


def _json_field(key: str) -> GraphQLField:
    return GraphQLField(S, resolve=lambda root, info: json.dumps(root.get(key) or {}))


def _common_fields() -> dict[str, GraphQLField]:
    return {
        "id": GraphQLField(S),
        "name": GraphQLField(S),
        "active": GraphQLField(GraphQLBoolean, resolve=lambda r, i: r.get("active", True)),
        "status": GraphQLField(S),
        "tags": GraphQLField(LS, resolve=lambda r, i: r.get("tags") or []),
        "data": _json_field("data"),
        "allAttrib": GraphQLField(S, resolve=lambda r, i: json.dumps(_all_attrib(_ctx(i), r))),
        "ownAttrib": GraphQLField(LS, resolve=lambda r, i: sorted(
            k for k, v in (r.get("attrib") or {}).items() if v is not None)),
        "createdAt": GraphQLField(S),
        "updatedAt": GraphQLField(S),
        "createdBy": GraphQLField(S),
        "updatedBy": GraphQLField(S),
        "thumbnailId": GraphQLField(S),
        "projectName": GraphQLField(S, resolve=lambda r, i: r["_project"]),
    }


def _connection(name: str, node_type: GraphQLObjectType) -> GraphQLObjectType:
    edge = GraphQLObjectType(f"{name}Edge", lambda: {
        "node": GraphQLField(node_type),
        "cursor": GraphQLField(S),
    })
    page_info = PAGE_INFO
    return GraphQLObjectType(f"{name}Connection", lambda: {
        "edges": GraphQLField(GraphQLList(edge)),
        "pageInfo": GraphQLField(page_info),
        "totalCount": GraphQLField(GraphQLInt),
    })


PAGE_INFO = GraphQLObjectType("PageInfo", {
    "hasNextPage": GraphQLField(GraphQLBoolean),
    "hasPreviousPage": GraphQLField(GraphQLBoolean),
    "startCursor": GraphQLField(S),
    "endCursor": GraphQLField(S),
})


def _page(items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """Cursor paging over a filtered list; cursors are positions."""
    if args.get("filter"):
        raise GraphQLError("Advanced filters are not supported by the local server")
    start = 0
    if args.get("after"):
        try:
            start = int(args["after"]) + 1
        except ValueError:
            raise GraphQLError("Invalid cursor") from None
    end = len(items)
    if args.get("before"):
        try:
            end = min(end, int(args["before"]))
        except ValueError:
            raise GraphQLError("Invalid cursor") from None
    window = list(enumerate(items))[start:end]
    has_next = False
    if args.get("first") is not None:
        has_next = len(window) > args["first"]
        window = window[: args["first"]]
    elif args.get("last") is not None:
        window = window[-args["last"]:] if args["last"] else []
    edges = [{"node": item, "cursor": str(pos)} for pos, item in window]
    return {
        "edges": edges,
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": bool(window) and window[0][0] > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _in(values: list | None, value: Any) -> bool:
    return values is None or value in values


def _any_in(values: list | None, entity_values: list) -> bool:
    return values is None or bool(set(values) & set(entity_values or []))


def _all_in(values: list | None, entity_values: list) -> bool:
    return values is None or set(values) <= set(entity_values or [])


def _regex(pattern: str | None, value: str) -> bool:
    if not pattern:
        return True
    try:
        return re.search(pattern, value) is not None
    except re.error:
        raise GraphQLError(f"Invalid regular expression: {pattern}") from None


# -- filters per entity type --------------------------------------------------------------------
def _folder_items(ctx: Context, project: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    folders = ctx.entities(project, "folder")
    parent_ids = args.get("parentIds")
    if parent_ids is not None:
        parent_ids = [None if p == "root" else p for p in parent_ids]
    out = []
    for folder in folders:
        if not (_in(args.get("ids"), folder["id"]) and _in(parent_ids, folder.get("parentId"))
                and _in(args.get("names"), folder["name"])
                and (args.get("paths") is None
                     or folder["path"] in args["paths"]
                     or folder["path"].lstrip("/") in args["paths"])
                and _regex(args.get("pathEx"), folder["path"])
                and _in(args.get("folderTypes"), folder.get("folderType"))
                and _in(args.get("statuses"), folder.get("status"))
                and _any_in(args.get("tags"), folder.get("tags"))
                and _all_in(args.get("assignees"), _folder_assignees(ctx, project, folder))):
            continue
        for arg, check in (("hasChildren", _has_children), ("hasTasks", _has_tasks),
                           ("hasProducts", _has_products)):
            if args.get(arg) is not None and check(ctx, project, folder) != args[arg]:
                break
        else:
            out.append(_node(folder, project, "folder"))
    return out


def _folder_assignees(ctx: Context, project: str, folder: dict[str, Any]) -> list[str]:
    names: set[str] = set()
    for task in ctx.entities(project, "task"):
        if task.get("folderId") == folder["id"]:
            names.update(task.get("assignees") or [])
    return sorted(names)


def _has_children(ctx: Context, project: str, folder: dict[str, Any]) -> bool:
    return any(f.get("parentId") == folder["id"] for f in ctx.entities(project, "folder"))


def _has_tasks(ctx: Context, project: str, folder: dict[str, Any]) -> bool:
    return any(t.get("folderId") == folder["id"] for t in ctx.entities(project, "task"))


def _has_products(ctx: Context, project: str, folder: dict[str, Any]) -> bool:
    return any(p.get("folderId") == folder["id"] for p in ctx.entities(project, "product"))


def _task_items(ctx: Context, project: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _node(task, project, "task") for task in ctx.entities(project, "task")
        if _in(args.get("ids"), task["id"]) and _in(args.get("names"), task["name"])
        and _in(args.get("taskTypes"), task.get("taskType"))
        and _in(args.get("folderIds"), task.get("folderId"))
        and _any_in(args.get("assigneesAny"), task.get("assignees"))
        and _all_in(args.get("assignees"), task.get("assignees"))
        and _in(args.get("statuses"), task.get("status"))
        and _any_in(args.get("tags"), task.get("tags"))
    ]


def _product_path(ctx: Context, project: str, product: dict[str, Any]) -> str:
    folder = ctx.by_id(project, "folder", product.get("folderId")) or {}
    return f"{folder.get('path', '')}/{product['name']}"


def _product_items(ctx: Context, project: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _node(product, project, "product") for product in ctx.entities(project, "product")
        if _in(args.get("ids"), product["id"]) and _in(args.get("names"), product["name"])
        and _in(args.get("folderIds"), product.get("folderId"))
        and _in(args.get("productTypes"), product.get("productType"))
        and _in(args.get("productBaseTypes"),
                product.get("productBaseType") or product.get("productType"))
        and _in(args.get("statuses"), product.get("status"))
        and _any_in(args.get("tags"), product.get("tags"))
        and _regex(args.get("nameEx"), product["name"])
        and _regex(args.get("pathEx"), _product_path(ctx, project, product))
    ]


def _version_items(ctx: Context, project: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    versions = [
        v for v in ctx.entities(project, "version")
        if _in(args.get("ids"), v["id"]) and _in(args.get("productIds"), v.get("productId"))
        and _in(args.get("versions"), v.get("version"))
        and _in(args.get("taskIds"), v.get("taskId"))
        and _in(args.get("statuses"), v.get("status"))
        and _any_in(args.get("tags"), v.get("tags"))
    ]
    latest: dict[str, dict[str, Any]] = {}
    for version in versions:
        if version["version"] >= 0:
            best = latest.get(version["productId"])
            if best is None or version["version"] > best["version"]:
                latest[version["productId"]] = version
    latest_ids = {v["id"] for v in latest.values()}
    if args.get("heroOnly"):
        versions = [v for v in versions if v["version"] < 0]
    elif args.get("latestOnly"):
        versions = [v for v in versions if v["id"] in latest_ids]
    elif args.get("heroOrLatestOnly"):
        heroes = {v["productId"] for v in versions if v["version"] < 0}
        versions = [v for v in versions if v["version"] < 0
                    or (v["id"] in latest_ids and v["productId"] not in heroes)]
    versions.sort(key=lambda v: (v.get("productId") or "", v["version"]))
    return [_node(v, project, "version") for v in versions]


def _representation_items(ctx: Context, project: str,
                          args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _node(r, project, "representation") for r in ctx.entities(project, "representation")
        if _in(args.get("ids"), r["id"]) and _in(args.get("versionIds"), r.get("versionId"))
        and _in(args.get("names"), r["name"]) and _in(args.get("statuses"), r.get("status"))
        and _any_in(args.get("tags"), r.get("tags"))
    ]


def _workfile_items(ctx: Context, project: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _node(w, project, "workfile") for w in ctx.entities(project, "workfile")
        if _in(args.get("ids"), w["id"]) and _in(args.get("taskIds"), w.get("taskId"))
        and _in(args.get("paths"), w.get("path"))
    ]


def _parent(kind: str, key: str) -> Callable:
    def resolve(root: dict[str, Any], info) -> dict[str, Any] | None:  # noqa: ANN001
        entity = _ctx(info).by_id(root["_project"], kind, root.get(key))
        return _node(entity, root["_project"], kind) if entity else None

    return resolve


def _list_resolver(items: Callable, implicit: dict[str, str] | None = None) -> Callable:
    """Connection resolver; ``implicit`` maps a filter argument to a key of the parent."""

    def resolve(root: dict[str, Any], info, **args: Any) -> dict[str, Any]:  # noqa: ANN001
        project = root["_project"] if "_project" in root else root["name"]
        for arg, key in (implicit or {}).items():
            args[arg] = [root[key]]
        return _page(items(_ctx(info), project, args), args)

    return resolve


def _args(*names: str, lists: tuple[str, ...] = (), ints: tuple[str, ...] = (),
          bools: tuple[str, ...] = ()) -> dict[str, GraphQLArgument]:
    args = dict(PAGING_ARGS)
    for name in names:
        args[name] = GraphQLArgument(S)
    for name in lists:
        args[name] = GraphQLArgument(LS)
    for name in ints:
        args[name] = GraphQLArgument(LI)
    for name in bools:
        args[name] = GraphQLArgument(GraphQLBoolean)
    return args


FOLDER_ARGS = _args("pathEx", lists=("ids", "parentIds", "names", "paths", "folderTypes",
                                     "statuses", "assignees", "tags"),
                    bools=("hasProducts", "hasTasks", "hasChildren"))
FOLDER_ARGS["hasLinks"] = GraphQLArgument(HAS_LINKS)
TASK_ARGS = _args(lists=("ids", "names", "taskTypes", "folderIds", "assigneesAny", "assignees",
                         "statuses", "tags"), bools=("includeFolderChildren",))
PRODUCT_ARGS = _args("nameEx", "pathEx", lists=("ids", "names", "folderIds", "productTypes",
                                                 "productBaseTypes", "statuses", "tags"))
VERSION_ARGS = _args(lists=("ids", "productIds", "taskIds", "statuses", "tags"),
                     ints=("versions",), bools=("heroOnly", "latestOnly", "heroOrLatestOnly"))
REPRESENTATION_ARGS = _args(lists=("ids", "versionIds", "names", "statuses", "tags"))
REPRESENTATION_ARGS["hasLinks"] = GraphQLArgument(HAS_LINKS)
WORKFILE_ARGS = _args(lists=("ids", "taskIds", "paths", "statuses", "tags"))


# -- types --------------------------------------------------------------------------------------
FILE_TYPE = GraphQLObjectType("FileNode", {
    "id": GraphQLField(S),
    "name": GraphQLField(S),
    "path": GraphQLField(S),
    "size": GraphQLField(S, resolve=lambda r, i: str(r.get("size") or 0)),
    "hash": GraphQLField(S),
    "hashType": GraphQLField(S),
})

FOLDER_TYPE: GraphQLObjectType
TASK_TYPE: GraphQLObjectType
PRODUCT_TYPE: GraphQLObjectType
VERSION_TYPE: GraphQLObjectType
REPRESENTATION_TYPE: GraphQLObjectType

FOLDER_TYPE = GraphQLObjectType("FolderNode", lambda: {
    **_common_fields(),
    "label": GraphQLField(S),
    "folderType": GraphQLField(S),
    "path": GraphQLField(S),
    "parentId": GraphQLField(S),
    "parent": GraphQLField(FOLDER_TYPE, resolve=_parent("folder", "parentId")),
    "hasChildren": GraphQLField(GraphQLBoolean, resolve=lambda r, i: _has_children(
        _ctx(i), r["_project"], r)),
    "hasTasks": GraphQLField(GraphQLBoolean, resolve=lambda r, i: _has_tasks(
        _ctx(i), r["_project"], r)),
    "hasProducts": GraphQLField(GraphQLBoolean, resolve=lambda r, i: _has_products(
        _ctx(i), r["_project"], r)),
    "childCount": GraphQLField(GraphQLInt, resolve=lambda r, i: sum(
        1 for f in _ctx(i).entities(r["_project"], "folder") if f.get("parentId") == r["id"])),
    "taskNames": GraphQLField(LS, resolve=lambda r, i: [
        t["name"] for t in _ctx(i).entities(r["_project"], "task")
        if t.get("folderId") == r["id"]]),
    "tasks": GraphQLField(_connection("FolderTasks", TASK_TYPE), args=TASK_ARGS,
                          resolve=_list_resolver(_task_items, {"folderIds": "id"})),
    "products": GraphQLField(_connection("FolderProducts", PRODUCT_TYPE), args=PRODUCT_ARGS,
                             resolve=_list_resolver(_product_items, {"folderIds": "id"})),
})

TASK_TYPE = GraphQLObjectType("TaskNode", lambda: {
    **_common_fields(),
    "label": GraphQLField(S),
    "taskType": GraphQLField(S),
    "folderId": GraphQLField(S),
    "assignees": GraphQLField(LS, resolve=lambda r, i: r.get("assignees") or []),
    "folder": GraphQLField(FOLDER_TYPE, resolve=_parent("folder", "folderId")),
    "versions": GraphQLField(_connection("TaskVersions", VERSION_TYPE), args=VERSION_ARGS,
                             resolve=_list_resolver(_version_items, {"taskIds": "id"})),
})

PRODUCT_TYPE = GraphQLObjectType("ProductNode", lambda: {
    **_common_fields(),
    "folderId": GraphQLField(S),
    "productType": GraphQLField(S),
    "productBaseType": GraphQLField(S, resolve=lambda r, i: r.get("productBaseType")
                                    or r.get("productType")),
    "path": GraphQLField(S, resolve=lambda r, i: _product_path(_ctx(i), r["_project"], r)),
    "folder": GraphQLField(FOLDER_TYPE, resolve=_parent("folder", "folderId")),
    "versions": GraphQLField(_connection("ProductVersions", VERSION_TYPE), args=VERSION_ARGS,
                             resolve=_list_resolver(_version_items, {"productIds": "id"})),
})


def _version_name(root: dict[str, Any], info) -> str:  # noqa: ANN001
    number = root.get("version", 0)
    return "HERO" if number < 0 else f"v{number:03d}"


VERSION_TYPE = GraphQLObjectType("VersionNode", lambda: {
    **_common_fields(),
    "name": GraphQLField(S, resolve=_version_name),
    "version": GraphQLField(GraphQLInt),
    "productId": GraphQLField(S),
    "taskId": GraphQLField(S),
    "author": GraphQLField(S),
    "heroVersionId": GraphQLField(S),
    "product": GraphQLField(PRODUCT_TYPE, resolve=_parent("product", "productId")),
    "task": GraphQLField(TASK_TYPE, resolve=_parent("task", "taskId")),
    "representations": GraphQLField(
        _connection("VersionRepresentations", REPRESENTATION_TYPE), args=REPRESENTATION_ARGS,
        resolve=_list_resolver(_representation_items, {"versionIds": "id"})),
})

REPRESENTATION_TYPE = GraphQLObjectType("RepresentationNode", lambda: {
    **_common_fields(),
    "versionId": GraphQLField(S),
    "context": _json_field("context"),
    "traits": _json_field("traits"),
    "files": GraphQLField(GraphQLList(FILE_TYPE), resolve=lambda r, i: r.get("files") or []),
    "version": GraphQLField(VERSION_TYPE, resolve=_parent("version", "versionId")),
})

WORKFILE_TYPE = GraphQLObjectType("WorkfileNode", lambda: {
    **_common_fields(),
    "path": GraphQLField(S),
    "taskId": GraphQLField(S),
    "task": GraphQLField(TASK_TYPE, resolve=_parent("task", "taskId")),
})


def _simple_type(name: str, fields: dict[str, Any]) -> GraphQLObjectType:
    return GraphQLObjectType(name, {k: GraphQLField(v) for k, v in fields.items()})


PROJECT_TYPE = GraphQLObjectType("ProjectNode", lambda: {
    "name": GraphQLField(S),
    "projectName": GraphQLField(S, resolve=lambda r, i: r["name"]),
    "code": GraphQLField(S),
    "active": GraphQLField(GraphQLBoolean),
    "library": GraphQLField(GraphQLBoolean),
    "createdAt": GraphQLField(S),
    "updatedAt": GraphQLField(S),
    "data": _json_field("data"),
    "config": _json_field("config"),
    "allAttrib": GraphQLField(S, resolve=lambda r, i: json.dumps(
        {**attribute_defaults("project"), **(r.get("attrib") or {})})),
    "ownAttrib": GraphQLField(LS, resolve=lambda r, i: sorted(r.get("attrib") or {})),
    "folderTypes": GraphQLField(GraphQLList(_simple_type("FolderType", {
        "name": S, "shortName": S, "icon": S, "color": S}))),
    "taskTypes": GraphQLField(GraphQLList(_simple_type("TaskType", {
        "name": S, "shortName": S, "icon": S, "color": S}))),
    "linkTypes": GraphQLField(GraphQLList(_simple_type("LinkType", {
        "name": S, "linkType": S, "inputType": S, "outputType": S, "style": S, "color": S}))),
    "statuses": GraphQLField(GraphQLList(_simple_type("Status", {
        "name": S, "shortName": S, "state": S, "icon": S, "color": S, "scope": LS}))),
    "tags": GraphQLField(GraphQLList(_simple_type("Tag", {"name": S, "color": S}))),
    "usedTags": GraphQLField(LS, resolve=lambda r, i: []),
    "productTypes": GraphQLField(GraphQLList(_simple_type("ProductType", {
        "name": S, "icon": S, "color": S, "baseType": S})), resolve=_project_product_types),
    "bundle": GraphQLField(_simple_type("ProjectBundle", {"production": S, "staging": S}),
                           resolve=lambda r, i: (r.get("data") or {}).get("bundle") or {}),
    "folders": GraphQLField(_connection("Folders", FOLDER_TYPE), args=FOLDER_ARGS,
                            resolve=_list_resolver(_folder_items)),
    "tasks": GraphQLField(_connection("Tasks", TASK_TYPE), args=TASK_ARGS,
                          resolve=_list_resolver(_task_items)),
    "products": GraphQLField(_connection("Products", PRODUCT_TYPE), args=PRODUCT_ARGS,
                             resolve=_list_resolver(_product_items)),
    "versions": GraphQLField(_connection("Versions", VERSION_TYPE), args=VERSION_ARGS,
                             resolve=_list_resolver(_version_items)),
    "representations": GraphQLField(_connection("Representations", REPRESENTATION_TYPE),
                                    args=REPRESENTATION_ARGS,
                                    resolve=_list_resolver(_representation_items)),
    "workfiles": GraphQLField(_connection("Workfiles", WORKFILE_TYPE), args=WORKFILE_ARGS,
                              resolve=_list_resolver(_workfile_items)),
})


def _project_product_types(root: dict[str, Any], info) -> list[dict[str, Any]]:  # noqa: ANN001
    names = sorted({p.get("productType") for p in _ctx(info).entities(root["name"], "product")
                    if p.get("productType")})
    return [{"name": n, "icon": None, "color": None, "baseType": n} for n in names]


USER_TYPE = GraphQLObjectType("UserNode", {
    "name": GraphQLField(S),
    "active": GraphQLField(GraphQLBoolean, resolve=lambda r, i: r.get("active", True)),
    "isAdmin": GraphQLField(GraphQLBoolean, resolve=lambda r, i: bool(r.get("isAdmin"))),
    "isManager": GraphQLField(GraphQLBoolean, resolve=lambda r, i: bool(r.get("isManager"))),
    "isService": GraphQLField(GraphQLBoolean, resolve=lambda r, i: bool(r.get("isService"))),
    "isGuest": GraphQLField(GraphQLBoolean, resolve=lambda r, i: False),
    "hasPassword": GraphQLField(GraphQLBoolean, resolve=lambda r, i: bool(r.get("passwordHash"))),
    "accessGroups": GraphQLField(S, resolve=lambda r, i: "{}"),
    "defaultAccessGroups": GraphQLField(LS, resolve=lambda r, i: []),
    "apiKeyPreview": GraphQLField(S, resolve=lambda r, i: None),
    "userPool": GraphQLField(S, resolve=lambda r, i: None),
    "createdAt": GraphQLField(S),
    "updatedAt": GraphQLField(S),
    "data": _json_field("data"),
    "allAttrib": GraphQLField(S, resolve=lambda r, i: json.dumps(
        {**attribute_defaults("user"), **(r.get("attrib") or {})})),
    "ownAttrib": GraphQLField(LS, resolve=lambda r, i: sorted(r.get("attrib") or {})),
})


def _resolve_project(root: Any, info, name: str) -> dict[str, Any]:  # noqa: ANN001
    project = _ctx(info).store.get("project", name)
    if not project:
        # As the real server: an error with status 404, and no data (the field is non-null).
        raise GraphQLError("Project not found", extensions={"status": 404})
    return {**project, "_project": name}


def _resolve_projects(root: Any, info, **args: Any) -> dict[str, Any]:  # noqa: ANN001
    projects = _ctx(info).store.list("project")
    names = args.get("names") or ([args["name"]] if args.get("name") else None)
    items = [{**p, "_project": p["name"]} for p in projects if _in(names, p["name"])]
    return _page(items, args)


def _resolve_users(root: Any, info, **args: Any) -> dict[str, Any]:  # noqa: ANN001
    users = _ctx(info).store.list("user")
    items = [u for u in users if _in(args.get("names"), u["name"])
             and (args.get("emails") is None
                  or (u.get("attrib") or {}).get("email") in args["emails"])]
    return _page(items, args)


SCHEMA = GraphQLSchema(query=GraphQLObjectType("Query", lambda: {
    "project": GraphQLField(GraphQLNonNull(PROJECT_TYPE),
                            args={"name": GraphQLArgument(GraphQLNonNull(S))},
                            resolve=_resolve_project),
    "projects": GraphQLField(_connection("Projects", PROJECT_TYPE), args={
        **PAGING_ARGS, "name": GraphQLArgument(S), "names": GraphQLArgument(LS),
        "includeSkeleton": GraphQLArgument(GraphQLBoolean)}, resolve=_resolve_projects),
    "users": GraphQLField(_connection("Users", USER_TYPE), args={
        **PAGING_ARGS, "names": GraphQLArgument(LS), "emails": GraphQLArgument(LS),
        "projectName": GraphQLArgument(S), "name": GraphQLArgument(S)},
        resolve=_resolve_users),
    "serverVersion": GraphQLField(S, resolve=lambda r, i: "local"),
    "fps": GraphQLField(GraphQLFloat, resolve=lambda r, i: None),
}))


def execute(store: Store, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Run one GraphQL request body (``query``, ``variables``, ``operationName``)."""
    query = body.get("query")
    if not isinstance(query, str):
        return {"data": None, "errors": [{"message": "Field 'query' (a string) is required"}]}
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return {"data": None, "errors": [{"message": "Field 'variables' must be an object"}]}
    result = graphql_sync(SCHEMA, query, variable_values=variables,
                          operation_name=body.get("operationName"),
                          context_value=Context(store, user))
    output: dict[str, Any] = {"data": result.data}
    if result.errors:
        output["errors"] = []
        for err in result.errors:
            item: dict[str, Any] = {"message": err.message,
                                    "locations": [{"line": loc.line, "column": loc.column}
                                                  for loc in (err.locations or [])]}
            if err.path:
                item["path"] = err.path
            if err.extensions:
                item["extensions"] = err.extensions
            output["errors"].append(item)
    return output
