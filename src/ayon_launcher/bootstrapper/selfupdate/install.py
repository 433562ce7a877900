"""Install one of this launcher's installers side by side, into a new virtual environment.

The installer is fetched like an add-on (same sources, streaming checksum check, atomic
extraction into ``{local}/launcher/installers/``), then a virtual environment is made in a
work folder under ``{local}/launcher/versions/``, filled by pip from the installer's wheel and
lock (from its bundled ``wheels/`` when it has them, else from the index pip is configured
with: ``PIP_INDEX_URL``, ``PIP_FIND_LINKS``...), checked by running the new launcher, and only
then renamed into place and recorded. Any failure leaves the running version as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ayon_launcher.bootstrapper.selfupdate import registry
from ayon_launcher.bootstrapper.selfupdate.build import LOCK_NAME
from ayon_launcher.support.errors import DistributionError
from ayon_launcher.support.locking import FileLock
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.distribution.sync import ItemProgress

log = get_logger("selfupdate")

_TMP_PREFIX = ".tmp-"
LOCK_TIMEOUT = 900.0


def installer_item(record: dict[str, Any]):  # noqa: ANN201 - DistItem, imported lazily
    """The distribution item of a ``/api/desktop/installers`` record."""
    from ayon_launcher.bootstrapper.distribution.models import (
        DEFAULT_ALGORITHM,
        DistItem,
        ServerSource,
        parse_sources,
    )

    filename = record["filename"]
    return DistItem(
        kind="installer",
        name=filename,
        version=record.get("version"),
        checksum=record.get("checksum"),
        algorithm=(record.get("checksumAlgorithm") or DEFAULT_ALGORITHM).lower(),
        sources=parse_sources(record.get("sources"), default_filename=filename)
        or [ServerSource(filename=filename)],
        target=registry.launcher_dir() / "installers" / filename.removesuffix(".zip"),
        size=record.get("size"),
        server_route="api/desktop/installers/",
    )


def _install_lock() -> FileLock:
    import time

    registry.launcher_dir().mkdir(parents=True, exist_ok=True)
    lock = FileLock(registry.launcher_dir() / "install.lock")
    deadline = time.monotonic() + LOCK_TIMEOUT
    said = False
    while not lock.try_acquire():
        if not said:
            log.info("waiting for another AYON launcher installing a launcher version")
            said = True
        if time.monotonic() > deadline:
            raise DistributionError("another AYON launcher kept installing a launcher version "
                                    f"for {LOCK_TIMEOUT:.0f} s; try again later")
        time.sleep(0.2)
    return lock


def install(api: Any, record: dict[str, Any], own_version: str,
            progress: ItemProgress | None = None) -> str:
    """Make ``own_version`` installed (from ``record``); the Python of its environment.
    ``progress`` follows the download of the installer, then the install (pip's, whose
    own progress is not known: reported as started, then done)."""
    from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
    from ayon_launcher.bootstrapper.distribution.sync import SyncFailed, sync_items

    lock = _install_lock()
    try:
        python = registry.python_of(own_version)
        if python is not None:
            return python  # installed meanwhile by another launcher
        _remove_work_folders()
        item = installer_item(record)
        settings = FetchSettings(server_url=api.get_base_url(), server_headers=api.get_headers())
        try:
            sync_items([item], settings, progress)
        except SyncFailed as exc:
            raise DistributionError(f"cannot download AYON launcher {own_version}: {exc}") \
                from None
        label = f"AYON launcher {own_version}"
        if progress is not None:
            progress(label, 0, None, "installing")
        python = _install_venv(item.target, own_version, record["filename"])
        if progress is not None:
            progress(label, 1, 1, "done")
        # Installed: the installer's files are needed no more, nor the oldest versions.
        shutil.rmtree(item.target, ignore_errors=True)
        from ayon_launcher import __version__
        from ayon_launcher.bootstrapper.selfupdate.in_use import remove_old_versions

        remove_old_versions({own_version, __version__})
        return python
    finally:
        lock.release()


def _remove_work_folders() -> None:
    """Work folders of interrupted installs (call with the install lock held)."""
    folder = registry.versions_dir()
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith(_TMP_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)


def _pip_tail(result: subprocess.CompletedProcess) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return " ".join(line.strip() for line in lines[-2:]) or f"exit code {result.returncode}"


def _install_venv(content: Path, own_version: str, filename: str) -> str:
    wheels = sorted(content.glob("ayon_launcher-*.whl"))
    lock_file = content / LOCK_NAME
    if not wheels or not lock_file.is_file():
        raise DistributionError(f"installer {filename} has no launcher wheel or no {LOCK_NAME}")
    versions = registry.versions_dir()
    versions.mkdir(parents=True, exist_ok=True)
    work = versions / f"{_TMP_PREFIX}{own_version}-{os.urandom(4).hex()}"
    final = versions / own_version
    try:
        base = getattr(sys, "_base_executable", None) or sys.executable
        made = subprocess.run([base, "-m", "venv", "--without-pip", str(work)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise DistributionError(f"cannot make a virtual environment for AYON launcher "
                                    f"{own_version}: {_pip_tail(made)}")
        python = registry.venv_python(work)
        command = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                   "--no-warn-script-location", "-r", str(lock_file), str(wheels[-1])]
        bundled = content / "wheels"
        if bundled.is_dir():
            command[6:6] = ["--no-index", "--find-links", str(bundled)]
        log.info("installing AYON launcher %s into %s", own_version, final)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise DistributionError(f"installing AYON launcher {own_version} failed: "
                                    f"{_pip_tail(result)}")
        check = subprocess.run([str(python), "-m", "ayon_launcher", "--version"],
                               capture_output=True, text=True)
        if check.returncode != 0 or own_version not in check.stdout:
            raise DistributionError(f"the installed AYON launcher {own_version} does not start "
                                    f"({_pip_tail(check)})")
        if final.exists():  # an entry lost from the registry: replace the folder
            shutil.rmtree(final)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    python_path = str(registry.venv_python(final))
    registry.record(own_version, python_path, installer=filename)
    return python_path
