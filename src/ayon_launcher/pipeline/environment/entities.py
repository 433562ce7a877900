"""Projects, folders and tasks as the context commands need them, plus strict look-ups.

``ContextSource`` is the small data interface the context dialog and ``extractenvironments``
use; ``ServerContextSource`` implements it with an ``ayon_api.ServerAPI``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ayon_launcher.pipeline.environment.applications import suggest
from ayon_launcher.support.errors import UsageError

if TYPE_CHECKING:
    import ayon_api


@dataclass(frozen=True)
class FolderInfo:
    """A folder of a project's hierarchy."""

    id: str
    name: str
    path: str  # "/assets/characters/robot"
    parent_id: str | None = None
    folder_type: str = ""
    label: str | None = None
    attrib: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class TaskInfo:
    """A task of a folder."""

    id: str
    name: str
    task_type: str = ""
    folder_id: str = ""
    label: str | None = None
    attrib: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class ContextSource(Protocol):
    """Where the context dialog and look-ups read projects, folders and tasks from."""

    def project_names(self) -> list[str]: ...

    def folders(self, project_name: str) -> list[FolderInfo]: ...

    def tasks(self, project_name: str, folder_id: str) -> list[TaskInfo]: ...


class ServerContextSource:
    """``ContextSource`` backed by the AYON server (REST + GraphQL through ayon_api)."""

    def __init__(self, api: ayon_api.ServerAPI) -> None:
        self.api = api
        # One command looks projects and hierarchies up more than once (a preset checked,
        # then the dialog): query each once.
        self._project_names: list[str] | None = None
        self._folders: dict[str, list[FolderInfo]] = {}

    def project_names(self) -> list[str]:
        if self._project_names is None:
            self._project_names = sorted(self.api.get_project_names(active=True))
        return list(self._project_names)

    def folders(self, project_name: str) -> list[FolderInfo]:
        if project_name not in self._folders:
            self._folders[project_name] = self._query_folders(project_name)
        return list(self._folders[project_name])

    def _query_folders(self, project_name: str) -> list[FolderInfo]:
        fields = {"id", "name", "path", "parentId", "folderType", "label", "attrib"}
        return [
            FolderInfo(id=f["id"], name=f["name"], path=_path(f), parent_id=f.get("parentId"),
                       folder_type=f.get("folderType") or "", label=f.get("label"),
                       attrib=dict(f.get("attrib") or {}))
            for f in self.api.get_folders(project_name, fields=fields)
        ]

    def tasks(self, project_name: str, folder_id: str) -> list[TaskInfo]:
        fields = {"id", "name", "taskType", "folderId", "label", "attrib"}
        tasks = [
            TaskInfo(id=t["id"], name=t["name"], task_type=t.get("taskType") or "",
                     folder_id=t.get("folderId") or folder_id, label=t.get("label"),
                     attrib=dict(t.get("attrib") or {}))
            for t in self.api.get_tasks(project_name, folder_ids=[folder_id], fields=fields)
        ]
        return sorted(tasks, key=lambda t: t.name)


def _path(folder: dict[str, Any]) -> str:
    path = folder.get("path") or folder.get("name") or ""
    return path if path.startswith("/") else "/" + path


def find_project(source: ContextSource, name: str) -> str:
    """The project called ``name`` (exact, else case-insensitive) or a one-line error."""
    names = source.project_names()
    if name in names:
        return name
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered:
        return lowered[name.lower()]
    raise UsageError(suggest(name, names, "project"))


def _as_path(name_or_path: str) -> str | None:
    """``name_or_path`` as a folder path with its leading slash; None for a bare name."""
    wanted = name_or_path.strip()
    return "/" + wanted.strip("/") if "/" in wanted else None


def match_folder(folders: Iterable[FolderInfo], name_or_path: str) -> list[FolderInfo]:
    """The folders ``name_or_path`` designates: a path (``/assets/characters/robot``, the
    leading slash optional) matches one folder at most, a bare name possibly several."""
    path = _as_path(name_or_path)
    if path is not None:
        return [f for f in folders if f.path == path]
    wanted = name_or_path.strip()
    return [f for f in folders if f.name == wanted]


def find_folder(source: ContextSource, project_name: str, name_or_path: str) -> FolderInfo:
    """A folder by path (``/assets/characters/robot`` or without the leading slash) or name."""
    folders = source.folders(project_name)
    matches = match_folder(folders, name_or_path)
    if len(matches) == 1:
        return matches[0]
    path = _as_path(name_or_path)
    if path is not None:
        raise UsageError(
            suggest(path, [f.path for f in folders], f"folder path in project {project_name}"))
    wanted = name_or_path.strip()
    if matches:
        paths = ", ".join(sorted(f.path for f in matches))
        raise UsageError(
            f"folder name {wanted!r} is ambiguous in project {project_name}: use a path ({paths})")
    raise UsageError(suggest(wanted, [f.name for f in folders],
                                f"folder in project {project_name}"))


def inherited_attribute(source: ContextSource, project_name: str, folder: FolderInfo,
                        task: TaskInfo | None, name: str) -> Any:
    """An attribute of the task, else of the closest folder up the hierarchy that sets it.

    Walks the hierarchy itself: a server may inherit only the attributes it declares.
    """
    if task is not None and task.attrib.get(name) not in (None, []):
        return task.attrib[name]
    by_id = {f.id: f for f in source.folders(project_name)}
    current: FolderInfo | None = by_id.get(folder.id, folder)
    while current is not None:
        if current.attrib.get(name) not in (None, []):
            return current.attrib[name]
        current = by_id.get(current.parent_id or "")
    return None


def find_task(source: ContextSource, project_name: str, folder: FolderInfo,
              task_name: str) -> TaskInfo:
    """The task ``task_name`` of ``folder`` or a one-line error naming the folder's tasks."""
    tasks = source.tasks(project_name, folder.id)
    for task in tasks:
        if task.name == task_name:
            return task
    if not tasks:
        raise UsageError(f"unknown task {task_name!r}: folder {folder.path} has no tasks")
    raise UsageError(suggest(task_name, [t.name for t in tasks], f"task of {folder.path}"))
