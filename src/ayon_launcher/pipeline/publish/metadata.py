"""The publish metadata JSON (as a farm job writes it): loading and structural checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ayon_launcher.support.errors import UsageError

# Keys accepted for the same value: the first is ours, the others are what older farm jobs
# (OpenPype/AYON submitters) write.
_PROJECT_KEYS = ("project", "projectName", "AYON_PROJECT_NAME")
_FOLDER_KEYS = ("folder", "folderPath", "asset", "AYON_FOLDER_PATH")
_TASK_KEYS = ("task", "taskName", "AYON_TASK_NAME")
_PRODUCT_NAME_KEYS = ("productName", "product", "subset")
_PRODUCT_TYPE_KEYS = ("productType", "family")
_FRAME_RE = re.compile(r"^(?P<head>.*?)(?P<frame>\d+)(?P<tail>\.[^.]+)$")


class MetadataError(UsageError):
    """The metadata file is missing, not JSON, or not shaped as a publish job."""


@dataclass
class PublishJob:
    """A parsed metadata file: the context, the instances and extra plug-in folders.

    ``instances`` are plain dicts (they become pyblish instance data) with absolute file
    paths: ``productName``, ``productType``, ``folderPath``, ``task``, ``families``,
    ``comment``, ``representations`` (``name``, ``ext``, ``files``, ``outputName``) and every
    other key the job gave, untouched.
    """

    path: Path
    project: str
    folder: str
    task: str
    instances: list[dict[str, Any]]
    comment: str = ""
    user: str | None = None
    plugin_paths: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def _where(path: Path, location: str) -> str:
    return f"{path}: {location}" if location else str(path)


def _pick(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in data:
            return data[key]
    # Farm jobs written by AYON keep the context in a "session" mapping.
    session = data.get("session")
    if isinstance(session, dict):
        for key in keys:
            if key in session:
                return session[key]
    return None


def _text(value: Any, path: Path, location: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MetadataError(f"{_where(path, location)} must be a non-empty string")
    return value.strip()


def _string_list(value: Any, path: Path, location: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise MetadataError(f"{_where(path, location)} must be a non-empty list of paths")
    for index, item in enumerate(value):
        _text(item, path, f"{location}[{index}]")
    return [item.strip() for item in value]


def _resolve(base: Path, name: str) -> str:
    candidate = Path(name).expanduser()
    return str(candidate if candidate.is_absolute() else (base / candidate))


def _representation(data: Any, path: Path, location: str, staging: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MetadataError(f"{_where(path, location)} must be an object")
    files = _string_list(data.get("files"), path, f"{location}.files")
    staging_dir = data.get("stagingDir")
    if staging_dir is not None:
        staging = Path(_resolve(staging, _text(staging_dir, path, f"{location}.stagingDir")))
    resolved = [_resolve(staging, name) for name in files]
    ext = data.get("ext")
    if ext is None:
        ext = Path(resolved[0]).suffix
    ext = _text(ext, path, f"{location}.ext").lstrip(".")
    name = _text(data.get("name", ext), path, f"{location}.name")
    result = {key: value for key, value in data.items() if key not in {"files", "stagingDir"}}
    result.update(name=name, ext=ext, files=resolved, stagingDir=str(staging))
    return result


def _representations_from_files(files: list[str]) -> list[dict[str, Any]]:
    """The ``files`` shorthand: one representation per file extension."""
    by_ext: dict[str, list[str]] = {}
    for item in files:
        by_ext.setdefault(Path(item).suffix.lstrip(".") or "bin", []).append(item)
    return [{"name": ext, "ext": ext, "files": group} for ext, group in by_ext.items()]


def _instance(data: Any, path: Path, location: str, job: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MetadataError(f"{_where(path, location)} must be an object")
    product_name = _text(_pick(data, _PRODUCT_NAME_KEYS), path, f"{location}.productName")
    product_type = _text(_pick(data, _PRODUCT_TYPE_KEYS), path, f"{location}.productType")
    staging = path.parent
    if data.get("stagingDir") is not None:
        staging = Path(_resolve(staging, _text(data["stagingDir"], path,
                                               f"{location}.stagingDir")))
    representations = data.get("representations")
    if representations is None:
        if data.get("files") is None:
            raise MetadataError(f"{_where(path, location)} needs 'representations' or 'files'")
        representations = _representations_from_files(
            _string_list(data["files"], path, f"{location}.files"))
    if not isinstance(representations, list) or not representations:
        raise MetadataError(f"{_where(path, location)}.representations must be a non-empty list")
    families = data.get("families", [])
    if not isinstance(families, list) or not all(isinstance(f, str) for f in families):
        raise MetadataError(f"{_where(path, location)}.families must be a list of strings")
    # The instance's own context (under any of the job level's keys), else the job's.
    folder = _pick(data, _FOLDER_KEYS)
    task = _pick(data, _TASK_KEYS)
    result = dict(data)
    result.update(
        productName=product_name,
        productType=product_type,
        folderPath=_text(job["folder"] if folder is None else folder, path,
                         f"{location}.folderPath"),
        task=_text(job["task"] if task is None else task, path, f"{location}.task"),
        families=list(families),
        comment=str(data.get("comment", job["comment"]) or ""),
        representations=[
            _representation(item, path, f"{location}.representations[{index}]", staging)
            for index, item in enumerate(representations)
        ],
    )
    result.pop("files", None)
    return result


def parse_metadata(data: Any, path: str | Path) -> PublishJob:
    """Check the shape of a metadata document; relative paths are taken from its folder."""
    path = Path(path).expanduser().absolute()
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: the metadata must be a JSON object")
    job = {
        "project": _text(_pick(data, _PROJECT_KEYS), path, "'project'"),
        "folder": _text(_pick(data, _FOLDER_KEYS), path, "'folder'"),
        "task": _text(_pick(data, _TASK_KEYS), path, "'task'"),
        "comment": data.get("comment") or "",
    }
    if not isinstance(job["comment"], str):
        raise MetadataError(f"{path}: 'comment' must be a string")
    user = data.get("user")
    if user is not None:
        user = _text(user, path, "'user'")
    plugin_paths = data.get("pluginPaths", data.get("plugin_paths", []))
    if not isinstance(plugin_paths, list) or not all(isinstance(p, str) for p in plugin_paths):
        raise MetadataError(f"{path}: 'pluginPaths' must be a list of folders")
    folders = [_resolve(path.parent, p) for p in plugin_paths]
    for folder in folders:
        if not Path(folder).is_dir():
            raise MetadataError(f"{path}: plug-in folder does not exist: {folder}")
    instances = data.get("instances")
    if not isinstance(instances, list) or not instances:
        raise MetadataError(f"{path}: 'instances' must be a non-empty list")
    return PublishJob(
        path=path,
        project=job["project"],
        folder=job["folder"],
        task=job["task"],
        comment=job["comment"],
        user=user,
        plugin_paths=folders,
        instances=[_instance(item, path, f"instances[{index}]", job)
                   for index, item in enumerate(instances)],
        raw=data,
    )


def load_metadata(path: str | Path) -> PublishJob:
    """Read and check a metadata file; every problem is one :class:`MetadataError` line."""
    target = Path(path).expanduser().absolute()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MetadataError(f"metadata file not found: {target}") from None
    except IsADirectoryError:
        raise MetadataError(f"metadata path is a folder, not a JSON file: {target}") from None
    except UnicodeDecodeError:
        raise MetadataError(f"{target}: not a UTF-8 text file") from None
    except OSError as exc:
        raise MetadataError(f"cannot read {target}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{target}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg}") from None
    except RecursionError:
        raise MetadataError(f"{target}: invalid JSON: nested too deeply") from None
    return parse_metadata(data, target)


def sequence_frame(file_name: str) -> tuple[str, int, str] | None:
    """Split ``name.1001.exr`` into (``name.``, 1001, ``.exr``); None without a frame number."""
    match = _FRAME_RE.match(Path(file_name).name)
    if not match:
        return None
    return match["head"], int(match["frame"]), match["tail"]
