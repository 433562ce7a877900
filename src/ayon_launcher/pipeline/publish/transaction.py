"""All-or-nothing integration: staged files plus one batch of server operations.

Plug-ins never write into the publish folders nor to the server directly: they stage files
(copied to hidden folders beside their destinations, on the same file system) and entity
operations here. Only when every plug-in succeeded does the engine :meth:`commit`: the staged
folders are renamed into place, then the operations go to the server in one batch that the
server applies entirely or not at all. When that batch fails (and the server, asked again,
does not have its entities: a lost reply is no failure), the moved files are removed again;
when a plug-in failed, :meth:`discard` removes the staging folders. A journal (see
``journal.py``) lets the next publish finish the job when the process is killed meanwhile.
Either way nothing half-integrated stays on the server or on disk.
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

from ayon_launcher.pipeline.publish.journal import (
    Journal,
    file_record,
    remove_placed,
    server_has,
    server_key,
    staging_names,
)
from ayon_launcher.support.errors import LauncherError, error_line
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    import ayon_api

log = get_logger("publish")

_CHUNK = 1024 * 1024


class TransactionError(LauncherError):
    """A file or entity cannot be staged, or the commit failed (and was rolled back)."""


class CommitUnresolved(TransactionError):
    """The batch call failed and the server could not be asked whether it applied it: the
    placed files stay, and the next publish of the project keeps or removes them."""


class _Refused(TransactionError):
    """The server answered that it did not apply the batch."""


@dataclass
class StagedFile:
    """A file copied for publishing: where it will land, its size and sha256."""

    destination: Path
    staged: Path
    size: int
    sha256: str
    device: int = 0
    inode: int = 0  # with ``device`` and ``mtime``: tells our placed file from another one
    mtime: int = 0  # ns


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
        self._journal = Journal(self.id, project_name, server_key(api))
        # Hidden names the journal's recovery finds again (``journal.remove_staging``).
        self._folder_ending, self._file_ending = staging_names(self.id)

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
        # The journal names each folder before staging starts there (crash clean-up).
        if top.exists():
            staged = top / f".{destination.name}{self._file_ending}"
            root = None
            self._journal.add_staging_dir(top)
        else:
            # Highest missing folder: staging it as a whole makes its arrival one rename.
            while not top.parent.exists():
                top = top.parent
            root = self._roots.get(top)
            if root is None:
                self._journal.add_staging_dir(top.parent)
                root = _StagedRoot(top, top.parent / f".{top.name}{self._folder_ending}")
                self._roots[top] = root
            staged = root.staging / destination.relative_to(top)
        try:
            size, sha = _copy(source, staged)
            info = staged.stat()
        except OSError as exc:
            if root is None:
                staged.unlink(missing_ok=True)
            raise TransactionError(f"cannot copy {source} to the publish staging area: "
                                   f"{exc.strerror or exc}") from None
        item = StagedFile(destination, staged, size, sha, info.st_dev, info.st_ino,
                          info.st_mtime_ns)
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

    def _send_operations(self) -> None:
        """One batch the server applies entirely or not at all (``canFail`` false)."""
        if not self._operations:
            return
        results = self.api.send_batch_operations(self.project_name, self._operations,
                                                 can_fail=False, raise_on_fail=False)
        failed = [r for r in results if not r.get("success")]
        if failed:
            # The operation that caused the failure, not the ones rolled back because of it.
            cause = next((r for r in failed if (r.get("status") or 0) >= 400), failed[0])
            what = f"{cause.get('type', '?')} {cause.get('entityType', 'entity')}"
            detail = cause.get("detail") or "no detail"
            raise _Refused(f"the server refused the integration ({what}: {detail})")
        if len(results) != len(self._operations):
            raise TransactionError(f"the server answered {len(results)} results for "
                                   f"{len(self._operations)} operations")

    def _created(self) -> dict[str, list[str]]:
        """Ids of the entities the batch creates, by entity type."""
        created: dict[str, list[str]] = {}
        for operation in self._operations:
            if operation["type"] == "create":
                created.setdefault(operation["entityType"], []).append(operation["entityId"])
        return created

    def _placement(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The folders the commit creates and the files it places, as the journal has them."""
        return ([str(root.target) for root in self._roots.values()],
                [file_record(f.destination, f.device, f.inode, f.size, f.mtime)
                 for f in self.files])

    @property
    def files(self) -> list[StagedFile]:
        return [f for root in self._roots.values() for f in root.files] + list(self._loose)

    # -- outcome ----------------------------------------------------------------------------
    def discard(self) -> None:
        """Forget everything staged (a plug-in failed); safe to call more than once."""
        if self.state in {"committed", "discarded", "rolled back", "unresolved"}:
            return
        self._remove_staging()
        self._journal.close()
        self.state = "discarded"

    def _remove_staging(self) -> None:
        for root in self._roots.values():
            shutil.rmtree(root.staging, ignore_errors=True)
        for item in self._loose:
            item.staged.unlink(missing_ok=True)

    def commit(self) -> None:
        """Move the files into place, then send the operations; undo the files if that fails."""
        self._check_open()
        # Written before the first rename: a killed commit is finished by the next publish.
        self._journal.begin_commit(*self._placement(), self._created())
        try:
            for root in self._roots.values():
                if root.target.exists():
                    # Someone created the folder meanwhile: merge file by file, never replace.
                    for item in root.files:
                        # A roll-back removes the folders made here again (once empty).
                        item.destination.parent.mkdir(parents=True, exist_ok=True)
                        _place_exclusive(item.staged, item.destination)
                    shutil.rmtree(root.staging, ignore_errors=True)
                else:
                    os.rename(root.staging, root.target)
            for item in self._loose:
                _place_exclusive(item.staged, item.destination)
        except BaseException as exc:
            self._roll_back()
            if isinstance(exc, LauncherError) or not isinstance(exc, Exception):
                raise
            raise TransactionError(f"integration failed: {error_line(exc)}") from exc
        try:
            self._send_operations()
        except BaseException as exc:
            self._after_failed_batch(exc)
            if not isinstance(exc, Exception):
                raise  # e.g. KeyboardInterrupt, once the files match the server again
            return
        self._journal.close()
        self.state = "committed"

    def _after_failed_batch(self, exc: BaseException) -> None:
        """The batch call failed: its reply may be lost, so ask the server what it has."""
        refused = isinstance(exc, _Refused)
        problem = error_line(exc)
        try:
            applied = server_has(self.api, self.project_name, self._created())
        except Exception as check:  # noqa: BLE001 - any failure means: the server cannot tell
            applied = None
            problem += f"; asking the server again failed too ({error_line(check)})"
        if applied:
            log.warning("the server applied the integration although the call failed (%s)",
                        problem)
            self._journal.close()
            self.state = "committed"
            return
        if applied is False or refused:  # a refusal is an answer: nothing was applied
            self._roll_back()
            if isinstance(exc, LauncherError) or not isinstance(exc, Exception):
                raise exc
            raise TransactionError(f"integration failed: {problem}") from exc
        self.state = "unresolved"
        self._journal.close(keep=True)
        raise CommitUnresolved(
            f"the server did not confirm the integration ({problem}); its files stay in place "
            f"until the next publish of project '{self.project_name}' finds out whether the "
            "server has its entities") from exc

    def _roll_back(self) -> None:
        """Remove what was placed (only our own files, see ``journal.remove_placed``)."""
        roots, files = self._placement()
        remove_placed(files, roots)
        self._remove_staging()
        self._journal.close()
        self.state = "rolled back"
