"""Add-on package zips: safe reading of uploads, installing them, building them from folders."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import posixpath
import stat
import zipfile
from pathlib import Path
from typing import Any

from ayon_launcher.localserver.store import Store, now_iso


class PackageError(ValueError):
    """An uploaded archive is unsafe or not an add-on package (answered with 400)."""


def _check_member_name(name: str) -> None:
    if not name or "\x00" in name:
        raise PackageError("Archive has an empty or invalid member name")
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise PackageError(f"Archive member has an absolute path: {name!r}")
    if ".." in normalized.split("/"):
        raise PackageError(f"Archive member escapes the target folder: {name!r}")


def check_zip_safe(zf: zipfile.ZipFile) -> None:
    """Reject path traversal (``..``), absolute paths and symbolic links."""
    for info in zf.infolist():
        _check_member_name(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise PackageError(f"Archive member is a symbolic link: {info.filename!r}")


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PackageError("Upload is not a valid zip archive") from None
    check_zip_safe(zf)
    return zf


def read_package_info(source: str) -> dict[str, str]:
    """Read ``name``, ``version``, ``client_dir``, ``title`` from package.py without running it."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise PackageError(f"package.py is not valid Python: {exc.msg}") from None
    values: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                values[target.id] = node.value.value
    for key in ("name", "version"):
        if not values.get(key):
            raise PackageError(f"package.py does not define '{key}'")
    for key in ("name", "version"):
        if "/" in values[key] or "\\" in values[key] or values[key] in {".", ".."}:
            raise PackageError(f"package.py has an invalid {key}: {values[key]!r}")
    return values


_COMPATIBILITY = {"ayon_server_version": "serverVersion",
                  "ayon_launcher_version": "launcherVersion",
                  "ayon_required_addons": "requiredAddons",
                  "ayon_soft_required_addons": "softRequiredAddons",
                  "ayon_compatible_addons": "compatibleAddons"}


def read_compatibility(source: str) -> dict[str, Any]:
    """The compatibility a package.py declares (``ayon_launcher_version = ">=1.0.0"``,
    ``ayon_required_addons = {"core": ">=1.0.0"}``, ...), read as literals, never run."""
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in _COMPATIBILITY:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                raise PackageError(f"package.py: {node.targets[0].id} is not a literal") \
                    from None
            key = _COMPATIBILITY[node.targets[0].id]
            ok = isinstance(value, str) if key.endswith("Version") else (
                isinstance(value, dict)
                and all(isinstance(v, str | None) for v in value.values()))
            if value is not None and not ok:
                raise PackageError(f"package.py: {node.targets[0].id} has the wrong type")
            values[key] = value
    return values


def _root_prefix(zf: zipfile.ZipFile) -> str:
    names = zf.namelist()
    if "package.py" in names:
        return ""
    candidates = [n for n in names if n.count("/") == 1 and n.endswith("/package.py")]
    if len(candidates) == 1:
        return candidates[0][: -len("package.py")]
    raise PackageError("Archive has no package.py at its top level")


def _build_client_zip(zf: zipfile.ZipFile, prefix: str) -> bytes | None:
    """client.zip of the package: ``private/client.zip`` or the zipped ``client/`` folder."""
    names = set(zf.namelist())
    private = prefix + "private/client.zip"
    if private in names:
        data = zf.read(private)
        open_zip(data).close()  # the inner archive must be just as safe
        return data
    client_prefix = prefix + "client/"
    members = [i for i in zf.infolist() if i.filename.startswith(client_prefix)
               and not i.is_dir() and i.filename != client_prefix]
    if not members:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in sorted(members, key=lambda i: i.filename):
            if "__pycache__" in info.filename.split("/"):
                continue
            member = zipfile.ZipInfo(info.filename[len(client_prefix):], date_time=info.date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            out.writestr(member, zf.read(info))
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _json_member(zf: zipfile.ZipFile, name: str) -> dict[str, Any]:
    if name not in zf.namelist():
        return {}
    try:
        data = json.loads(zf.read(name))
    except ValueError:
        raise PackageError(f"{posixpath.basename(name)} is not valid JSON") from None
    if not isinstance(data, dict):
        raise PackageError(f"{posixpath.basename(name)} must hold a JSON object")
    return data


def install_addon_package(store: Store, data: bytes) -> dict[str, Any]:
    """Validate and install an add-on package zip; returns ``{"name", "version"}``."""
    with open_zip(data) as zf:
        prefix = _root_prefix(zf)
        source = zf.read(prefix + "package.py").decode("utf-8", "replace")
        info = read_package_info(source)
        compatibility = read_compatibility(source)
        client = _build_client_zip(zf, prefix)
        settings = _json_member(zf, prefix + "settings.json")
        project_settings = _json_member(zf, prefix + "project_settings.json")
    name, version = info["name"], info["version"]
    record: dict[str, Any] = {
        "name": name,
        "version": version,
        "title": info.get("title") or name.replace("_", " ").title(),
        "description": info.get("description", ""),
        "clientDir": info.get("client_dir") or None,
        "settings": settings,
        "projectSettings": project_settings,
        "createdAt": now_iso(),
        "hasClient": client is not None,
        "compatibility": compatibility,
    }
    if client is not None:
        _atomic_write(store.addon_dir(name, version) / "client.zip", client)
        record.update(
            checksum=hashlib.sha256(client).hexdigest(),
            checksumAlgorithm="sha256",
            size=len(client),
        )
    store.put("addon", f"{name}/{version}", record)
    return {"name": name, "version": version}


def build_addon_package(src_dir: Path, version: str | None = None) -> bytes:
    """Zip an add-on source folder (package.py, client/, settings JSON) into a package.

    With ``version`` the package (and any ``client/**/version.py``) is rewritten to it, so a
    second version of a demo add-on can be made from one folder.
    """
    import re

    src_dir = Path(src_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(src_dir.rglob("*")):
            rel = path.relative_to(src_dir).as_posix()
            if path.is_dir() or "__pycache__" in rel.split("/") or path.suffix == ".pyc":
                continue
            if path.is_symlink():
                continue
            data = path.read_bytes()
            if version and (rel == "package.py"
                            or (rel.startswith("client/") and path.name == "version.py")):
                text = data.decode("utf-8")
                text = re.sub(r'^(\s*(?:version|__version__)\s*=\s*)["\'][^"\']*["\']',
                              rf'\g<1>"{version}"', text, flags=re.M)
                data = text.encode("utf-8")
            # Fixed timestamps keep the archive (and so its checksum) reproducible.
            info = zipfile.ZipInfo(rel, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    return buffer.getvalue()
