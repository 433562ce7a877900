"""Crash safety of publishing: a journal per transaction and recovery of killed publishes.

A transaction that stages files keeps ``<state>/publish/<id>.json`` (written atomically) and
holds an exclusive lock on ``<id>.lock`` while its process lives. The journal names the
folders holding its hidden staging entries and, once the commit starts, every file it is
about to place (with its inode) and the entities its server batch creates. At the start of
a publish, :func:`recover` handles the journals of dead processes: staging entries are
removed; placed files are kept when the server has the entities (the batch was applied),
removed otherwise. A locked journal belongs to a live publish and is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ayon_launcher.support import atomicfile, paths
from ayon_launcher.support.errors import LauncherError, error_line
from ayon_launcher.support.locking import FileLock
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    import ayon_api

log = get_logger("publish")

# Entity types whose existence tells whether a batch was applied, with the ayon_api query.
_CHECKS = (
    ("version", "get_versions", "version_ids"),
    ("representation", "get_representations", "representation_ids"),
    ("product", "get_products", "product_ids"),
    ("folder", "get_folders", "folder_ids"),
    ("task", "get_tasks", "task_ids"),
)


def journal_dir() -> Path:
    return paths.state_dir() / "publish"


def _lock(folder: Path, transaction_id: str) -> FileLock:
    """What a transaction holds while its process lives: recovery leaves its journal alone."""
    return FileLock(folder / f"{transaction_id}.lock", remove_on_release=True)


def server_key(api: ayon_api.ServerAPI) -> str:
    """What identifies the server in a journal (its URL)."""
    return str(getattr(api, "base_url", "") or "").rstrip("/")


def staging_names(transaction_id: str) -> tuple[str, str]:
    """Name endings of a transaction's staging folders and staged loose files."""
    return f".publish-{transaction_id}", f".publish-{transaction_id}.tmp"


def file_record(destination: Path, device: int, inode: int, size: int, mtime: int
                ) -> dict[str, Any]:
    """A placed file as the journal knows it: what tells it from another file at its path."""
    return {"path": str(destination), "device": device, "inode": inode, "size": size,
            "mtime": mtime}


def _error(message: str) -> LauncherError:
    """The transaction's own error (its module imports this one: imported when needed)."""
    from ayon_launcher.pipeline.publish.transaction import TransactionError

    return TransactionError(message)


class Journal:
    """The crash record of one transaction; opened when the first file is staged."""

    def __init__(self, transaction_id: str, project_name: str, server: str) -> None:
        self.data: dict[str, Any] = {
            "id": transaction_id, "project": project_name, "server": server,
            "pid": os.getpid(), "host": socket.gethostname(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "state": "staging", "stagingDirs": [],
        }
        folder = journal_dir()
        self.path = folder / f"{transaction_id}.json"
        self._lock = _lock(folder, transaction_id)
        self.active = False

    def _write(self) -> None:
        try:
            atomicfile.write_json_atomic(self.path, self.data)
        except OSError as exc:  # the launcher's own state, not the user's input
            raise _error(f"cannot write the publish journal {self.path}: "
                         f"{exc.strerror or exc}") from None

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            locked = self._lock.try_acquire()
        except OSError as exc:
            raise _error(f"cannot create the publish journal in {self.path.parent}: "
                         f"{exc.strerror or exc}") from None
        if not locked:  # ids are random: only a broken file system gets here
            raise _error(f"the publish journal {self._lock.path} is locked")
        self.active = True

    def add_staging_dir(self, folder: Path) -> None:
        """Record ``folder`` as holding staging entries; call before creating one there."""
        name = str(folder)
        if name in self.data["stagingDirs"]:
            return
        if not self.active:
            self._open()
        self.data["stagingDirs"].append(name)
        self._write()

    def begin_commit(self, roots: list[str], files: list[dict[str, Any]],
                     entities: dict[str, list[str]]) -> None:
        """Record what the commit is about to place and create (before the first rename)."""
        if not self.active:
            return  # nothing was staged: nothing to clean up after a crash
        self.data.update(state="committing", roots=roots, files=files, entities=entities)
        self._write()

    def close(self, keep: bool = False) -> None:
        """The transaction ended: drop the journal (or keep it for the next publish)."""
        if not self.active:
            return
        self.active = False
        if not keep:
            self.path.unlink(missing_ok=True)
        self._lock.release()


def server_has(api: ayon_api.ServerAPI, project_name: str,
               entities: dict[str, list[str]]) -> bool | None:
    """Whether the server has any of ``entities`` (a batch is applied wholly or not at all).

    None when no created entity can be checked. Raises when the server cannot be asked.
    """
    for entity_type, method, argument in _CHECKS:
        ids = entities.get(entity_type) or []
        if not ids:
            continue
        found = getattr(api, method)(project_name, **{argument: list(ids)}, fields={"id"})
        return any(True for _ in found)
    return None


def remove_staging(transaction_id: str, folders: Iterable[str | os.PathLike[str]]) -> int:
    """Remove the transaction's hidden staging folders and files from ``folders``."""
    endings = staging_names(transaction_id)
    count = 0
    for folder in folders:
        try:
            entries = list(Path(folder).iterdir())
        except OSError:
            continue
        for entry in entries:
            if not (entry.name.startswith(".") and entry.name.endswith(endings)):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            count += 1
    return count


def _ours(path: Path, record: dict[str, Any]) -> bool:
    """True when ``path`` is still the very file this transaction placed there."""
    try:
        info = path.lstat()
    except OSError:
        return False
    # Size and mtime too: a file system reuses a freed inode number for the next new file.
    same = (info.st_size, info.st_mtime_ns) == (record.get("size"), record.get("mtime"))
    if record.get("inode"):  # 0 on file systems without inode numbers
        same = same and (info.st_ino, info.st_dev) == (record["inode"], record["device"])
    return same


def remove_placed(files: Iterable[dict[str, Any]], roots: Iterable[str]) -> int:
    """Remove the placed files that are still ours, then the folders that became empty
    (up to and including the folders the transaction created); others' files stay."""
    tops = [Path(root) for root in roots]
    count = 0
    for record in files:
        path = Path(record["path"])
        if not _ours(path, record):
            continue
        try:
            path.unlink()
        except OSError as exc:
            log.warning("could not remove %s while rolling back: %s", path, exc)
            continue
        count += 1
        top = next((t for t in tops if path.is_relative_to(t)), None)
        folder = path.parent
        while top is not None and folder.is_relative_to(top):
            try:
                folder.rmdir()
            except OSError:  # not empty (someone else's files) or gone
                break
            folder = folder.parent
    return count


@dataclass
class Recovered:
    """What :func:`recover` did with the journal of one interrupted publish."""

    transaction: str
    pid: int | None
    outcome: str  # "discarded", "rolled back", "kept", "unresolved"
    files: int = 0
    detail: str = ""

    def line(self) -> str:
        what = {
            "discarded": f"removed its staging ({self.files} entr"
                         f"{'y' if self.files == 1 else 'ies'})",
            "rolled back": f"the server does not have its entities: removed {self.files} placed "
                           f"file{'s' if self.files != 1 else ''}",
            "kept": "the server has its entities: its files are kept",
            "unresolved": f"left for later: {self.detail}",
        }[self.outcome]
        return f"Interrupted publish {self.transaction} (pid {self.pid}): {what}"


def recover(api: ayon_api.ServerAPI, project_name: str) -> list[Recovered]:
    """Clean up after publishes of ``project_name`` on this server whose process died."""
    folder = journal_dir()
    try:
        candidates = sorted(folder.glob("*.json"))
    except OSError:
        return []
    server = server_key(api)
    done = []
    for path in candidates:
        transaction_id = path.stem
        lock = _lock(folder, transaction_id)
        try:
            if not lock.try_acquire():
                continue  # its publish is still running
        except OSError as exc:
            log.warning("cannot check the publish journal %s: %s", path, exc)
            continue
        result = None
        try:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # finished while we looked
            except (OSError, ValueError) as exc:
                log.warning("unreadable publish journal %s left alone: %s", path, exc)
                continue
            if not isinstance(data, dict) or data.get("id") != transaction_id:
                log.warning("publish journal %s is not one: left alone", path)
                continue
            if data.get("project") != project_name or data.get("server") != server:
                continue  # another project's or server's publish resolves it
            try:
                result = _recover_one(api, data)
            except Exception as exc:  # noqa: BLE001 - a bad journal must not stop publishing
                log.warning("publish journal %s left alone: %s", path, error_line(exc))
                continue
            if result.outcome != "unresolved":
                path.unlink(missing_ok=True)
        finally:
            lock.release()
        if result is not None:
            log.debug("%s", result.line())
            done.append(result)
    return done


def _recover_one(api: ayon_api.ServerAPI, data: dict[str, Any]) -> Recovered:
    transaction_id = str(data["id"])
    pid = data.get("pid")
    staging = list(data.get("stagingDirs") or [])
    if data.get("state") != "committing":
        count = remove_staging(transaction_id, staging)
        return Recovered(transaction_id, pid, "discarded", count)
    try:
        applied = server_has(api, data["project"], data.get("entities") or {})
    except Exception as exc:  # noqa: BLE001 - any failure to ask means: decide later
        return Recovered(transaction_id, pid, "unresolved",
                         detail=f"the server could not be asked ({error_line(exc)})")
    remove_staging(transaction_id, staging)
    if applied is False:
        count = remove_placed(data.get("files") or [], data.get("roots") or [])
        return Recovered(transaction_id, pid, "rolled back", count)
    # Applied, or nothing checkable was created: never delete what the server may reference.
    return Recovered(transaction_id, pid, "kept")
