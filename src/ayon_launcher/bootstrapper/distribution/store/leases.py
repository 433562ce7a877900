"""Locks and in-use marks that hold on network file systems: O_EXCL lock files with a lease."""

# Why not flock/fcntl on a shared store: on NFS they depend on the lock manager (NLM for
# NFSv3, the server's state for NFSv4) and on SMB/CIFS on mount options (``nobrl``,
# ``nolock``, ``local_lock``); where they are off, every node gets every lock and nothing is
# said. What every one of them does honour is an exclusive create (O_CREAT | O_EXCL: NFSv3
# and later, SMB2/3, CephFS, Lustre, GPFS...) and a rename or unlink. So a lock here is a
# file created with O_EXCL, holding its owner (host, pid, a random token); the owner keeps
# touching it (a heartbeat thread) while it holds it. A lock is stale, and is taken over,
# when its owner is a dead process of this host, or when it has not been touched for a
# lease (AYON_LAUNCHER_LEASE_SECONDS, 60 s) measured on the file system's own clock (the
# mtime of a file touched now in the same folder), so that node clocks do not matter. A
# takeover is done under a second O_EXCL file (``<lock>.break``) so that two launchers never
# both take over the same stale lock.
#
# A warm start on a shared store takes the store lock and marks its folders: paths are plain
# strings, the heartbeat a ``_thread`` thread and the host name ``os.uname``'s (pathlib,
# threading and socket would cost such a start more than its lock and marks).

from __future__ import annotations

import _thread
import atexit
import json
import os
import time

from ayon_launcher.support.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from typing import Any

log = get_logger("distribution")

LEASE_SECONDS_ENV = "AYON_LAUNCHER_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 60.0


def _host_name() -> str:
    """This machine's name, as socket.gethostname() gives it."""
    try:
        return os.uname().nodename
    except AttributeError:  # Windows
        import socket

        return socket.gethostname()


HOST = _host_name()


def lease_seconds() -> float:
    from ayon_launcher.support.envconfig import env_number

    return env_number(LEASE_SECONDS_ENV, DEFAULT_LEASE_SECONDS, minimum=1)


def _owner_record() -> dict[str, Any]:
    return {"host": HOST, "pid": os.getpid(), "token": os.urandom(8).hex(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _read(path: str) -> tuple[dict[str, Any], float] | None:
    """(owner, mtime) of a lock or mark file; None when it is gone. An owner being written
    reads as {}."""
    try:
        with open(path, encoding="utf-8") as handle:
            mtime = os.fstat(handle.fileno()).st_mtime
            text = handle.read()
    except FileNotFoundError:
        return None
    try:
        owner = json.loads(text) if text else {}
    except ValueError:
        owner = {}
    return (owner if isinstance(owner, dict) else {}), mtime


# folder -> (file system clock - time.time(), time.monotonic() when measured)
_CLOCK_OFFSETS: dict[str, tuple[float, float]] = {}


def fs_now(folder: str | PathLike[str]) -> float:
    """Now, on the clock of the file system of ``folder``: the mtime of a file created there
    (on NFS and SMB the server sets it). Measured once per lease quarter per folder."""
    key = os.fspath(folder)
    cached = _CLOCK_OFFSETS.get(key)
    if cached is not None and time.monotonic() - cached[1] < lease_seconds() / 4:
        return time.time() + cached[0]
    probe = os.path.join(key, f".clock-{HOST}-{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        now = os.fstat(fd).st_mtime
    finally:
        os.close(fd)
        _unlink(probe)
    _CLOCK_OFFSETS[key] = (now - time.time(), time.monotonic())
    return now


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: not stale by this test
    return True


def is_stale(owner: dict[str, Any], mtime: float, folder: str | PathLike[str]) -> bool:
    """A dead process of this host, or not touched for a lease (file system clock; also
    for a live process of this host: its id may have been reused)."""
    pid = owner.get("pid")
    if owner.get("host") == HOST and isinstance(pid, int) and os.name != "nt" \
            and not _alive(pid):
        return True
    return fs_now(folder) - mtime > lease_seconds()


class _Heartbeat:
    """One background thread touching every lock and mark this process holds, each lease
    quarter (the interpreter does not wait for it at exit)."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.guard = _thread.allocate_lock()
        self.started_by: int | None = None  # the process that started the thread

    def add(self, path: str) -> None:
        with self.guard:
            self.held.add(path)
            if self.started_by != os.getpid():  # (a forked child has no thread)
                _thread.start_new_thread(self._run, ())
                self.started_by = os.getpid()

    def discard(self, path: str) -> None:
        with self.guard:
            self.held.discard(path)

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            time.sleep(0.25)  # short naps: a lease made shorter meanwhile is followed
            try:
                if time.monotonic() - last < lease_seconds() / 4:
                    continue
                last = time.monotonic()
                self._touch_all()
            except Exception:  # noqa: BLE001 - the heartbeat must outlive any one failure
                log.debug("lease heartbeat failed", exc_info=True)

    def _touch_all(self) -> None:
        with self.guard:
            held = list(self.held)
        for path in held:
            try:
                os.utime(path)
            except FileNotFoundError:
                log.warning("the lease %s was taken from this launcher (not refreshed "
                            "for over %.0fs?)", path, lease_seconds())
                self.discard(path)
            except OSError as exc:
                log.debug("cannot refresh the lease %s: %s", path, exc)

    def release_all(self) -> None:
        with self.guard:
            held, self.held = list(self.held), set()
        for path in held:
            try:
                owner = _read(path)
                if owner is not None and owner[0].get("pid") == os.getpid() \
                        and owner[0].get("host") == HOST:
                    _unlink(path)
            except OSError:
                pass


_HEARTBEAT = _Heartbeat()
atexit.register(_HEARTBEAT.release_all)  # a clean exit frees at once; a crash after a lease


def _create(path: str) -> bytes | None:
    """Create ``path`` with O_EXCL holding a new owner record; None when it exists."""
    content = json.dumps(_owner_record()).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return None
    try:
        os.write(fd, content)
    except OSError:
        os.close(fd)
        _unlink(path)  # never an ownerless lock left behind (disk full)
        raise
    os.close(fd)
    return content


def _break_if_stale(path: str) -> bool:
    """Remove ``path`` when its lease is stale; True when it is gone (try again)."""
    seen = _read(path)
    if seen is None:
        return True
    folder = os.path.dirname(path)
    if not is_stale(*seen, folder):
        return False
    guard = path + ".break"
    try:
        os.close(os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        # Another launcher is taking it over; a guard left by a killed one goes after a lease.
        try:
            if fs_now(folder) - os.stat(guard).st_mtime > lease_seconds():
                _unlink(guard)
        except FileNotFoundError:
            pass
        return False
    try:
        again = _read(path)
        if again is None:
            return True
        if again[0].get("token") != seen[0].get("token") or not is_stale(*again, folder):
            return False  # taken over and held again meanwhile
        _unlink(path)
        log.info("took over the stale lock %s (held by %s, process %s)", path,
                 seen[0].get("host", "?"), seen[0].get("pid", "?"))
        return True
    finally:
        _unlink(guard)


class LeaseLock:
    """Exclusive, non-blocking lock on ``path`` for a store shared between machines (the
    same interface as ``locking.FileLock``): held while the file exists with this holder's
    token. Any other holder, threads of this process included, waits."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.content: bytes | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free or stale: False when a live holder has it (OSError
        when the lock folder cannot be written)."""
        for _attempt in range(2):
            content = _create(self.path)
            if content is not None:
                self.content = content
                _HEARTBEAT.add(self.path)
                return True
            if not _break_if_stale(self.path):
                return False
        return False

    def release(self) -> None:
        if self.content is None:
            return
        content, self.content = self.content, None
        _HEARTBEAT.discard(self.path)
        try:
            with open(self.path, "rb") as handle:
                mine = handle.read() == content
            if mine:
                os.unlink(self.path)
            else:
                log.warning("the lock %s was taken over by another launcher while this one "
                            "held it", self.path)
        except FileNotFoundError:
            log.warning("the lock %s was removed while this launcher held it", self.path)
        except OSError as exc:  # Windows: another process has it open; its lease runs out
            log.debug("cannot remove the lock %s: %s", self.path, exc)


class Mark:
    """This process's in-use mark on a shared store folder: a file ``{host}-{pid}`` in the
    folder's mark folder, touched by the heartbeat, removed at release or exit."""

    def __init__(self, marks: str | PathLike[str]) -> None:
        self.path = os.path.join(marks, f"{HOST}-{os.getpid()}")

    def hold(self) -> bool:
        """Write the mark; False (logged) when the mark folder cannot be written."""
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            content = json.dumps(_owner_record()).encode()
            with open(self.path, "wb") as handle:
                handle.write(content)
        except OSError as exc:
            log.debug("cannot mark %s as in use: %s", folder, exc)
            return False
        _HEARTBEAT.add(self.path)
        return True

    def release(self) -> None:
        _HEARTBEAT.discard(self.path)
        try:
            _unlink(self.path)
        except OSError as exc:  # not refreshed any more: it goes stale after a lease
            log.debug("cannot remove the mark %s: %s", self.path, exc)


def marked_by_others(marks: str | PathLike[str]) -> bool:
    """True while a live launcher other than this process holds a mark in ``marks``; stale
    marks are removed (call with the store lock held)."""
    marks = os.fspath(marks)
    own = f"{HOST}-{os.getpid()}"
    try:
        names = os.listdir(marks)
    except FileNotFoundError:
        return False
    used = False
    for name in names:
        if name == own or name.startswith("."):
            continue
        seen = _read(os.path.join(marks, name))
        if seen is None:
            continue
        if is_stale(*seen, marks):
            _unlink(os.path.join(marks, name))
            continue
        used = True
    if not used:
        try:
            os.rmdir(marks)  # no mark left: the mark folder goes too (fails if one came)
        except OSError:
            pass
    return used
