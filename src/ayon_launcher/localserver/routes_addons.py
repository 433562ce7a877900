"""Bundles, add-ons (install, list, client download), dependency packages, installers, settings."""

from __future__ import annotations

import hashlib
import os
import platform as platform_module
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from . import bundles as bundles_module
from .addon_packages import PackageError, install_addon_package
from .app import ApiError, current_user, read_json, require_admin
from .store import Store, new_id, now_iso

router = APIRouter()

_FILENAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")


def _store(request: Request) -> Store:
    return request.app.state.store


def _safe_filename(filename: str) -> str:
    if not filename or filename in {".", ".."} or not set(filename) <= _FILENAME_CHARS:
        raise ApiError(400, f"Invalid file name: {filename!r}")
    return filename


def _bundle_call(func, *args):
    try:
        return func(*args)
    except bundles_module.BundleError as exc:
        raise ApiError(exc.status, str(exc)) from None


async def _receive_file(request: Request, target: Path) -> tuple[str, int]:
    """Stream the raw request body to ``target`` (atomically); returns (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{new_id()}.part")
    hasher = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as handle:
            async for chunk in request.stream():
                hasher.update(chunk)
                size += len(chunk)
                handle.write(chunk)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return hasher.hexdigest(), size


# -- bundles ---------------------------------------------------------------------------------
@router.get("/api/bundles")
async def list_bundles(request: Request) -> dict[str, Any]:
    current_user(request)
    return bundles_module.bundles_response(_store(request))


@router.post("/api/bundles", status_code=201)
async def create_bundle(request: Request) -> Response:
    require_admin(request)
    body = await read_json(request)
    bundle = _bundle_call(bundles_module.create_bundle, _store(request), body)
    return JSONResponse({"name": bundle["name"]}, status_code=201)


@router.post("/api/bundles/check")
async def check_bundle(request: Request) -> dict[str, Any]:
    current_user(request)
    body = await read_json(request)
    store = _store(request)
    issues = []
    for name, version in (body.get("addons") or {}).items():
        if version and store.get("addon", f"{name}/{version}") is None:
            issues.append({"severity": "error", "addon": name,
                           "message": f"Add-on {name} {version} is not installed"})
    return {"success": not issues, "issues": issues}


@router.patch("/api/bundles/{name}")
async def update_bundle(name: str, request: Request) -> Response:
    require_admin(request)
    body = await read_json(request)
    _bundle_call(bundles_module.update_bundle, _store(request), name, body)
    return Response(status_code=204)


@router.delete("/api/bundles/{name}")
async def delete_bundle(name: str, request: Request) -> Response:
    require_admin(request)
    if not _store(request).delete("bundle", name):
        raise ApiError(404, f"Bundle '{name}' not found")
    return Response(status_code=204)


# -- add-ons ---------------------------------------------------------------------------------
def _version_info(addon: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "hasSettings": True,
        "hasSiteSettings": False,
        "frontendScopes": {},
        "clientPyproject": None,
        "clientSourceInfo": [],
        "services": {},
        "isBroken": False,
        "reason": None,
        "projectCanOverrideAddonVersion": False,
    }
    if addon.get("hasClient"):
        info["clientSourceInfo"] = [{"type": "server", "filename": "client.zip"}]
        info["checksum"] = addon["checksum"]
        info["checksumAlgorithm"] = addon.get("checksumAlgorithm", "sha256")
        info["size"] = addon.get("size")
    return info


@router.get("/api/addons")
async def list_addons(request: Request, details: bool = False) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    listing = bundles_module.bundles_response(store)
    by_name = {b["name"]: b for b in listing["bundles"]}
    production = by_name.get(listing["productionBundle"] or "", {}).get("addons", {})
    staging = by_name.get(listing["stagingBundle"] or "", {}).get("addons", {})
    addons: dict[str, dict[str, Any]] = {}
    for record in store.list("addon"):
        name = record["name"]
        entry = addons.setdefault(name, {
            "name": name,
            "title": record.get("title") or name,
            "description": record.get("description", ""),
            "productionVersion": production.get(name),
            "stagingVersion": staging.get(name),
            "versions": {},
        })
        entry["versions"][record["version"]] = _version_info(record) if details else {
            "hasSettings": True, "hasSiteSettings": False,
        }
    return {"addons": sorted(addons.values(), key=lambda a: a["name"])}


@router.post("/api/addons/install")
async def install_addon(request: Request) -> dict[str, Any]:
    require_admin(request)
    data = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = next((v for v in form.values() if hasattr(v, "read")), None)
        if upload is None:
            raise ApiError(400, "No file in the upload")
        data = await upload.read()
    if not data:
        raise ApiError(400, "Empty upload")
    try:
        result = install_addon_package(_store(request), data)
    except PackageError as exc:
        raise ApiError(400, str(exc)) from None
    return {"eventId": new_id(), **result}


def _addon(store: Store, name: str, version: str) -> dict[str, Any]:
    addon = store.get("addon", f"{name}/{version}")
    if addon is None:
        raise ApiError(404, f"Add-on {name} {version} not found")
    return addon


@router.get("/addons/{name}/{version}/private/{filename}")
async def addon_private_file(name: str, version: str, filename: str,
                             request: Request) -> FileResponse:
    current_user(request)
    store = _store(request)
    _addon(store, name, version)
    path = store.addon_dir(name, version) / _safe_filename(filename)
    if not path.is_file():
        raise ApiError(404, f"File '{filename}' of add-on {name} {version} not found")
    return FileResponse(path, media_type="application/octet-stream", filename=filename)


@router.delete("/api/addons/{name}/{version}")
async def delete_addon_version(name: str, version: str, request: Request) -> Response:
    require_admin(request)
    store = _store(request)
    if not store.delete("addon", f"{name}/{version}"):
        raise ApiError(404, f"Add-on {name} {version} not found")
    client = store.addon_dir(name, version) / "client.zip"
    if client.exists():
        client.unlink()
    return Response(status_code=204)


@router.delete("/api/addons/{name}")
async def delete_addon(name: str, request: Request) -> Response:
    require_admin(request)
    store = _store(request)
    found = [a for a in store.list("addon") if a["name"] == name]
    if not found:
        raise ApiError(404, f"Add-on {name} not found")
    for addon in found:
        store.delete("addon", f"{name}/{addon['version']}")
    return Response(status_code=204)


# -- settings --------------------------------------------------------------------------------
def _variant(request: Request) -> str:
    return request.query_params.get("variant") or "production"


def _project_exists(store: Store, project: str) -> None:
    if store.get("project", project) is None:
        raise ApiError(404, f"Project '{project}' not found")


@router.get("/api/addons/{name}/{version}/settings")
async def addon_studio_settings(name: str, version: str, request: Request) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    return bundles_module.studio_settings(store, _addon(store, name, version), _variant(request))


@router.post("/api/addons/{name}/{version}/settings")
async def set_addon_studio_settings(name: str, version: str, request: Request) -> Response:
    require_admin(request)
    store = _store(request)
    _addon(store, name, version)
    body = await read_json(request)
    bundles_module.set_settings_override(store, name, version, _variant(request), body)
    return Response(status_code=204)


@router.get("/api/addons/{name}/{version}/settings/{project}")
async def addon_project_settings(name: str, version: str, project: str,
                                 request: Request) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    addon = _addon(store, name, version)
    _project_exists(store, project)
    return bundles_module.project_settings(store, addon, _variant(request), project)


@router.post("/api/addons/{name}/{version}/settings/{project}")
async def set_addon_project_settings(name: str, version: str, project: str,
                                     request: Request) -> Response:
    require_admin(request)
    store = _store(request)
    _addon(store, name, version)
    _project_exists(store, project)
    body = await read_json(request)
    bundles_module.set_settings_override(store, name, version, _variant(request), body, project)
    return Response(status_code=204)


@router.get("/api/addons/{name}/{version}/siteSettings")
async def addon_site_settings(name: str, version: str, request: Request) -> dict[str, Any]:
    current_user(request)
    _addon(_store(request), name, version)
    return {}


@router.get("/api/settings")
async def all_settings(request: Request) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    params = request.query_params
    variant = params.get("variant") or "production"
    project = params.get("project_name") or params.get("project") or None
    if project:
        _project_exists(store, project)
    bundle = _bundle_call(bundles_module.resolve_bundle, store,
                          params.get("bundle_name") or None, variant)
    if bundle is None:
        return {"bundleName": None, "addons": [], "inheritedAddons": []}
    if bundle.get("isDev") and not params.get("variant"):
        variant = bundle["name"]
    addons = []
    for name, version in sorted((bundle.get("addons") or {}).items()):
        if not version:
            continue
        addon = store.get("addon", f"{name}/{version}")
        if addon is None:
            continue
        if project:
            values = bundles_module.project_settings(store, addon, variant, project)
        else:
            values = bundles_module.studio_settings(store, addon, variant)
        addons.append({"name": name, "version": version, "settings": values,
                       "siteSettings": {}})
    return {"bundleName": bundle["name"], "addons": addons, "inheritedAddons": []}


# -- dependency packages and installers -------------------------------------------------------
def _files_routes(kind: str, route: str, list_key: str,
                  path_of) -> None:  # noqa: ANN001 - small local factory
    """Metadata + upload + download routes shared by dependency packages and installers."""

    @router.get(f"/api/desktop/{route}", name=f"list_{kind}")
    async def list_items(request: Request) -> dict[str, Any]:
        current_user(request)
        items = _store(request).list(kind)
        platform_filter = request.query_params.get("platform")
        if platform_filter:
            items = [i for i in items if i.get("platform") == platform_filter]
        return {list_key: items}

    @router.post(f"/api/desktop/{route}", status_code=201, name=f"create_{kind}")
    async def create_item(request: Request) -> Response:
        require_admin(request)
        body = await read_json(request)
        filename = body.get("filename")
        if not isinstance(filename, str):
            raise ApiError(422, "'filename' is required")
        _safe_filename(filename)
        store = _store(request)
        record = {
            "filename": filename,
            "platform": body.get("platform") or platform_module.system().lower(),
            "checksum": body.get("checksum"),
            "checksumAlgorithm": body.get("checksumAlgorithm") or "sha256",
            "size": body.get("size"),
            "sources": body.get("sources") or [{"type": "server", "filename": filename}],
            "createdAt": now_iso(),
        }
        for key, value in body.items():
            record.setdefault(key, value)
        store.put(kind, filename, record)
        return JSONResponse({"filename": filename}, status_code=201)

    @router.patch(f"/api/desktop/{route}/{{filename}}", name=f"update_{kind}")
    async def update_item(filename: str, request: Request) -> Response:
        require_admin(request)
        store = _store(request)
        record = store.get(kind, filename)
        if record is None:
            raise ApiError(404, f"'{filename}' not found")
        body = await read_json(request)
        if "sources" in body:
            record["sources"] = body["sources"]
        store.put(kind, filename, record)
        return Response(status_code=204)

    @router.put(f"/api/desktop/{route}/{{filename}}", name=f"upload_{kind}")
    async def upload_item(filename: str, request: Request) -> Response:
        require_admin(request)
        store = _store(request)
        target = path_of(store, _safe_filename(filename))
        record = store.get(kind, filename)
        digest, size = await _receive_file(request, target)
        if record is not None and record.get("checksum") and \
                record.get("checksumAlgorithm", "sha256") == "sha256" and \
                record["checksum"] != digest:
            target.unlink()
            raise ApiError(400, f"Checksum of uploaded '{filename}' does not match")
        if record is None:
            record = {"filename": filename, "platform": platform_module.system().lower(),
                      "checksum": digest, "checksumAlgorithm": "sha256",
                      "sources": [{"type": "server", "filename": filename}],
                      "createdAt": now_iso()}
        record["size"] = size
        store.put(kind, filename, record)
        return Response(status_code=204)

    @router.get(f"/api/desktop/{route}/{{filename}}", name=f"download_{kind}")
    async def download_item(filename: str, request: Request) -> FileResponse:
        current_user(request)
        store = _store(request)
        path = path_of(store, _safe_filename(filename))
        if store.get(kind, filename) is None or not path.is_file():
            raise ApiError(404, f"'{filename}' not found")
        return FileResponse(path, media_type="application/octet-stream", filename=filename)

    @router.delete(f"/api/desktop/{route}/{{filename}}", name=f"delete_{kind}")
    async def delete_item(filename: str, request: Request) -> Response:
        require_admin(request)
        store = _store(request)
        if not store.delete(kind, filename):
            raise ApiError(404, f"'{filename}' not found")
        path = path_of(store, _safe_filename(filename))
        if path.exists():
            path.unlink()
        return Response(status_code=204)


_files_routes("dependency_package", "dependencyPackages", "packages",
              lambda store, name: store.dependency_package_path(name))
_files_routes("installer", "installers", "installers",
              lambda store, name: store.installer_path(name))
