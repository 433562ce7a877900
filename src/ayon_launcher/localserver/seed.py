"""Demo seed: users, the demo project, demo add-ons, a dependency package and two bundles."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

from ayon_launcher import __version__
from ayon_launcher.bootstrapper.selfupdate.identity import installer_version
from ayon_launcher.localserver.addon_packages import (
    PackageError,
    build_addon_package,
    install_addon_package,
)
from ayon_launcher.localserver.bundles import create_bundle
from ayon_launcher.localserver.store import Store, new_id, now_iso
from ayon_launcher.support.log import register_secret

log = logging.getLogger("ayon_launcher.localserver")

ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin"
SERVICE_USER = "service"
_KEY_FILE = "service_api_key.txt"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def ensure_users(store: Store) -> dict[str, Any]:
    """Create the admin and the service user (with an API key) unless they exist."""
    key_file = store.data_dir / _KEY_FILE
    if store.get("user", ADMIN_USER) is None:
        store.create_user(ADMIN_USER, ADMIN_PASSWORD, is_admin=True, full_name="Administrator")
    key = key_file.read_text(encoding="utf-8").strip() if key_file.exists() else ""
    if store.get("user", SERVICE_USER) is None or not key or store.user_for_api_key(key) is None:
        if store.get("user", SERVICE_USER) is None:
            store.create_user(SERVICE_USER, None, is_service=True, full_name="Service")
        key = store.create_api_key(SERVICE_USER)
        # The key is kept beside the database so `ayon server --demo` can print it again.
        _write_private(key_file, key)
    register_secret(key)
    return {"admin_user": ADMIN_USER, "admin_password": ADMIN_PASSWORD, "service_api_key": key}


DEMO_PROJECT = "demo_Commercial"
DEMO_ADDONS_DIR = Path(__file__).resolve().parent / "demo" / "addons"
PRODUCTION_BUNDLE = "demo_production"
STAGING_BUNDLE = "demo_staging"
STAGING_VERSIONS = {"demo_tools": "1.1.0"}

FOLDER_TYPES = ["Folder", "Asset", "Sequence", "Shot", "Library"]
TASK_TYPES = {  # name -> short name
    "Generic": "gener", "Modeling": "mdl", "Rigging": "rig", "Animation": "anim",
    "Lookdev": "look", "Compositing": "comp",
}
# path -> (folder type, tasks as (name, type))
DEMO_HIERARCHY: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "assets": ("Library", []),
    "assets/characters": ("Folder", []),
    "assets/characters/robot": ("Asset", [("modeling", "Modeling"), ("rigging", "Rigging"),
                                          ("lookdev", "Lookdev")]),
    "assets/props": ("Folder", []),
    "assets/props/chair": ("Asset", [("modeling", "Modeling"), ("lookdev", "Lookdev")]),
    "shots": ("Folder", []),
    "shots/sq01": ("Sequence", []),
    "shots/sq01/sh010": ("Shot", [("animation", "Animation"), ("compositing", "Compositing")]),
    "shots/sq01/sh020": ("Shot", [("animation", "Animation"), ("compositing", "Compositing")]),
}


def platform_name() -> str:
    return {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")


def demo_templates() -> dict[str, Any]:
    """Anatomy templates of the demo project as a real project keeps them in
    ``config["templates"]``: shared values under ``common`` (referenced as ``{@version}``),
    named templates per category; empty categories are left out."""
    publish_dir = ("{root[work]}/{project[name]}/{hierarchy}/{folder[name]}"
                   "/publish/{product[type]}/{product[name]}")
    return {
        "common": {
            "version_padding": 3,
            "version": "v{version:0>{@version_padding}}",
            "frame_padding": 4,
            "frame": "{frame:0>{@frame_padding}}",
        },
        "work": {
            "default": {
                "directory": "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}"
                             "/work/{task[name]}",
                "file": "{project[code]}_{folder[name]}_{task[name]}_{@version}<_{comment}>.{ext}",
            }
        },
        "publish": {
            "default": {
                "directory": publish_dir + "/{@version}",
                "file": "{project[code]}_{folder[name]}_{product[name]}_{@version}"
                        "<_{output}><.{@frame}><_{udim}>.{ext}",
            }
        },
        "hero": {
            "default": {
                "directory": publish_dir + "/hero",
                "file": "{project[code]}_{folder[name]}_{product[name]}_hero<_{output}>"
                        "<.{@frame}><_{udim}>.{ext}",
            }
        },
    }


def create_project(store: Store, name: str, code: str, roots_dir: Path) -> dict[str, Any]:
    """Create a project with the demo anatomy; its work root points into ``roots_dir``."""
    from ayon_launcher.localserver.attributes import attribute_defaults

    root = roots_dir.as_posix()
    project = {
        "name": name,
        "code": code,
        "library": False,
        "active": True,
        "folderTypes": [{"name": t, "shortName": t.lower()[:4], "color": "#cccccc",
                         "icon": "folder"} for t in FOLDER_TYPES],
        "taskTypes": [{"name": n, "shortName": s, "color": "#5bc0de", "icon": "task_alt"}
                      for n, s in TASK_TYPES.items()],
        "linkTypes": [],
        "statuses": [
            {"name": "Not ready", "shortName": "NRD", "state": "not_started",
             "icon": "fiber_new", "color": "#434a56", "scope": ["folder", "product", "task"]},
            {"name": "In progress", "shortName": "PRG", "state": "in_progress",
             "icon": "play_arrow", "color": "#3498db", "scope": ["folder", "task"]},
            {"name": "Approved", "shortName": "APP", "state": "done", "icon": "task_alt",
             "color": "#00f0b4", "scope": ["folder", "product", "version", "task"]},
        ],
        "tags": [],
        "config": {
            "roots": {"work": {"windows": root, "linux": root, "darwin": root}},
            "templates": demo_templates(),
            "entityNaming": {},
            "productBaseTypes": {"definitions": [],
                                 "default": {"color": "#cccccc", "icon": "deployed_code"}},
        },
        "attrib": {**attribute_defaults("project"), "fps": 25.0, "frameStart": 1001,
                   "frameEnd": 1100},
        "ownAttrib": ["fps", "frameStart", "frameEnd"],
        "data": {},
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
    }
    store.put("project", name, project)
    return project


def _seed_project(store: Store) -> None:
    create_project(store, DEMO_PROJECT, "demo", store.projects_dir)
    ids: dict[str, str] = {}
    for path, (folder_type, tasks) in DEMO_HIERARCHY.items():
        parent_path, _, folder_name = path.rpartition("/")
        folder_id = ids[path] = new_id()
        store.put("folder", folder_id, {
            "id": folder_id, "name": folder_name, "label": None, "folderType": folder_type,
            "parentId": ids.get(parent_path), "path": "/" + path, "active": True,
            "thumbnailId": None, "data": {}, "status": "Not ready", "tags": [], "attrib": {},
            "createdAt": now_iso(), "updatedAt": now_iso(),
        }, project=DEMO_PROJECT)
        for task_name, task_type in tasks:
            task_id = new_id()
            store.put("task", task_id, {
                "id": task_id, "name": task_name, "label": None, "taskType": task_type,
                "folderId": folder_id, "active": True, "thumbnailId": None, "assignees": [],
                "data": {}, "status": "Not ready", "tags": [], "attrib": {},
                "createdAt": now_iso(), "updatedAt": now_iso(),
            }, project=DEMO_PROJECT)


def demo_addon_folders() -> list[Path]:
    """Every demo add-on source folder (a folder holding package.py)."""
    if not DEMO_ADDONS_DIR.is_dir():
        return []
    return sorted(p for p in DEMO_ADDONS_DIR.iterdir() if (p / "package.py").is_file())


def _seed_addons(store: Store) -> tuple[dict[str, str], dict[str, str]]:
    """Install every demo add-on (and the staging versions); returns both version maps."""
    production: dict[str, str] = {}
    staging: dict[str, str] = {}
    for folder in demo_addon_folders():
        try:
            result = install_addon_package(store, build_addon_package(folder))
        except PackageError as exc:
            log.warning("Skipping demo add-on %s: %s", folder.name, exc)
            continue
        production[result["name"]] = staging[result["name"]] = result["version"]
        other = STAGING_VERSIONS.get(result["name"])
        if other:
            install_addon_package(store, build_addon_package(folder, version=other))
            staging[result["name"]] = other
    return production, staging


def build_dependency_package() -> bytes:
    """A small pure-python dependency package: ``dependencies/ayon_demo_deps``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in (
            ("dependencies/ayon_demo_deps/__init__.py",
             '"""Demo dependency shipped in the demo dependency package."""\n\n'
             '__version__ = "1.0.0"\n\n\ndef answer() -> int:\n    return 42\n'),
        ):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            out.writestr(info, text)
    return buffer.getvalue()


def add_dependency_package(store: Store, filename: str, data: bytes,
                           platform: str | None = None) -> dict[str, Any]:
    """Store a dependency package file and its metadata as an upload would."""
    path = store.dependency_package_path(filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    # The manifest fields of the real server (``POST /api/desktop/dependencyPackages``).
    record = {
        "filename": filename,
        "platform": platform or platform_name(),
        "size": len(data),
        "checksum": hashlib.sha256(data).hexdigest(),
        "checksumAlgorithm": "sha256",
        "sources": [{"type": "server", "filename": filename}],
        "installerVersion": __version__,
        "sourceAddons": {},
        "pythonModules": {"ayon_demo_deps": "1.0.0"},
    }
    store.put("dependency_package", filename, record)
    return record


def seed_demo(store: Store) -> dict[str, Any]:
    """Seed the demo data when the store has none; always returns the credentials."""
    credentials = ensure_users(store)
    if store.get("meta", "demo_seeded") is not None:
        return credentials
    _seed_project(store)
    production, staging = _seed_addons(store)
    filename = f"demo_dependencies_{platform_name()}.zip"
    add_dependency_package(store, filename, build_dependency_package())
    packages = {platform_name(): filename}
    create_bundle(store, {"name": PRODUCTION_BUNDLE, "addons": production,
                          "dependencyPackages": packages, "isProduction": True,
                          "installerVersion": installer_version()})
    create_bundle(store, {"name": STAGING_BUNDLE, "addons": staging,
                          "dependencyPackages": packages, "isStaging": True,
                          "installerVersion": installer_version()})
    store.put("meta", "demo_seeded", {"at": now_iso()})
    return credentials
