"""All-or-nothing integration: staged files plus one batch of server operations.

Plug-ins never write into the publish folders nor to the server directly: they stage files
(copied to hidden folders beside their destinations, on the same file system) and entity
operations here. Only when every plug-in succeeded does the engine :meth:`commit`: the staged
folders are renamed into place, then the operations go to the server in one batch that the
server applies entirely or not at all. When that batch fails, the moved files are removed
again; when a plug-in failed, :meth:`discard` removes the staging folders. Either way nothing
half-integrated stays on the server or on disk.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LauncherError
from ..log import get_logger

if TYPE_CHECKING:
    import ayon_api

log = get_logger("publish")

_CHUNK = 1024 * 1024


class TransactionError(LauncherError):
    """A file or entity cannot be staged, or the commit failed (and was rolled back)."""


@dataclass
class StagedFile:
    """A file copied for publishing: where it will land, its size and sha256."""

    source: Path
    destination: Path
    staged: Path
    size: int
    sha256: str


@dataclass
class _StagedRoot:
    """A folder that does not exist yet: built under ``staging`` and renamed to ``target``."""

    target: Path
    staging: Path
    files: list[StagedFile] = field(default_factory=list)


def _copy(source: Path, target: Path) -> tuple[int, str]:
    """Copy ``source`` to ``target`` (created exclusively), returning size and sha256."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copystat(source, target)
    return size, digest.hexdigest()


def _place_exclusive(staged: Path, destination: Path) -> None:
    """Move ``staged`` to ``destination`` without ever replacing an existing file."""
    try:
        os.link(staged, destination)  # fails when the destination exists: no clobbering
    except FileExistsError:
        raise TransactionError(f"publish destination appeared meanwhile: {destination}") from None
    except OSError:  # file systems without hard links
        if destination.exists():
            raise TransactionError(
                f"publish destination appeared meanwhile: {destination}") from None
        os.replace(staged, destination)
        return
    staged.unlink()


class PublishTransaction:
    """Files and entity operations of one publish, made real together by :meth:`commit`."""

    def __init__(self, api: ayon_api.ServerAPI, project_name: str) -> None:
        self.api = api
        self.project_name = project_name
        self.id = uuid.uuid4().hex[:12]
        self._operations: list[dict[str, Any]] = []
        self._roots: dict[Path, _StagedRoot] = {}
        self._loose: list[StagedFile] = []  # files going into folders that already exist
        self._claimed: set[Path] = set()
        self.entities: list[tuple[str, dict[str, Any]]] = []
        self.state = "open"

    # -- staging ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.state != "open":
            raise TransactionError(f"the publish transaction is already {self.state}")

    def add_file(self, source: str | os.PathLike[str], destination: str | os.PathLike[str]
                 ) -> StagedFile:
        """Copy ``source`` to a staging place for ``destination``; nothing final is touched."""
        self._check_open()
        source = Path(source)
        destination = Path(os.path.abspath(destination))
        if destination in self._claimed:
            raise TransactionError(f"two files of this publish go to {destination}")
        if os.path.lexists(destination):
            raise TransactionError(f"publish destination already exists: {destination}")
        if not source.is_file():
            raise TransactionError(f"file to publish not found: {source}")
        top = destination.parent
        if top.exists():
            staged = top / f".{destination.name}.publish-{self.id}.tmp"
            root = None
        else:
            # Highest missing folder: staging it as a whole makes its arrival one rename.
            while not top.parent.exists():
                top = top.parent
            root = self._roots.get(top)
            if root is None:
                root = _StagedRoot(top, top.parent / f".{top.name}.publish-{self.id}")
                self._roots[top] = root
            staged = root.staging / destination.relative_to(top)
        try:
            size, sha = _copy(source, staged)
        except OSError as exc:
            if root is None:
                staged.unlink(missing_ok=True)
            raise TransactionError(f"cannot copy {source} to the publish staging area: "
                                   f"{exc.strerror or exc}") from None
        item = StagedFile(source, destination, staged, size, sha)
        (root.files if root else self._loose).append(item)
        self._claimed.add(destination)
        return item

    def create_entity(self, entity_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """Add the creation of an entity (``ayon_api.operations.new_*_entity`` data)."""
        self._check_open()
        data.setdefault("id", uuid.uuid4().hex)
        self._operations.append({"id": uuid.uuid4().hex, "type": "create",
                                 "entityType": entity_type, "entityId": data["id"],
                                 "data": copy.deepcopy(data)})
        self.entities.append((entity_type, data))
        return data

    def update_entity(self, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        self._check_open()
        self._operations.append({"id": uuid.uuid4().hex, "type": "update",
                                 "entityType": entity_type, "entityId": entity_id,
                                 "data": copy.deepcopy(changes)})

    def _send_operations(self) -> None:
        """One batch the server applies entirely or not at all (``canFail`` false)."""
        if not self._operations:
            return
        results = self.api.send_batch_operations(self.project_name, self._operations,
                                                 can_fail=False, raise_on_fail=False)
        failed = [r for r in results if not r.get("success")]
        if failed or len(results) != len(self._operations):
            # The operation that caused the failure, not the ones rolled back because of it.
            cause = next((r for r in failed if (r.get("status") or 0) >= 400), None)
            cause = cause or (failed[0] if failed else {})
            what = f"{cause.get('type', '?')} {cause.get('entityType', 'entity')}"
            detail = cause.get("detail") or "no detail"
            raise TransactionError(f"the server refused the integration ({what}: {detail})")

    @property
    def files(self) -> list[StagedFile]:
        return [f for root in self._roots.values() for f in root.files] + list(self._loose)

    # -- outcome ----------------------------------------------------------------------------
    def discard(self) -> None:
        """Forget everything staged (a plug-in failed); safe to call more than once."""
        if self.state in {"committed", "discarded"}:
            return
        self._remove_staging()
        self.state = "discarded"

    def _remove_staging(self) -> None:
        for root in self._roots.values():
            shutil.rmtree(root.staging, ignore_errors=True)
        for item in self._loose:
            item.staged.unlink(missing_ok=True)

    def commit(self) -> None:
        """Move the files into place, then send the operations; undo the files if that fails."""
        self._check_open()
        placed_roots: list[Path] = []
        placed_files: list[Path] = []
        made_dirs: list[Path] = []
        try:
            for root in self._roots.values():
                if root.target.exists():
                    # Someone created the folder meanwhile: merge file by file, never replace.
                    for item in root.files:
                        made_dirs += _make_dirs(item.destination.parent)
                        _place_exclusive(item.staged, item.destination)
                        placed_files.append(item.destination)
                    shutil.rmtree(root.staging, ignore_errors=True)
                else:
                    os.rename(root.staging, root.target)
                    placed_roots.append(root.target)
            for item in self._loose:
                _place_exclusive(item.staged, item.destination)
                placed_files.append(item.destination)
            self._send_operations()
        except BaseException as exc:
            self._undo(placed_roots, placed_files, made_dirs)
            self.state = "rolled back"
            if isinstance(exc, LauncherError) or not isinstance(exc, Exception):
                raise
            raise TransactionError(f"integration failed: {_one_line(exc)}") from exc
        self.state = "committed"

    def _undo(self, roots: list[Path], files: list[Path], dirs: list[Path]) -> None:
        for path in files:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("could not remove %s while rolling back: %s", path, exc)
        for path in reversed(dirs):
            try:
                path.rmdir()
            except OSError:  # not empty: someone else's files are in it now
                pass
        for path in roots:
            shutil.rmtree(path, ignore_errors=True)
        self._remove_staging()


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    return list(reversed(missing))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
