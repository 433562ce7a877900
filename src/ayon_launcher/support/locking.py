"""An advisory file lock between processes (exclusive or shared); the OS drops it at exit.

flock/msvcrt directly: the ``filelock`` package costs 10-60 ms of imports at every start of a
farm job, for locks taken a few times.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike


class FileLock:
    """Non-blocking lock on ``path`` (one descriptor per holder, threads included).

    ``remove_on_release`` deletes the lock file when released (for locks whose file is not
    meant to stay); a lock whose file was replaced meanwhile is then not taken.
    ``shared``: any number of shared holders at once, but none while an exclusive one holds
    it (and the other way round). POSIX only: Windows' msvcrt has no shared lock, so there
    ``try_acquire`` raises NotImplementedError (callers keep no shared marks on Windows).
    """

    def __init__(self, path: str | PathLike[str], remove_on_release: bool = False,
                 shared: bool = False) -> None:
        self.path = path
        self.remove_on_release = remove_on_release
        self.shared = shared
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free: False when another holder has it (OSError when the
        lock file cannot be opened)."""
        if self.shared and os.name == "nt":
            raise NotImplementedError("no shared file locks on Windows")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                # A holder that removes its file may have done so meanwhile: a lock on the
                # old file would protect nothing.
                if self.remove_on_release and not os.path.samestat(os.fstat(fd),
                                                                    os.stat(self.path)):
                    raise OSError("lock file replaced")
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
            if self.remove_on_release:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
                except OSError:  # Windows: another process has it open; it removes it itself
                    pass
            elif os.name == "nt":
                import msvcrt

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)  # closing drops the lock in every case
