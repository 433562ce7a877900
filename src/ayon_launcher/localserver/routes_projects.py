"""Projects (REST), project entities (REST + batch operations) and the GraphQL endpoint."""

from __future__ import annotations

import sys
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ayon_launcher.localserver import operations as ops
from ayon_launcher.localserver.app import ApiError, current_user, read_json, validation_error
from ayon_launcher.localserver.attributes import attribute_defaults
from ayon_launcher.localserver.store import Store, new_id, now_iso

router = APIRouter()


def _store(request: Request) -> Store:
    return request.app.state.store


def _project(store: Store, name: str) -> dict[str, Any]:
    project = store.get("project", name)
    if project is None:
        raise ApiError(404, f"Project {name} not found")
    return project


def _platform() -> str:
    return {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")


@router.post("/graphql", response_model=None)  # the real one serves GraphQL outside /api
async def graphql(request: Request) -> dict[str, Any] | PlainTextResponse:
    from ayon_launcher.localserver.graphql_api import execute

    user = current_user(request)
    try:
        body = await read_json(request)
    except ApiError:
        # The real GraphQL router answers a body that is not JSON in plain text.
        return PlainTextResponse("Unable to parse request body as JSON", status_code=400)
    return execute(_store(request), user, body)


@router.get("/api/projects")
async def list_projects(request: Request) -> dict[str, Any]:
    current_user(request)
    params = request.query_params
    out = []
    for project in _store(request).list("project"):
        if params.get("active") in {"true", "false"} and \
                project.get("active", True) != (params["active"] == "true"):
            continue
        if params.get("library") in {"true", "false"} and \
                project.get("library", False) != (params["library"] == "true"):
            continue
        out.append({"name": project["name"], "code": project.get("code"),
                    "label": project.get("label"), "color": None,
                    "active": project.get("active", True),
                    "library": project.get("library", False), "skeleton": False,
                    "pinned": False, "projectFolder": None,
                    "createdAt": project.get("createdAt"),
                    "updatedAt": project.get("updatedAt")})
    detail = f"Showing {len(out)} of {len(out)} projects" if out else "No projects"
    return {"detail": detail, "count": len(out), "projects": out}


@router.get("/api/projects/{name}")
async def get_project(name: str, request: Request) -> dict[str, Any]:
    current_user(request)
    project = dict(_project(_store(request), name))
    project["attrib"] = {**attribute_defaults("project"), **(project.get("attrib") or {})}
    return project


@router.get("/api/projects/{name}/anatomy")
async def get_project_anatomy(name: str, request: Request) -> dict[str, Any]:
    current_user(request)
    project = _project(_store(request), name)
    return anatomy_of(project)


def anatomy_of(project: dict[str, Any]) -> dict[str, Any]:
    """A project as the real server's anatomy model: snake_case keys, roots and named
    templates as lists, ``templates["common"]`` spread at the top of ``templates``."""
    config = project.get("config") or {}
    stored = config.get("templates") or {}
    templates: dict[str, Any] = dict(stored.get("common") or {})
    for category in ("work", "publish", "hero", "delivery", "staging", "others"):
        templates[category] = [{"name": key, **value}
                               for key, value in (stored.get(category) or {}).items()]
    return {
        "entity_naming": config.get("entityNaming") or {"capitalization": "lower",
                                                        "separator": "_"},
        "roots": [{"name": k, **v} for k, v in (config.get("roots") or {}).items()],
        "templates": templates,
        "attributes": project.get("attrib") or {},
        "folder_types": project.get("folderTypes") or [],
        "task_types": project.get("taskTypes") or [],
        "link_types": project.get("linkTypes") or [],
        "statuses": project.get("statuses") or [],
        "tags": project.get("tags") or [],
        "product_base_types": config.get("productBaseTypes") or {},
    }


@router.get("/api/projects/{name}/roots")
async def get_project_roots(name: str, request: Request) -> dict[str, Any]:
    current_user(request)
    _project(_store(request), name)
    return {}  # no site overrides on the local server


@router.get("/api/projects/{name}/siteRoots")
async def get_project_site_roots(name: str, request: Request) -> dict[str, Any]:
    current_user(request)
    project = _project(_store(request), name)
    platform_name = request.query_params.get("platform") or _platform()
    roots = (project.get("config") or {}).get("roots") or {}
    return {key: value.get(platform_name) for key, value in roots.items()}


# -- batch operations -----------------------------------------------------------------------
async def _run_operations(request: Request, project: str) -> dict[str, Any]:
    user = current_user(request)
    store = _store(request)
    _project(store, project)
    body = await read_json(request)
    try:
        return ops.process_operations(store, project, body.get("operations"),
                                      bool(body.get("canFail")), user["name"])
    except ops.OperationError as exc:
        raise ApiError(exc.status, exc.detail) from None


@router.post("/api/projects/{project}/operations")
async def operations(project: str, request: Request) -> dict[str, Any]:
    return await _run_operations(request, project)


@router.post("/api/projects/{project}/operations/background")
async def background_operations(project: str, request: Request) -> dict[str, Any]:
    # Processed at once; the client then polls a task that is already completed.
    result = await _run_operations(request, project)
    task_id = new_id()
    task = {"id": task_id, "status": "completed", "result": result, "projectName": project,
            "createdAt": now_iso(), "updatedAt": now_iso()}
    jobs: dict[str, Any] = request.app.state.background_operations
    jobs[task_id] = task
    while len(jobs) > 500:  # keep memory bounded
        jobs.pop(next(iter(jobs)))
    return {"id": task_id, "status": "pending", "progress": None, "result": None}


@router.get("/api/projects/{project}/operations/background/{task_id}")
async def background_status(project: str, task_id: str, request: Request) -> dict[str, Any]:
    current_user(request)
    task = request.app.state.background_operations.get(task_id)
    if task is None:  # the real server looks the task up by its id only
        raise ApiError(404, f"Background operations task '{task_id}' not found")
    return {"id": task_id, "status": task["status"], "progress": None,
            "result": task["result"]}


# -- REST entities ----------------------------------------------------------------------------
# The real server has one set of routes per entity type (no catch-all "{type}" segment).
_REST_TYPES = {"folders": "folder", "tasks": "task", "products": "product",
               "versions": "version", "representations": "representation",
               "workfiles": "workfile"}


def _entity_id(entity_id: str, request: Request) -> str:
    if len(entity_id) != 32 or not all(c in "0123456789abcdef-" for c in entity_id):
        raise validation_error(request, "entity id: ensure this value has 32 characters")
    return entity_id


def _entity_routes(plural: str, kind: str) -> None:
    """GET/PATCH/DELETE ``/{plural}/{id}`` and POST ``/{plural}`` for one entity type."""
    item = f"/api/projects/{{project}}/{plural}/{{entity_id}}"

    @router.get(item, name=f"get_{kind}")
    async def get_entity(project: str, entity_id: str, request: Request) -> dict[str, Any]:
        current_user(request)
        store = _store(request)
        _project(store, project)
        entity = store.get(kind, _entity_id(entity_id, request), project)
        if entity is None:
            raise ApiError(404, f"Entity {entity_id} not found")
        return {**entity, "attrib": {**attribute_defaults(kind), **(entity.get("attrib") or {})}}

    @router.post(f"/api/projects/{{project}}/{plural}", status_code=201, name=f"create_{kind}")
    async def create_entity(project: str, request: Request) -> JSONResponse:
        user = current_user(request)
        store = _store(request)
        _project(store, project)
        body = await read_json(request)
        try:
            with store.transaction():
                entity = ops.create_entity(store, project, kind, body, body.get("id"),
                                           user["name"])
        except ops.OperationError as exc:
            raise ApiError(exc.status, exc.detail) from None
        return JSONResponse({"id": entity["id"]}, status_code=201)

    @router.patch(item, status_code=204, name=f"update_{kind}")
    async def update_entity(project: str, entity_id: str, request: Request) -> Response:
        current_user(request)
        store = _store(request)
        _project(store, project)
        body = await read_json(request)
        try:
            with store.transaction():
                ops.update_entity(store, project, kind, _entity_id(entity_id, request), body)
        except ops.OperationError as exc:
            raise ApiError(exc.status, exc.detail) from None
        return Response(status_code=204)

    @router.delete(item, status_code=204, name=f"delete_{kind}")
    async def delete_entity(project: str, entity_id: str, request: Request) -> Response:
        current_user(request)
        store = _store(request)
        _project(store, project)
        force = request.query_params.get("force") in {"true", "1"}
        try:
            with store.transaction():
                ops.delete_entity(store, project, kind, _entity_id(entity_id, request),
                                  force=force)
        except ops.OperationError as exc:
            raise ApiError(exc.status, exc.detail) from None
        return Response(status_code=204)


for _plural, _kind in _REST_TYPES.items():
    _entity_routes(_plural, _kind)
