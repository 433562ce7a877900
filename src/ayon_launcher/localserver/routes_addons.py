"""Bundles, add-ons (install, list, client download), dependency packages, installers, settings."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ayon_launcher.localserver import bundles as bundles_module
from ayon_launcher.localserver.addon_packages import PackageError, install_addon_package
from ayon_launcher.localserver.app import (
    ApiError,
    current_user,
    query_flag,
    read_json,
    require_admin,
    validation_error,
)
from ayon_launcher.localserver.store import Store, new_id

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
    return bundles_module.bundles_response(_store(request), query_flag(request, "archived"))


@router.post("/api/bundles", status_code=201)
async def create_bundle(request: Request) -> Response:
    require_admin(request, "create bundles")
    body = await read_json(request)
    _bundle_call(bundles_module.create_bundle, _store(request), body, query_flag(request, "force"))
    return Response(status_code=201)


@router.post("/api/bundles/check")
async def check_bundle(request: Request) -> dict[str, Any]:
    current_user(request)
    body = await read_json(request)
    if not isinstance(body.get("name"), str):
        raise validation_error(request, "name: field required")
    return bundles_module.check_bundle(_store(request), body)


@router.patch("/api/bundles/{name}", status_code=204)
async def update_bundle(name: str, request: Request) -> Response:
    require_admin(request, "patch bundles")
    body = await read_json(request)
    _bundle_call(bundles_module.update_bundle, _store(request), name, body,
                 query_flag(request, "force"))
    return Response(status_code=204)


@router.delete("/api/bundles/{name}", status_code=204)
async def delete_bundle(name: str, request: Request) -> Response:
    require_admin(request, "delete bundles")
    _store(request).delete("bundle", name)  # as the real server: no error for a missing one
    return Response(status_code=204)


# -- add-ons ---------------------------------------------------------------------------------
def _version_info(addon: dict[str, Any], details: bool) -> dict[str, Any]:
    """One version of ``GET /api/addons``, with the real server's fields: it gives no checksum
    and no size for client archives, and leaves out what is None."""
    info: dict[str, Any] = {
        "hasSettings": bool(addon.get("settings")),
        "hasSiteSettings": False,
        "frontendScopes": {},
        "isBroken": False,
        "projectCanOverrideAddonVersion": False,
    }
    if details and addon.get("hasClient"):
        info["clientSourceInfo"] = [{"type": "server", "filename": "client.zip"}]
    return info


@router.get("/api/addons")
async def list_addons(request: Request) -> dict[str, Any]:
    current_user(request)
    details = query_flag(request, "details")
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
            "versions": {},
            "description": record.get("description", ""),
            "productionVersion": production.get(name),
            "stagingVersion": staging.get(name),
            "addonType": "pipeline",
            "system": False,
            "projectCanOverrideAddonVersion": False,
        })
        entry["versions"][record["version"]] = _version_info(record, details)
    result = []
    for entry in sorted(addons.values(), key=lambda a: a["name"]):
        entry["versions"] = dict(sorted(entry["versions"].items(),
                                        key=lambda item: _version_key(item[0])))
        result.append({k: v for k, v in entry.items() if v is not None})
    return {"addons": result}


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("-")[0].split("+")[0].split("."):
        parts.append(int(piece) if piece.isdigit() else 0)
    return tuple(parts)


@router.post("/api/addons/install")
async def install_addon(request: Request) -> dict[str, Any]:
    require_admin(request, "install addons")
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
        install_addon_package(_store(request), data)
    except PackageError as exc:
        raise ApiError(400, str(exc)) from None
    return {"eventId": new_id()}


def _addon(store: Store, name: str, version: str) -> dict[str, Any]:
    addon = store.get("addon", f"{name}/{version}")
    if addon is None:
        if not any(a["name"] == name for a in store.list("addon")):
            raise ApiError(404, f"Addon {name} does not exist")
        raise ApiError(404, f"Addon {name} version {version} does not exist")
    return addon


@router.get("/addons/{name}/{version}/private/{path:path}")
async def addon_private_file(name: str, version: str, path: str,
                             request: Request) -> FileResponse:
    # Without /api, as the real server (and ayon_api.get_addon_url) has it.
    current_user(request)
    store = _store(request)
    addon = _addon(store, name, version)
    if not addon.get("hasClient"):
        raise ApiError(404, "Addon does not have a private directory")
    parts = path.split("/")
    if any(not part.strip() or part in {".", ".."} or "\\" in part for part in parts):
        raise ApiError(404, "Invalid file path")
    target = store.addon_dir(name, version).joinpath(*parts)
    if not target.is_file():
        raise ApiError(404, "File not found")
    return FileResponse(target)


@router.delete("/api/addons/{name}/{version}", status_code=204)
async def delete_addon_version(name: str, version: str, request: Request) -> Response:
    require_admin(request, "delete addons")
    store = _store(request)
    _addon(store, name, version)
    store.delete("addon", f"{name}/{version}")
    client = store.addon_dir(name, version) / "client.zip"
    if client.exists():
        client.unlink()
    return Response(status_code=204)


@router.delete("/api/addons/{name}", status_code=204)
async def delete_addon(name: str, request: Request) -> Response:
    require_admin(request, "delete addons")
    store = _store(request)
    found = [a for a in store.list("addon") if a["name"] == name]
    if not found:
        raise ApiError(404, f"Addon {name} does not exist")
    for addon in found:
        store.delete("addon", f"{name}/{addon['version']}")
    return Response(status_code=204)


# -- settings --------------------------------------------------------------------------------
def _variant(request: Request) -> str:
    return request.query_params.get("variant") or "production"


def _project_exists(store: Store, project: str) -> None:
    if store.get("project", project) is None:
        raise ApiError(404, f"Project {project} not found")


def _settings_addon(store: Store, name: str, version: str) -> dict[str, Any]:
    addon = store.get("addon", f"{name}/{version}")
    if addon is None:
        raise ApiError(404, f"Addon {name} {version} not found")
    return addon


@router.get("/api/addons/{name}/{version}/settings")
async def addon_studio_settings(name: str, version: str, request: Request) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    addon = _settings_addon(store, name, version)
    return bundles_module.studio_settings(store, addon, _variant(request))


@router.post("/api/addons/{name}/{version}/settings")
async def set_addon_studio_settings(name: str, version: str, request: Request) -> Response:
    require_admin(request)
    store = _store(request)
    _settings_addon(store, name, version)
    body = await read_json(request)
    bundles_module.set_settings_override(store, name, version, _variant(request), body)
    return Response(status_code=204)


@router.get("/api/addons/{name}/{version}/settings/{project}")
async def addon_project_settings(name: str, version: str, project: str,
                                 request: Request) -> dict[str, Any]:
    current_user(request)
    store = _store(request)
    addon = _settings_addon(store, name, version)
    _project_exists(store, project)
    return bundles_module.project_settings(store, addon, _variant(request), project)


@router.post("/api/addons/{name}/{version}/settings/{project}")
async def set_addon_project_settings(name: str, version: str, project: str,
                                     request: Request) -> Response:
    require_admin(request)
    store = _store(request)
    _settings_addon(store, name, version)
    _project_exists(store, project)
    body = await read_json(request)
    bundles_module.set_settings_override(store, name, version, _variant(request), body, project)
    return Response(status_code=204)


@router.get("/api/addons/{name}/{version}/siteSettings")
async def addon_site_settings(name: str, version: str, request: Request) -> dict[str, Any]:
    current_user(request)
    _settings_addon(_store(request), name, version)
    return {}


@router.get("/api/settings")
async def all_settings(request: Request) -> dict[str, Any]:
    """``GET /api/settings`` (what ``ayon_api.get_addons_settings`` reads), its fields as the
    real server gives them; no bundle is a 404 "Bundle not found"."""
    current_user(request)
    store = _store(request)
    params = request.query_params
    variant = params.get("variant") or "production"
    bundle = _bundle_call(bundles_module.resolve_bundle, store,
                          params.get("bundle_name") or None, variant)
    project = params.get("project_name") or None
    if project:
        _project_exists(store, project)
    addons = []
    for name, version in (bundle.get("addons") or {}).items():
        if not version:
            continue
        addon = store.get("addon", f"{name}/{version}")
        if addon is None:
            addons.append({"name": name, "version": version, "title": name, "settings": {},
                           "hasSettings": False, "hasProjectSettings": False,
                           "hasProjectSiteSettings": False, "hasSiteSettings": False,
                           "isBroken": False, "isProjectBundle": False})
            continue
        if project:
            values = bundles_module.project_settings(store, addon, variant, project)
        else:
            values = bundles_module.studio_settings(store, addon, variant)
        has = bool(addon.get("settings"))
        addons.append({"name": name, "version": version, "title": addon.get("title") or name,
                       "hasSettings": has, "hasProjectSettings": has,
                       "hasProjectSiteSettings": False, "hasSiteSettings": False,
                       "settings": values, "siteSettings": {}, "isBroken": False,
                       "isProjectBundle": False})
    addons.sort(key=lambda item: item["title"].lower())
    out: dict[str, Any] = {"bundleName": bundle["name"], "addons": addons,
                           "inheritedAddons": []}
    if project:
        out["projectName"] = project
    return out


# -- dependency packages and installers -------------------------------------------------------
_PACKAGE_FIELDS = {"filename", "platform", "size", "checksum", "checksumAlgorithm", "sources",
                   "pythonVersion", "distroShort"}
_KIND_FIELDS = {
    "dependency_package": {"installerVersion", "sourceAddons", "pythonModules"},
    "installer": {"version", "pythonModules", "runtimePythonModules"},
}
_REQUIRED = {"dependency_package": ("filename", "platform", "installerVersion"),
             "installer": ("filename", "platform", "version")}
_FILENAME_RE = re.compile(r"^[\w\-+._]+$")
_SOURCE_TYPES = {"server", "http", "filesystem"}


def _manifest(kind: str, body: dict[str, Any], request: Request) -> dict[str, Any]:
    """A package manifest as the real server keeps it: its known fields only, None left out,
    required fields and a file name without path checked (400 otherwise)."""
    invalid = validation_error(request, "the package manifest is not valid")
    for key in _REQUIRED[kind]:
        if not isinstance(body.get(key), str):
            raise invalid
    if not _FILENAME_RE.match(body["filename"]) or body["platform"] not in {
            "windows", "linux", "darwin"}:
        raise invalid
    if body.get("checksumAlgorithm") not in {None, "md5", "sha1", "sha256"}:
        raise invalid
    sources = body.get("sources") or []
    if not isinstance(sources, list) or not all(
            isinstance(x, dict) and x.get("type") in _SOURCE_TYPES for x in sources):
        raise invalid
    allowed = _PACKAGE_FIELDS | _KIND_FIELDS[kind]
    manifest = {k: v for k, v in body.items() if k in allowed and v is not None}
    manifest["sources"] = [{k: v for k, v in x.items() if v is not None} for x in sources]
    for key in ("sourceAddons", "pythonModules", "runtimePythonModules"):
        if key in _KIND_FIELDS[kind]:
            value = manifest.get(key) or {}
            manifest[key] = {k: v for k, v in value.items() if v is not None}
    return manifest


def _files_routes(kind: str, route: str, list_key: str, label: str,
                  path_of) -> None:  # noqa: ANN001 - small local factory
    """Manifest + upload + download routes shared by dependency packages and installers."""
    plural = "dependency packages" if kind == "dependency_package" else "installers"

    def manifest_of(store: Store, filename: str) -> dict[str, Any]:
        record = store.get(kind, filename)
        if record is None:
            raise ApiError(404, f"{label} {filename} not found")
        return record

    @router.get(f"/api/desktop/{route}", name=f"list_{kind}")
    async def list_items(request: Request) -> dict[str, Any]:
        current_user(request)
        items = _store(request).list(kind)
        platform_filter = request.query_params.get("platform")
        if platform_filter and kind == "installer":
            items = [i for i in items if i.get("platform") == platform_filter]
        return {list_key: items}

    @router.post(f"/api/desktop/{route}", status_code=201, name=f"create_{kind}")
    async def create_item(request: Request) -> dict[str, Any]:
        require_admin(request, f"save {plural}")
        manifest = _manifest(kind, await read_json(request), request)
        store = _store(request)
        force = query_flag(request, "force") or query_flag(request, "overwrite")
        if store.get(kind, manifest["filename"]) is not None and not force:
            raise ApiError(409, f"{label.capitalize()} {manifest['filename']} already exists")
        store.put(kind, manifest["filename"], manifest)
        return {"eventId": None}

    @router.patch(f"/api/desktop/{route}/{{filename}}", status_code=204,
                  name=f"update_{kind}")
    async def update_item(filename: str, request: Request) -> Response:
        require_admin(request, f"update {plural}")
        store = _store(request)
        record = manifest_of(store, filename)
        body = await read_json(request)
        sources = body.get("sources")
        if not isinstance(sources, list) or not all(
                isinstance(x, dict) and x.get("type") in _SOURCE_TYPES for x in sources):
            raise validation_error(request, "sources: not a valid list of sources")
        record["sources"] = [{k: v for k, v in x.items() if v is not None} for x in sources]
        store.put(kind, filename, record)
        return Response(status_code=204)

    @router.put(f"/api/desktop/{route}/{{filename}}", status_code=204, name=f"upload_{kind}")
    async def upload_item(filename: str, request: Request) -> Response:
        require_admin(request, f"upload {plural}")
        store = _store(request)
        manifest_of(store, filename)  # the real server wants the manifest first
        await _receive_file(request, path_of(store, _safe_filename(filename)))
        return Response(status_code=204)

    @router.get(f"/api/desktop/{route}/{{filename}}", name=f"download_{kind}")
    async def download_item(filename: str, request: Request) -> FileResponse:
        current_user(request)
        store = _store(request)
        if "/" in filename or filename in {".", ".."}:
            raise ApiError(404, "Invalid file path")
        path = path_of(store, _safe_filename(filename))
        if not path.is_file():
            raise ApiError(404, "File not found")
        return FileResponse(path, filename=filename)

    @router.delete(f"/api/desktop/{route}/{{filename}}", status_code=204,
                   name=f"delete_{kind}")
    async def delete_item(filename: str, request: Request) -> Response:
        require_admin(request, f"delete {plural}")
        store = _store(request)
        manifest_of(store, filename)
        path = path_of(store, _safe_filename(filename))
        if path.exists():
            path.unlink()
        store.delete(kind, filename)
        return Response(status_code=204)


_files_routes("dependency_package", "dependencyPackages", "packages", "Dependency package",
              lambda store, name: store.dependency_package_path(name))
_files_routes("installer", "installers", "installers", "Installer manifest",
              lambda store, name: store.installer_path(name))
