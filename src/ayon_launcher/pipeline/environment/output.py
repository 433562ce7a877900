"""Atomic JSON output files for the context commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ayon_launcher.support import atomicfile
from ayon_launcher.support.errors import UsageError


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` (parents created) through a temp file + rename.

    Readable by the user only (an environment may hold tokens); returns the absolute path.
    A failed write is a UsageError naming the file.
    """
    target = Path(path).expanduser().absolute()
    try:
        atomicfile.write_json_atomic(target, data, private=True)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Fail early (before a dialog or a bootstrap) when ``path`` can surely not be written."""
    target = Path(path).expanduser().absolute()
    if not str(path).strip() or target.is_dir():
        raise UsageError(f"cannot write {target}: it is a folder")
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {target}: {folder} is not writable")
    return target
