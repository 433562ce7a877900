"""Make a list of items available locally: parallel download, validation, safe extract, install."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ayon_launcher.bootstrapper.distribution import manifest, store
from ayon_launcher.bootstrapper.distribution.archives import (
    LocalWriteError,
    safe_extract,
    write_error,
)
from ayon_launcher.bootstrapper.distribution.extractor import (
    extract_in_process,
    process_min_size,
    worth_a_process,
)
from ayon_launcher.bootstrapper.distribution.models import DistItem, FilesystemSource
from ayon_launcher.bootstrapper.distribution.sources import (
    FetchSettings,
    SourceError,
    describe,
    fetch,
)
from ayon_launcher.bootstrapper.distribution.streaming import StreamingZip
from ayon_launcher.support.errors import DistributionError
from ayon_launcher.support.log import get_logger

log = get_logger("distribution")

WORKERS_ENV = "AYON_LAUNCHER_DOWNLOAD_WORKERS"

# Downloaded zips are extracted while they arrive, in their download threads (streaming.py;
# zlib, crc32 and the writes release the GIL, so the threads use every core, with no helper
# process to start). What is extracted from the file afterwards (filesystem sources, tars,
# archives the stream gave up on) goes one at a time in this process: zipfile decompresses
# in Python, holding the GIL between small reads, so parallel extractions in threads fight
# for it and the I/O of each waits on the others (measured: 4 at once took 3 times as long
# as the same 4 in a row). Downloads go on in parallel meanwhile.
_EXTRACTING = threading.Lock()
# Big archives of a multi-item sync go to helper processes instead, one per core.
_PROCESS_SLOTS = threading.Semaphore(max(1, os.cpu_count() or 1))

# item label, done, total, state — bootstrap wraps this into its Progress dataclass.
ItemProgress = Callable[[str, int, "int | None", str], None]


class SyncFailed(DistributionError):
    """Items could not be installed: every source of one item failed, or (from
    ``sync_items``) some items failed, the others being installed.

    ``kind`` is "network" when all failed on the network, "auth" when all failed on the
    network or refused credentials (some of them refused), else "file": the caller treats
    an all-network failure as an unreachable server (offline start).
    """

    def __init__(self, message: str, kind: str = "file") -> None:
        super().__init__(message)
        self.kind = kind


class SyncCancelled(DistributionError):
    """The caller's cancel event stopped the sync (complete items stay installed)."""

    exit_code = 130


class _Stop(Exception):  # noqa: N818 - a signal between threads, not an error
    """Raised inside a worker (from its progress reports) once the sync is cancelled.

    Not a DistributionError: the next source must not be tried."""


def _kind(exc: BaseException) -> str:
    """What a failure says about the server: "network", "auth" or "file" (see SourceError)."""
    return exc.kind if isinstance(exc, SourceError | SyncFailed) else "file"


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
    from ayon_launcher.support.envconfig import env_int

    wanted = env_int(WORKERS_ENV, 4, minimum=1)
    return max(1, min(wanted, count))


# How long an interrupted sync gives its running items to notice (at their next progress
# report) before the launcher leaves; one stuck on a silent server dies with the process.
_STOP_GRACE = 1.0


def sync_items(items: list[DistItem], settings: FetchSettings,
               progress: ItemProgress | None = None,
               cancel: threading.Event | None = None, verify: bool = False) -> SyncReport:
    """Install every item not already present and intact; raise naming each item that failed.

    Installed items get the cheap check of their files (``store.check_installed``; every
    file read with ``verify``): a damaged one is said in one line and installed again, from
    an archive that must match the sha256 recorded at its install when the server announces
    no checksum.

    Items that succeed stay installed even when others fail (they are complete and valid).
    No store-wide lock while downloading: each missing item is fetched under its own lock
    (another launcher needing it waits, then finds it installed), and only the rename into
    place takes the store lock. Ctrl+C (or ``cancel`` set by the caller) stops the sync:
    queued items never start, running ones stop at their next progress report; installs are
    atomic, so the store keeps its previous state (work folders go at the next run).
    """
    report = SyncReport()
    cancel = cancel if cancel is not None else threading.Event()

    def emit(label: str, done: int, total: int | None, state: str) -> None:
        if progress is None:
            return
        try:
            progress(label, done, total, state)
        except Exception:  # noqa: BLE001 - a broken progress display must not break the sync
            log.debug("progress callback failed", exc_info=True)

    def check() -> None:
        if cancel.is_set():
            raise _Stop

    def worker_emit(label: str, done: int, total: int | None, state: str) -> None:
        check()  # every download chunk and extracted file passes here
        emit(label, done, total, state)

    # Leftovers of interrupted runs are removed later, under the store lock (distribute).
    store.prepare(items)
    todo = []
    damaged: dict[str, dict] = {}  # label -> metadata of the damaged install
    for item in items:
        meta = store.installed_metadata(item)
        if meta is not None:
            damage = store.check_installed(item.target, item.label, meta, verify)
            if damage is None:
                report.skipped.append(item)
                emit(item.label, 1, 1, "skipped")
                continue
            log.warning("%s is damaged (%s): installing it again", item.label, damage)
            damaged[item.label] = meta
            _pin(item, meta)
        todo.append(item)
    if verify:
        checked = len(items) - len(todo) + len(damaged)
        log.info("verified every file of %d installed item(s): %d damaged", checked,
                 len(damaged))
    if not todo:
        return report

    # Read once, here: a bad value fails before any download, not in each worker.
    min_size = process_min_size(len(todo))

    def work(item: DistItem) -> bool:
        return _sync_one(item, settings, worker_emit, check, min_size, damaged.get(item.label))

    outcomes = _run_parallel(work, todo, _workers(len(todo)), cancel)
    if cancel.is_set():
        raise SyncCancelled("the add-on sync was cancelled")
    errors: list[str] = []
    kinds: list[str] = []
    for item, (installed, exc) in zip(todo, outcomes, strict=True):
        if exc is None:
            (report.installed if installed else report.skipped).append(item)
            continue
        if isinstance(exc, store.StoreLockTimeout):
            raise exc  # the same for every item: say it once
        if isinstance(exc, DistributionError):
            errors.append(str(exc))
        else:
            errors.append(f"{item.label}: {type(exc).__name__}: {exc}")
        kinds.append(_kind(exc))
        emit(item.label, 0, None, "failed")
    if errors:
        raise SyncFailed("; ".join(errors), _combined_kind(kinds))
    return report


def _run_parallel(work: Callable[[DistItem], bool], todo: list[DistItem], count: int,
                  cancel: threading.Event) -> list[tuple[bool, BaseException | None]]:
    """Run ``work`` over ``todo`` in ``count`` threads; (result, exception) per item.

    Own daemon threads rather than a ThreadPoolExecutor: its exit (and the interpreter's)
    waits for every queued and running item, so Ctrl+C would wait for the whole sync. On
    any exception here (KeyboardInterrupt), ``cancel`` is set, queued items are dropped and
    the exception goes on after a short grace for the running ones.
    """
    outcomes: list[tuple[bool, BaseException | None]] = [(False, None)] * len(todo)
    pending = list(range(len(todo)))[::-1]
    guard = threading.Lock()
    finished = threading.Event()
    alive = [count]

    def loop() -> None:
        try:
            while not cancel.is_set():
                with guard:
                    if not pending:
                        break
                    index = pending.pop()
                try:
                    outcomes[index] = (work(todo[index]), None)
                except BaseException as exc:  # noqa: BLE001 - reported with the item's name
                    outcomes[index] = (False, exc)
        finally:
            with guard:
                alive[0] -= 1
                if not alive[0]:
                    finished.set()

    threads = [threading.Thread(target=loop, name=f"ayon-sync-{n}", daemon=True)
               for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        # A timed wait: Ctrl+C interrupts it on every platform.
        while not finished.wait(0.25):
            pass
    except BaseException:
        cancel.set()
        with guard:
            pending.clear()
        finished.wait(_STOP_GRACE)
        raise
    return outcomes


def _pin(item: DistItem, meta: dict) -> None:
    """Without a server checksum, a repair must bring back the archive installed before."""
    recorded = store.recorded_sha256(meta)
    if not item.checksum and recorded:
        item.checksum, item.algorithm, item.pinned = recorded, "sha256", True


def _sync_one(item: DistItem, settings: FetchSettings,
              emit: Callable[[str, int, int | None, str], None], check: Callable[[], None],
              min_size: float | None, damaged: dict | None) -> bool:
    """Install ``item`` under its lock (``damaged``: the metadata of the damaged copy it
    replaces); False when another launcher installed it meanwhile."""
    with store.item_lock(item, check=check):
        meta = store.installed_metadata(item)
        if meta is not None and meta != damaged \
                and store.check_installed(item.target, item.label, meta) is None:
            emit(item.label, 1, 1, "skipped")
            return False
        _install_one(item, settings, emit, check, min_size)
        return True


def _extract(item: DistItem, archive: Path, content: Path, min_size: float | None,
             emit: Callable[[str, int, int | None, str], None]) -> None:
    """Extract in a helper process when ``archive`` is at least ``min_size`` bytes (None:
    never), else in this process."""
    def progress(done: int, total: int) -> None:
        emit(item.label, done, total, "extracting")

    if worth_a_process(archive, min_size):
        with _PROCESS_SLOTS:
            extract_in_process(archive, content, item.label, progress)
    else:
        with _EXTRACTING:
            safe_extract(archive, content, item.label, progress=progress)


def _install_one(item: DistItem, settings: FetchSettings,
                 emit: Callable[[str, int, int | None, str], None], check: Callable[[], None],
                 min_size: float | None) -> None:
    """Fetch, check and extract ``item`` into a work folder, then move it into place (call
    with the item's lock held). ``check`` raises once the sync is cancelled; ``min_size``
    as for ``_extract``."""
    if not item.sources:
        raise DistributionError(f"{item.label}: the server lists no source to download it from")
    try:
        work = store.new_work_folder(item)
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
            # A download is extracted while it arrives; the file decides at the end.
            sink = None if isinstance(source, FilesystemSource) \
                else StreamingZip(content, item.label)
            try:
                emit(item.label, 0, item.size, "downloading")
                try:
                    fetched = fetch(
                        item, source, archive, settings,
                        on_bytes=lambda done, total: emit(item.label, done, total,
                                                          "downloading"),
                        sink=sink,
                    )
                finally:
                    if sink is not None:
                        sink.close()
                emit(item.label, 0, None, "extracting")
                crcs = sink.finish(archive) if sink is not None else None
                if crcs is None:
                    if sink is not None:
                        log.debug("%s: not extracted while downloading; extracting the file",
                                  item.label)
                        _empty(item, content)
                    _extract(item, archive, content, min_size, emit)
                else:
                    emit(item.label, fetched.size, fetched.size, "extracting")
                seal = _record_manifest(item, archive, content, crcs)
            except LocalWriteError:
                raise  # the disk, not the source: another source would fail the same way
            except DistributionError as exc:
                log.warning("%s", exc)
                reasons.append(f"{describe(source)}: {_reason(exc, item)}")
                kinds.append(_kind(exc))
                continue
            archive.unlink(missing_ok=True)
            try:
                store.put_in_place(item, content, describe(source), fetched, seal, check)
            except OSError as exc:
                raise write_error(item.label, item.target, exc) from None
            emit(item.label, 1, 1, "done")
            log.debug("installed %s from %s", item.label, describe(source))
            return
        raise SyncFailed(f"{item.label}: every source failed ({'; '.join(reasons)})",
                         _combined_kind(kinds))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _empty(item: DistItem, content: Path) -> None:
    """Remove what a given-up streamed extraction wrote, for ``safe_extract`` of the file."""
    try:
        shutil.rmtree(content)
        content.mkdir()
    except OSError as exc:
        raise write_error(item.label, content, exc) from None


def _record_manifest(item: DistItem, archive: Path, content: Path,
                     crcs: dict[str, int] | None = None) -> dict:
    """Write the manifest of the extracted ``content``; its seal for the metadata. ``crcs``:
    the archive's CRC-32s when known already (else read from its central directory)."""
    try:
        files, seal = manifest.record(
            content, crcs if crcs is not None else manifest.archive_crcs(archive))
        # Not flushed to disk, as the extracted files beside it (see store.write_metadata).
        manifest.write_files(content, files, durable=False)
    except OSError as exc:
        raise write_error(item.label, content, exc) from None
    return seal


def _reason(exc: Exception, item: DistItem) -> str:
    text = str(exc)
    prefix = f"{item.label}: "
    return text[len(prefix):] if text.startswith(prefix) else text

