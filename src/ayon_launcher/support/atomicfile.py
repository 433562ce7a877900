"""Atomic file writes: a temporary file in the same folder, fsync, then a rename over the target."""

from __future__ import annotations

import json
import os

# os.path rather than pathlib: a warm start writes state files and must not import it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


def write_bytes_atomic(path: str | Path, content: bytes, *, private: bool = False,
                       durable: bool = True) -> None:
    """Write ``content`` to ``path`` (parents created) so that readers see the old file or the
    whole new one, never a part: a temporary file beside it, flushed to disk, renamed over it.

    ``private`` files are readable by the user only (mode 0600: logins, studio settings).
    ``durable=False`` skips the flush to disk (an fsync, which also commits the file
    system's journal: milliseconds each): for files whose loss in a power cut the next
    start notices and makes good anyway. Readers still never see a part.
    Raises OSError; the temporary file is removed on any failure.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    os.makedirs(folder or os.curdir, exist_ok=True)
    # os.urandom rather than tempfile: that module costs a few ms of imports at every start.
    tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            if private:
                os.chmod(tmp, 0o600)  # the umask may have taken bits away, never added any
            handle.write(content)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_json_atomic(path: str | Path, data: Any, *, private: bool = False,
                      durable: bool = True) -> None:
    """Write ``data`` as indented, key-sorted JSON to ``path`` with ``write_bytes_atomic``."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), private=private, durable=durable)
