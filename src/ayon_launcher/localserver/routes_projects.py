"""Projects (REST), project entities (REST + batch operations) and the GraphQL endpoint."""

from __future__ import annotations

import sys
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from . import operations as ops
from .app import ApiError, current_user, read_json
from .attributes import attribute_defaults
from .store import Store, new_id, now_iso

router = APIRouter()


def _store(request: Request) -> Store:
    return request.app.state.store


def _project(store: Store, name: str) -> dict[str, Any]:
    project = store.get("project", name)
    if project is None:
        raise ApiError(404, f"Project '{name}' not found")
    return project


def _platform() -> str:
    return {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")


@router.post("/graphql")
@router.post("/api/graphql")
async def graphql(request: Request) -> dict[str, Any]:
    from .graphql_api import execute

    user = current_user(request)
    body = await read_json(request)
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
        out.append({key: project.get(key) for key in
                    ("name", "code", "active", "library", "createdAt", "updatedAt")})
    return {"detail": f"{len(out)} projects", "count": len(out), "projects": out}


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
    config = project.get("config") or {}
    return {
        "roots": [{"name": k, **v} for k, v in (config.get("roots") or {}).items()],
        "templates": config.get("templates") or {},
        "attributes": project.get("attrib") or {},
        "folder_types": project.get("folderTypes") or [],
        "task_types": project.get("taskTypes") or [],
        "statuses": project.get("statuses") or [],
        "tags": project.get("tags") or [],
        "link_types": project.get("linkTypes") or [],
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
    return {"id": task_id, "status": "pending"}


@router.get("/api/projects/{project}/operations/background/{task_id}")
async def background_status(project: str, task_id: str, request: Request) -> dict[str, Any]:
    current_user(request)
    task = request.app.state.background_operations.get(task_id)
    if task is None or task["projectName"] != project:
        raise ApiError(404, f"Background operation '{task_id}' not found")
    return task


# -- REST entities ----------------------------------------------------------------------------
def _kind(plural: str) -> str:
    kind = ops.entity_type_from_plural(plural)
    if kind is None:
        raise ApiError(404, f"Unknown entity type '{plural}'")
    return kind


@router.get("/api/projects/{project}/{plural}/{entity_id}")
async def get_entity(project: str, plural: str, entity_id: str,
                     request: Request) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    _project(store, project)
    kind = _kind(plural)
    entity = store.get(kind, entity_id, project)
    if entity is None:
        raise ApiError(404, f"{kind.capitalize()} '{entity_id}' not found")
    return {**entity, "attrib": {**attribute_defaults(kind), **(entity.get("attrib") or {})}}


@router.post("/api/projects/{project}/{plural}", status_code=201)
async def create_entity(project: str, plural: str, request: Request) -> JSONResponse:
    user = current_user(request)
    store = _store(request)
    _project(store, project)
    kind = _kind(plural)
    body = await read_json(request)
    try:
        with store.transaction():
            entity = ops.create_entity(store, project, kind, body, body.get("id"), user["name"])
    except ops.OperationError as exc:
        raise ApiError(exc.status, exc.detail) from None
    return JSONResponse({"id": entity["id"]}, status_code=201)


@router.patch("/api/projects/{project}/{plural}/{entity_id}")
async def update_entity(project: str, plural: str, entity_id: str,
                        request: Request) -> Response:
    current_user(request)
    store = _store(request)
    _project(store, project)
    kind = _kind(plural)
    body = await read_json(request)
    try:
        with store.transaction():
            ops.update_entity(store, project, kind, entity_id, body)
    except ops.OperationError as exc:
        raise ApiError(exc.status, exc.detail) from None
    return Response(status_code=204)


@router.delete("/api/projects/{project}/{plural}/{entity_id}")
async def delete_entity(project: str, plural: str, entity_id: str,
                        request: Request) -> Response:
    current_user(request)
    store = _store(request)
    _project(store, project)
    kind = _kind(plural)
    force = request.query_params.get("force") in {"true", "1"}
    try:
        with store.transaction():
            ops.delete_entity(store, project, kind, entity_id, force=force)
    except ops.OperationError as exc:
        raise ApiError(exc.status, exc.detail) from None
    return Response(status_code=204)
