"""The registry of launcher versions installed side by side under the local folder.

``{local}/launcher/registry.json`` maps each own version to the Python of its virtual
environment; ``{local}/launcher/current`` holds the Python the stable ``ayon`` entry point
starts (one line, so that a shell script reads it in a few milliseconds).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ayon_launcher.support import paths
from ayon_launcher.support.atomicfile import write_bytes_atomic, write_json_atomic

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # of an entry's "installed_at"


def launcher_dir() -> Path:
    return paths.local_dir() / "launcher"


def registry_path() -> Path:
    return launcher_dir() / "registry.json"


def current_path() -> Path:
    return launcher_dir() / "current"


def versions_dir() -> Path:
    return launcher_dir() / "versions"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def load() -> dict[str, dict[str, Any]]:
    """{own version: {"python": path, "installer": filename, "installed_at": ...}}."""
    try:
        data = json.loads(registry_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    versions = data.get("versions") if isinstance(data, dict) else None
    return {str(k): v for k, v in (versions or {}).items() if isinstance(v, dict)}


def python_of(version: str) -> str | None:
    """The Python of an installed, still present version (None when it is not usable)."""
    entry = load().get(version)
    python = entry.get("python") if entry else None
    return python if python and os.path.isfile(python) else None


def record(version: str, python: str, **extra: Any) -> None:
    """Add or replace ``version`` (call with the install lock held)."""
    versions = load()
    versions[version] = {"python": python, "installed_at": time.strftime(TIME_FORMAT), **extra}
    save(versions)


def save(versions: dict[str, dict[str, Any]]) -> None:
    """Write the registry (call with the install lock held)."""
    write_json_atomic(registry_path(), {"versions": versions})


def record_running(version: str) -> None:
    """Register the running launcher (e.g. a developer's or pip-installed one) so that a
    switch away from it can come back; an entry of an install of ours is kept as it is."""
    if python_of(version) is None:
        record(version, sys.executable, origin="external")


def set_current(python: str) -> None:
    """The Python the stable entry point starts from now on."""
    write_bytes_atomic(current_path(), (python + "\n").encode("utf-8"))


def current() -> str | None:
    try:
        text = current_path().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None
