"""The store's locks between launchers: the store lock, one lock per item, and in-use marks."""

# Two kinds, chosen by where the add-ons are stored. In the machine-local folder: flock locks
# in ``{local}/state`` (the operating system drops them when a process dies). On a storage
# shared by machines (AYON_LAUNCHER_STORAGE_DIR outside the local folder): lease lock files
# in ``{storage}/.ayon-launcher-locks`` (``leases``), which hold on NFS and SMB. Paths are
# plain strings (os.path): a warm start takes the store lock and marks its folders, and
# pathlib costs it more than that.

from __future__ import annotations

import _thread  # threading's Lock itself, without importing threading (a warm start's cost)
import os
import time

from ayon_launcher.bootstrapper.distribution.models import DistItem
from ayon_launcher.support import paths
from ayon_launcher.support.errors import DistributionError
from ayon_launcher.support.locking import FileLock
from ayon_launcher.support.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from os import PathLike
    from types import TracebackType

    from ayon_launcher.bootstrapper.distribution.store import leases

log = get_logger("distribution")

LOCK_TIMEOUT_ENV = "AYON_LAUNCHER_LOCK_TIMEOUT"
SHARED_LOCKS_DIR = ".ayon-launcher-locks"  # in a shared storage folder
# Folders of per-folder lock files in the lock folder (outside the store folders):
LOCKS_DIR = "locks"  # item locks, held while an item is downloaded and installed
IN_USE_DIR = "in_use"  # marks (shared locks) of the store folders running launchers use


class StoreLockTimeout(DistributionError):
    """Another launcher held a store lock for longer than AYON_LAUNCHER_LOCK_TIMEOUT."""


def unusable(exc: OSError) -> DistributionError:
    """The one-line error for a local folder that cannot be used (not a folder, read-only)."""
    if isinstance(exc, FileExistsError) and exc.filename:
        reason = f"{exc.filename} is not a folder"  # mkdir(exist_ok=True) on a file
    else:
        reason = exc.strerror or type(exc).__name__
    if is_shared():
        return DistributionError(f"cannot use the shared add-on store {paths.storage_dir()}: "
                                 f"{reason} ({paths.STORAGE_DIR_ENV})")
    return DistributionError(f"cannot use the add-on store {paths.local_dir()}: {reason} "
                             f"({paths.LOCAL_DIR_ENV})")


def is_shared() -> bool:
    """True when the add-ons are stored outside the machine-local folder
    (AYON_LAUNCHER_STORAGE_DIR), where other machines may use them too: lease locks."""
    return paths.storage_folder() != paths.local_folder()


def locks_dir() -> str:
    """The folder of the store's locks: beside the store it guards."""
    if is_shared():
        return os.path.join(paths.storage_folder(), SHARED_LOCKS_DIR)
    return paths.state_folder()


def _new_lock(path: str) -> FileLock | leases.LeaseLock:
    if is_shared():
        from ayon_launcher.bootstrapper.distribution.store.leases import LeaseLock

        return LeaseLock(path)
    return FileLock(path)


def ensure_usable(*folders: str | PathLike[str]) -> None:
    """Create the state folder, the lock folders (and ``folders``); a clear
    DistributionError when impossible. Every lock of the store needs it called first (the
    store lock calls it; the sync before taking item locks)."""
    root = locks_dir()
    try:
        for folder in (paths.state_folder(), root, os.path.join(root, LOCKS_DIR),
                       os.path.join(root, IN_USE_DIR), *folders):
            os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise unusable(exc) from None


def lock_path() -> str:
    return os.path.join(locks_dir(), "store.lock")


def lock_file(kind: str, folder: str | PathLike[str]) -> str:
    """The lock file of the store folder ``folder`` in the lock folder ``kind`` (LOCKS_DIR,
    IN_USE_DIR), named after the store folder and the folder itself."""
    parent, name = os.path.split(os.path.normpath(folder))
    return os.path.join(locks_dir(), kind, f"{os.path.basename(parent)}--{name}.lock")


def _lock_timeout(timeout: float | None) -> float:
    if timeout is not None:
        return timeout
    from ayon_launcher.support.envconfig import env_number

    return env_number(LOCK_TIMEOUT_ENV, 900.0, minimum=0)


def _acquire(lock: FileLock | leases.LeaseLock, timeout: float, waiting: str,
             check: Callable[[], None] | None) -> bool:
    """Try ``lock`` until ``timeout``; False when it stays taken. ``check`` is called while
    waiting (it raises to give up, e.g. when the sync is cancelled)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    # On a shared storage every try is a file creation on the file server, by every waiting
    # node: try less often, at spread times (no herd at each release).
    spread = not isinstance(lock, FileLock)
    max_delay = 0.5 if spread else 0.2
    logged = False
    while True:
        try:
            if lock.try_acquire():
                return True
        except OSError as exc:
            raise unusable(exc) from None
        if time.monotonic() >= deadline:
            return False
        if check is not None:
            check()
        if not logged:
            log.info("%s", waiting)
            logged = True
        time.sleep(delay * (0.5 + os.urandom(1)[0] / 255) if spread else delay)
        delay = min(delay * 2, max_delay)


_STORE_THREADS = _thread.allocate_lock()


class _Held:
    """A ``with`` block holding a lock taken by ``take`` (which raises when it cannot be
    taken, or returns None to enter without it: the block is given False), released at the
    end. A class rather than contextlib's decorator: a warm start takes the store lock and
    does not import contextlib otherwise."""

    def __init__(self, take: Callable[[], FileLock | leases.LeaseLock | None],
                 threads: _thread.LockType | None = None) -> None:
        self.take = take
        self.threads = threads  # held around the lock: this process's own threads queue
        self.lock: FileLock | leases.LeaseLock | None = None

    def __enter__(self) -> bool:
        if self.threads is not None:
            self.threads.acquire()
        try:
            self.lock = self.take()
        except BaseException:
            if self.threads is not None:
                self.threads.release()
            raise
        return self.lock is not None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if self.lock is not None:
                self.lock.release()
        finally:
            self.lock = None
            if self.threads is not None:
                self.threads.release()


def store_lock(timeout: float | None = None,
               check: Callable[[], None] | None = None) -> _Held:
    """Exclusive lock over the store, shared by every launcher process of this user, for
    a ``with`` block.

    Held only for short steps (rename into place, record, marks, clean-up, the sweep of
    leftovers): downloads take their item's lock instead. The operating system drops the
    lock of a killed process, so a crash never blocks the next start; a live holder is
    waited for up to ``timeout`` seconds (AYON_LAUNCHER_LOCK_TIMEOUT), then StoreLockTimeout.
    """

    def take() -> FileLock | leases.LeaseLock:
        path = lock_path()
        ensure_usable()
        waited = _lock_timeout(timeout)
        lock = _new_lock(path)
        if not _acquire(lock, waited, "waiting for another AYON launcher to finish "
                        "updating the add-on store", check):
            raise StoreLockTimeout(
                f"another AYON launcher holds the add-on store lock ({path}) for over "
                f"{waited:.0f}s")
        return lock

    # This process's own workers queue on _STORE_THREADS, silently (each holds the lock for
    # a short step, and a holder waiting for another process is bounded by ``timeout``): the
    # file lock and its "another launcher" message are then only contended by other
    # processes.
    return _Held(take, _STORE_THREADS)


def item_lock(item: DistItem, timeout: float | None = None,
              check: Callable[[], None] | None = None) -> _Held:
    """Exclusive lock on one item across processes, for a ``with`` block, held while it is
    downloaded, extracted and installed: two launchers never fetch the same archive at once,
    and launchers that need different items do not wait for each other. Call
    ``ensure_usable`` first."""

    def take() -> FileLock | leases.LeaseLock:
        path = lock_file(LOCKS_DIR, item.target)
        waited = _lock_timeout(timeout)
        lock = _new_lock(path)
        if not _acquire(lock, waited, f"waiting for another AYON launcher to install "
                        f"{item.label}", check):
            raise StoreLockTimeout(
                f"{item.label}: another AYON launcher has been installing it for over "
                f"{waited:.0f}s (lock {path})")
        return lock

    return _Held(take)


def item_lock_if_free(folder: str | PathLike[str]) -> _Held:
    """The lock of the item installed in ``folder`` when nobody holds it, for a ``with``
    block: entered with True and it held, False (nothing held) when a live launcher has it
    or it cannot be taken."""

    def take() -> FileLock | leases.LeaseLock | None:
        lock = _new_lock(lock_file(LOCKS_DIR, folder))
        try:
            return lock if lock.try_acquire() else None
        except OSError:
            return None

    return _Held(take)


# Store folders this process uses: path -> its mark in IN_USE_DIR (a shared flock, or on a
# shared storage a lease file of this process in a folder of marks).
_MARKS: dict[str, FileLock | leases.Mark] = {}


def _mark_file(folder: str | PathLike[str]) -> str:
    """The mark of ``folder``: a lock file, or on a shared storage a folder of lease files."""
    path = lock_file(IN_USE_DIR, folder)
    return path.removesuffix(".lock") if is_shared() else path


def _key(folder: str | PathLike[str]) -> str:
    """The key of ``folder`` in _MARKS (one spelling per folder)."""
    return os.path.normpath(folder)


def hold_folders(folders: list[str]) -> None:
    """Mark store ``folders`` as in use by this process until it exits, so that the clean-up
    of another launcher (another bundle, a lower keep count) leaves them alone. Call with
    the store lock held (clean-up runs under it too, so the two cannot interleave).

    A shared lock: the operating system drops it when the process dies. POSIX only; on
    Windows files in use cannot be deleted anyway. The mark folder is made by
    ``ensure_usable`` (every store lock calls it). On a shared storage, a lease file (on
    every platform: other machines' clean-up cannot know what a Windows node has open).
    """
    if is_shared():
        from ayon_launcher.bootstrapper.distribution.store.leases import Mark

        for folder in folders:
            if _key(folder) not in _MARKS:
                lease = Mark(_mark_file(folder))
                if lease.hold():
                    _MARKS[_key(folder)] = lease
        return
    if os.name == "nt":
        return
    for folder in folders:
        key = _key(folder)
        if key in _MARKS:
            continue
        mark = FileLock(_mark_file(folder), shared=True)
        try:
            held = mark.try_acquire()
        except OSError as exc:
            log.debug("cannot mark %s as in use: %s", folder, exc)
            continue
        if held:
            _MARKS[key] = mark


def release_marks() -> None:
    """Drop this process's marks (tests; a process's marks otherwise end with it)."""
    while _MARKS:
        _key, mark = _MARKS.popitem()
        mark.release()


def used_by_another_process(folder: str | PathLike[str]) -> bool:
    """True while another live launcher holds a mark on ``folder`` (store lock held); a mark
    nobody holds any more is removed."""
    if os.name == "nt" and not is_shared():
        return False
    own = _MARKS.pop(_key(folder), None)
    if own is not None:
        own.release()  # this process's own mark does not protect from its own clean-up
    if is_shared():
        from ayon_launcher.bootstrapper.distribution.store.leases import marked_by_others

        return marked_by_others(_mark_file(folder))
    check = FileLock(_mark_file(folder), remove_on_release=True)
    try:
        if not check.try_acquire():
            return True
    except OSError:
        return False  # no mark can be made there: none was
    check.release()
    return False
