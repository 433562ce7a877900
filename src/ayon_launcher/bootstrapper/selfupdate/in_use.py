"""In-use marks of launcher versions installed side by side, and the clean-up of old ones."""

# A version in ``{local}/launcher/versions/{version}`` holds a shared lock on
# ``versions/{version}.in-use`` while any process runs from it (the operating system drops it
# when the process ends), and touches that file at each start. The clean-up, after an
# install, removes a version only when it can take that lock exclusively (no process of it
# runs) and it has not started for UNUSED_DAYS: programs it started (a DCC session, with the
# launcher's modules on its PYTHONPATH) may outlive it, and do not hold the lock.

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ayon_launcher.support.locking import FileLock

KEEP_VERSIONS_ENV = "AYON_LAUNCHER_KEEP_VERSIONS"
DEFAULT_KEEP_VERSIONS = 2  # the new version and the one before it (to go back at once)
MARK_SUFFIX = ".in-use"
UNUSED_DAYS = 7
_TRASH_PREFIX = ".trash-"

_HELD: list[FileLock] = []


def hold_own_mark() -> None:
    """Mark the installed version this process runs from as in use (until it exits); nothing
    for a folder named ``versions`` that is not a launcher registry's."""
    from ayon_launcher.support.locking import FileLock

    versions = os.path.dirname(sys.prefix)
    if _HELD or not os.path.isfile(os.path.join(os.path.dirname(versions), "registry.json")):
        return
    path = mark_path(sys.prefix)
    mark = FileLock(path, shared=True)
    try:
        if mark.try_acquire():
            _HELD.append(mark)
            os.utime(path)  # the last start, for the clean-up
    except (OSError, NotImplementedError):
        pass  # Windows has no shared lock: files in use cannot be deleted there anyway


def mark_path(version_folder: str) -> str:
    """The in-use mark of a version's folder (one spelling, whatever links lead to it)."""
    return os.path.realpath(version_folder) + MARK_SUFFIX


def keep_count() -> int:
    from ayon_launcher.support.envconfig import env_int

    return env_int(KEEP_VERSIONS_ENV, DEFAULT_KEEP_VERSIONS, minimum=1)


def remove_old_versions(keep: set[str]) -> list[str]:
    """Remove the installed versions of this launcher beyond the ``keep_count()`` most
    recently installed ones, but never one of ``keep`` (the running version, the one just
    installed), one installed elsewhere (a developer's, pip's: only ``versions/`` is ours),
    or one a process runs from. Call with the install lock held. The removed versions."""
    import shutil

    from ayon_launcher.bootstrapper.selfupdate import registry
    from ayon_launcher.support.locking import FileLock
    from ayon_launcher.support.log import get_logger

    log = get_logger("selfupdate")
    versions = registry.load()
    folder = str(registry.versions_dir())
    ours = {version: entry for version, entry in versions.items()
            if _root(entry) == os.path.join(folder, version)}
    recent = sorted(ours, key=lambda v: str(ours[v].get("installed_at") or ""), reverse=True)
    kept = set(keep) | set(recent[:keep_count()])
    removed = []
    for version in recent:
        if version in kept:
            continue
        root = _root(ours[version])
        if _last_start(root, ours[version]) > time.time() - UNUSED_DAYS * 86400:
            log.debug("keeping AYON launcher %s: started in the last %d days", version,
                      UNUSED_DAYS)
            continue
        mark = FileLock(mark_path(root), remove_on_release=True)
        try:
            free = mark.try_acquire()
        except OSError:
            free = False
        if not free:
            log.debug("keeping AYON launcher %s: a process runs from it", version)
            continue
        try:
            trash = os.path.join(folder, f"{_TRASH_PREFIX}{version}-{os.urandom(4).hex()}")
            try:
                os.rename(root, trash)
            except FileNotFoundError:
                trash = ""  # gone already: only its registry entry is left
            del versions[version]
            registry.save(versions)
        except OSError as exc:
            log.debug("cannot remove AYON launcher %s: %s", version, exc)
            continue
        finally:
            mark.release()
        if trash:
            shutil.rmtree(trash, ignore_errors=True)
        removed.append(version)
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if name.startswith(_TRASH_PREFIX):  # of a clean-up that was interrupted
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
    if removed:
        log.info("removed AYON launcher version(s) %s, no longer used (%s keeps %d)",
                 ", ".join(removed), KEEP_VERSIONS_ENV, keep_count())
    return removed


def _last_start(root: str, entry: dict) -> float:
    """When a process last started from the version in ``root`` (its install when none did)."""
    try:
        return os.stat(mark_path(root)).st_mtime
    except OSError:
        pass
    from datetime import datetime

    from ayon_launcher.bootstrapper.selfupdate.registry import TIME_FORMAT

    try:
        return datetime.strptime(str(entry.get("installed_at")), TIME_FORMAT).timestamp()
    except ValueError:
        return 0.0  # an entry without a time: as old as can be


def _root(entry: dict) -> str:
    """The virtual environment folder of a registry entry (its Python is ``bin/python`` or
    ``Scripts/python.exe`` in it)."""
    return os.path.dirname(os.path.dirname(str(entry.get("python"))))
