"""The local store: item folders, their metadata file, atomic installs and the store lock."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import paths
from ..errors import DistributionError
from ..log import get_logger
from .models import DistItem

log = get_logger("distribution")

METADATA_FILE = ".ayon_distribution.json"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
LOCK_TIMEOUT_ENV = "AYON_LAUNCHER_LOCK_TIMEOUT"


def _token(size: int) -> str:
    """A random name part (os.urandom: uuid costs 2 ms of imports at start-up)."""
    return os.urandom(size).hex()


def read_metadata(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_installed(item: DistItem) -> bool:
    """True when the item's folder exists and its metadata matches the server checksum."""
    meta = read_metadata(item.target)
    if meta is None:
        return False
    if item.checksum:
        return (str(meta.get("checksum", "")).lower() == item.checksum.strip().lower()
                and meta.get("algorithm", "sha256") == item.algorithm)
    # No checksum announced: a complete earlier install of the same name/version is enough.
    return meta.get("name") == item.name and meta.get("version") == item.version


def new_temp_dir(parent: Path) -> Path:
    """A fresh work folder beside the targets (same filesystem, so rename is atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f"{TMP_PREFIX}{_token(6)}"
    path.mkdir()
    return path


def write_json_atomic(path: Path, data: Any, private: bool = False) -> None:
    """Write ``data`` as JSON to a temporary file and rename it over ``path``.

    ``private`` files are created readable by the user only (settings may hold secrets).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{_token(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, default=str)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def install(item: DistItem, extracted: Path, source: str, checksum: str) -> None:
    """Move a fully extracted folder into place with its metadata; the last step is a rename."""
    meta = {
        "kind": item.kind,
        "name": item.name,
        "version": item.version,
        "source": source,
        "checksum": checksum,
        "algorithm": item.algorithm,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json_atomic(extracted / METADATA_FILE, meta)
    target = item.target
    if target.exists():
        # An invalid earlier copy (checksum changed on the server): move it aside first.
        trash = target.with_name(f"{TRASH_PREFIX}{target.name}-{_token(4)}")
        os.rename(target, trash)
        os.rename(extracted, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(extracted, target)


def remove_leftovers(*folders: Path) -> int:
    """Delete work folders of killed runs (call with the store lock held). Returns the count."""
    count = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name.startswith((TMP_PREFIX, TRASH_PREFIX)):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                count += 1
    return count


def lock_path() -> Path:
    return paths.state_dir() / "store.lock"


class _FileLock:
    """An exclusive advisory lock on a file, between processes (and threads: one descriptor
    each). flock/msvcrt directly: the ``filelock`` package costs ~10 ms of imports at every
    start, for a lock that is taken once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            if os.name == "nt":
                import msvcrt

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


@contextmanager
def store_lock(timeout: float | None = None) -> Iterator[None]:
    """Exclusive lock over the store, shared by every launcher process of this user.

    The operating system drops the lock of a killed process, so a crash never blocks the next
    start; a live holder is waited for up to ``timeout`` seconds (AYON_LAUNCHER_LOCK_TIMEOUT).
    """
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if timeout is None:
        from ..envconfig import env_number

        timeout = env_number(LOCK_TIMEOUT_ENV, 900.0, minimum=0)
    lock = _FileLock(path)
    deadline = time.monotonic() + timeout
    delay = 0.01
    logged = False
    while not lock.try_acquire():
        if time.monotonic() >= deadline:
            raise DistributionError(
                f"another AYON launcher holds the add-on store lock ({path}) for over "
                f"{timeout:.0f}s")
        if not logged:
            log.info("waiting for another AYON launcher to finish updating add-ons")
            logged = True
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    try:
        yield
    finally:
        lock.release()
