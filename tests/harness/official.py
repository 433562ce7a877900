"""ynput's official AYON launcher run from source, as the reference for differential tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .studio import (
    StudioBuildError,
    Timings,
    cache_root,
    file_hash,
    official_launcher_pins,
    peer_archive,
    text_hash,
    unpack_archive,
)

# The Qt binding its builds ship (pyproject.toml [ayon.qtbinding.linux]); the Essentials wheel
# is the part of PySide6 that ayon-core and the launcher use (QtCore/QtGui/QtWidgets/QtSvg).
QT_BINDING = "PySide6-Essentials==6.8.3"


@dataclass
class OfficialLauncher:
    """The official launcher's source folder and the Python 3.11 virtual environment to run it."""

    root: Path
    python: Path
    version: str
    timings: Timings

    @property
    def start_py(self) -> Path:
        return self.root / "start.py"


def _python311() -> str:
    """A Python 3.11 interpreter (the official launcher pins 3.11)."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    for candidate in ("python3.11", str(Path.home() / ".pyenv/versions/3.11.7/bin/python3")):
        found = shutil.which(candidate)
        if found:
            return found
    raise StudioBuildError("no Python 3.11 found for the official launcher")


def official_launcher(timings: Timings | None = None) -> OfficialLauncher:
    """Unpack the official launcher and build its virtual environment (both cached by hash)."""
    timings = timings if timings is not None else Timings()
    archive = peer_archive("ayon-launcher")
    if archive is None:
        raise StudioBuildError("ayon-launcher-*.tar.gz is not in the peers folder")
    started = time.monotonic()
    root = unpack_archive(archive)
    timings.add("unpack official launcher", started)

    started = time.monotonic()
    pins = official_launcher_pins() or {}
    requirements = [f"{name}=={version}" for name, version in sorted(pins.items())]
    requirements.append(QT_BINDING)
    python = _python311()
    key = text_hash(file_hash(archive), *requirements, os.path.realpath(python))[:16]
    venv = cache_root() / "official" / f"venv-{key}"
    done = venv / ".complete"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
        result = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", *requirements],
            capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise StudioBuildError(f"official launcher venv failed:\n{result.stderr[-3000:]}")
        done.write_text("\n".join(requirements))
    timings.add("official launcher venv", started)
    version_ns: dict[str, str] = {}
    exec((root / "version.py").read_text(), version_ns)  # noqa: S102 - its own version file
    return OfficialLauncher(root=root, python=venv / "bin" / "python",
                            version=version_ns["__version__"], timings=timings)


def official_env(launcher: OfficialLauncher, server_url: str, api_key: str, work: Path,
                 extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a headless official launcher with its own folders under ``work``.

    No AYON variable of the calling process leaks in. When it runs from source the launcher sets
    ``AYON_EXECUTABLE`` to its venv's Python and ``AYON_ROOT`` to its source folder, so ayon-core
    starts sub-processes as ``python start.py ...``.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AYON_", "OPENPYPE_", "USE_AYON", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        AYON_SERVER_URL=server_url,
        AYON_API_KEY=api_key,
        AYON_LAUNCHER_STORAGE_DIR=str(work / "storage"),
        AYON_LAUNCHER_LOCAL_DIR=str(work / "local"),
        AYON_HEADLESS_MODE="1",
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
        # No keyring daemon here; the API key comes from the environment.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        HOME=os.environ.get("HOME", str(work)),
    )
    # The venv's bin first, as an activated venv would have it.
    env["PATH"] = os.pathsep.join([str(launcher.python.parent), env.get("PATH", "")])
    if extra:
        env.update(extra)
    return env


def run_official(launcher: OfficialLauncher, args: list[str], env: dict[str, str], *,
                 timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python start.py ARGS`` of the official launcher from its own folder."""
    return subprocess.run([str(launcher.python), str(launcher.start_py), *args],
                          cwd=launcher.root, env=env, capture_output=True, text=True,
                          timeout=timeout)
