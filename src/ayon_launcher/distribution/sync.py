"""Make a list of items available locally: parallel download, validation, safe extract, install."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DistributionError
from ..log import get_logger
from . import store
from .archives import LocalWriteError, safe_extract, write_error
from .extractor import extract_in_process, worth_a_process
from .models import DistItem
from .sources import FetchSettings, SourceError, describe, fetch

log = get_logger("distribution")

WORKERS_ENV = "AYON_LAUNCHER_DOWNLOAD_WORKERS"

# One extraction at a time in this process: zipfile decompresses in Python, holding the GIL
# between small reads, so parallel extractions in threads fight for it and the I/O of each
# waits on the others (measured: 4 at once took 3 times as long as the same 4 in a row).
# Downloads go on in parallel meanwhile: they mostly wait on the network, GIL released.
_EXTRACTING = threading.Lock()
# Big archives of a multi-item sync go to helper processes instead, one per core.
_PROCESS_SLOTS = threading.Semaphore(max(1, os.cpu_count() or 1))

# item label, done, total, state — bootstrap wraps this into its Progress dataclass.
ItemProgress = Callable[[str, int, "int | None", str], None]


class ItemFailed(DistributionError):
    """Every source of one item failed; ``kind`` is "network" when all failed on the network,
    "auth" when the server refused the credentials, else "file"."""

    def __init__(self, message: str, kind: str = "file") -> None:
        super().__init__(message)
        self.kind = kind


class SyncFailed(DistributionError):
    """Some items could not be installed (the others are). ``kind`` as for ItemFailed: the
    caller treats an all-network failure as an unreachable server (offline start)."""

    def __init__(self, message: str, kind: str = "file") -> None:
        super().__init__(message)
        self.kind = kind


def _combined_kind(kinds: list[str]) -> str:
    if kinds and all(k == "network" for k in kinds):
        return "network"
    if kinds and all(k in ("network", "auth") for k in kinds):
        return "auth"
    return "file"


@dataclass
class SyncReport:
    """What a sync did."""

    installed: list[DistItem] = field(default_factory=list)
    skipped: list[DistItem] = field(default_factory=list)


def _workers(count: int) -> int:
    from ..envconfig import env_int

    wanted = env_int(WORKERS_ENV, 4, minimum=1)
    return max(1, min(wanted, count))


def sync_items(items: list[DistItem], settings: FetchSettings,
               progress: ItemProgress | None = None, lock: bool = True) -> SyncReport:
    """Install every item not already present and valid; raise naming each item that failed.

    Items that succeed stay installed even when others fail (they are complete and valid).
    """
    report = SyncReport()

    def emit(label: str, done: int, total: int | None, state: str) -> None:
        if progress is None:
            return
        try:
            progress(label, done, total, state)
        except Exception:  # noqa: BLE001 - a broken progress display must not break the sync
            log.debug("progress callback failed", exc_info=True)

    def run() -> None:
        parents = {item.target.parent for item in items}
        removed = store.remove_leftovers(*parents)
        if removed:
            log.info("removed %d leftover folder(s) of an interrupted run", removed)
        todo = []
        for item in items:
            if store.is_installed(item):
                report.skipped.append(item)
                emit(item.label, 1, 1, "skipped")
            else:
                todo.append(item)
        if not todo:
            return
        from concurrent.futures import ThreadPoolExecutor  # only when there is work

        errors: list[str] = []
        kinds: list[str] = []
        with ThreadPoolExecutor(max_workers=_workers(len(todo)),
                                thread_name_prefix="ayon-sync") as pool:
            futures = {pool.submit(_install_one, item, settings, emit, len(todo)): item
                       for item in todo}
            for future, item in futures.items():
                try:
                    future.result()
                except DistributionError as exc:
                    errors.append(str(exc))
                    kinds.append(getattr(exc, "kind", "file"))
                    emit(item.label, 0, None, "failed")
                except Exception as exc:  # noqa: BLE001 - reported with the item's name
                    errors.append(f"{item.label}: {type(exc).__name__}: {exc}")
                    kinds.append("file")
                    emit(item.label, 0, None, "failed")
                else:
                    report.installed.append(item)
        if errors:
            raise SyncFailed("; ".join(errors), _combined_kind(kinds))

    if lock:
        with store.store_lock():
            run()
    else:
        run()
    return report


def _extract(item: DistItem, archive: Path, content: Path, parallel: int,
             emit: Callable[[str, int, int | None, str], None]) -> None:
    def progress(done: int, total: int) -> None:
        emit(item.label, done, total, "extracting")

    if worth_a_process(archive, parallel):
        with _PROCESS_SLOTS:
            extract_in_process(archive, content, item.label, progress)
    else:
        with _EXTRACTING:
            safe_extract(archive, content, item.label, progress=progress)


def _install_one(item: DistItem, settings: FetchSettings,
                 emit: Callable[[str, int, int | None, str], None], parallel: int = 1) -> None:
    if not item.sources:
        raise DistributionError(f"{item.label}: the server lists no source to download it from")
    try:
        work = store.new_temp_dir(item.target.parent)
    except OSError as exc:
        raise write_error(item.label, item.target.parent, exc) from None
    try:
        reasons = []
        kinds = []
        for source in item.sources:
            archive = work / "archive"
            content = work / "content"
            if content.exists():
                shutil.rmtree(content)
            try:
                content.mkdir()
            except OSError as exc:
                raise write_error(item.label, content, exc) from None
            try:
                emit(item.label, 0, item.size, "downloading")
                digest = fetch(
                    item, source, archive, settings,
                    on_bytes=lambda done, total: emit(item.label, done, total, "downloading"),
                )
                emit(item.label, 0, None, "extracting")
                _extract(item, archive, content, parallel, emit)
            except LocalWriteError:
                raise  # the disk, not the source: another source would fail the same way
            except DistributionError as exc:
                log.warning("%s", exc)
                reasons.append(f"{describe(source)}: {_reason(exc, item)}")
                kinds.append(exc.kind if isinstance(exc, SourceError) else "file")
                continue
            archive.unlink(missing_ok=True)
            try:
                store.install(item, content, describe(source), digest)
            except OSError as exc:
                raise write_error(item.label, item.target, exc) from None
            emit(item.label, 1, 1, "done")
            log.debug("installed %s from %s", item.label, describe(source))
            return
        raise ItemFailed(f"{item.label}: every source failed ({'; '.join(reasons)})",
                         _combined_kind(kinds))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _reason(exc: Exception, item: DistItem) -> str:
    text = str(exc)
    prefix = f"{item.label}: "
    return text[len(prefix):] if text.startswith(prefix) else text

