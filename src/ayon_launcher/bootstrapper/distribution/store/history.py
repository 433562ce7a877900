"""The history of fully installed bundles (for offline starts) and clean-up of unused versions."""

from __future__ import annotations

import json
import os
import time

from ayon_launcher.bootstrapper.distribution.store.folders import (
    check_installed,
    move_to_trash,
    read_metadata,
)
from ayon_launcher.bootstrapper.distribution.store.locks import (
    is_shared,
    locks_dir,
    used_by_another_process,
)
from ayon_launcher.support import paths
from ayon_launcher.support.atomicfile import write_json_atomic
from ayon_launcher.support.log import get_logger
from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger("distribution")

KEEP_BUNDLES_ENV = "AYON_LAUNCHER_KEEP_BUNDLES"
DEFAULT_KEEP = 3
DEV_VARIANT = "dev"  # asks last_installed for the user's dev bundle


class InstalledAddon(Record):
    _fields = ("name", "version", "path", "dev")

    def __init__(self, name: str, version: str, path: str, dev: bool = False) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.dev = dev

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the history and warm-start files (read back as keywords)."""
        return {"name": self.name, "version": self.version, "path": self.path, "dev": self.dev}


class InstalledBundle(Record):
    """Everything needed to start from a bundle without the server."""

    _fields = ("bundle_name", "server_url", "variant", "addons", "dependency_package",
               "settings", "installed_at", "studio_bundle_name")

    def __init__(self, bundle_name: str, server_url: str | None = None,
                 variant: str = "production", addons: list[InstalledAddon] | None = None,
                 dependency_package: str | None = None, settings: dict[str, Any] | None = None,
                 installed_at: str = "", studio_bundle_name: str | None = None) -> None:
        self.bundle_name = bundle_name  # the bundle in use: the project bundle when one applies
        self.server_url = server_url
        self.variant = variant
        self.addons = [] if addons is None else addons
        self.dependency_package = dependency_package
        self.settings = {} if settings is None else settings
        self.installed_at = installed_at
        self.studio_bundle_name = studio_bundle_name  # the studio bundle under a project bundle

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the history and warm-start files, read back by ``from_dict``."""
        return {
            "bundle_name": self.bundle_name,
            "server_url": self.server_url,
            "variant": self.variant,
            "addons": [addon.to_dict() for addon in self.addons],
            "dependency_package": self.dependency_package,
            "settings": self.settings,
            "installed_at": self.installed_at,
            "studio_bundle_name": self.studio_bundle_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InstalledBundle:
        return cls(
            bundle_name=data["bundle_name"],
            server_url=data.get("server_url"),
            variant=data.get("variant") or "production",
            addons=[InstalledAddon(**a) for a in data.get("addons") or []],
            dependency_package=data.get("dependency_package"),
            settings=data.get("settings") or {},
            installed_at=data.get("installed_at") or "",
            studio_bundle_name=data.get("studio_bundle_name"),
        )


def keep_count() -> int:
    from ayon_launcher.support.envconfig import env_int

    return env_int(KEEP_BUNDLES_ENV, DEFAULT_KEEP, minimum=1)


def history_path() -> str:
    return os.path.join(paths.state_folder(), "installed_bundles.json")


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_history() -> list[InstalledBundle]:
    """Fully installed bundles, most recently used first."""
    try:
        data = _read_json(history_path())
    except (OSError, ValueError):
        return []
    entries = []
    for raw in data.get("bundles", []) if isinstance(data, dict) else []:
        try:
            entries.append(InstalledBundle.from_dict(raw))
        except (KeyError, TypeError):
            continue
    return entries


def record_installed(bundle: InstalledBundle, keep: int) -> list[InstalledBundle]:
    """Put ``bundle`` first in the history of the ``keep`` (``keep_count()``) most recent
    bundles (call with the store lock held); return the history."""
    bundle.installed_at = bundle.installed_at or time.strftime("%Y-%m-%dT%H:%M:%S%z")
    history = [b for b in load_history()
               if not (b.bundle_name == bundle.bundle_name and b.server_url == bundle.server_url)]
    history.insert(0, bundle)
    history = history[:keep]
    # Private: it keeps the bundles' studio settings, which may hold add-on credentials.
    write_json_atomic(history_path(), {"bundles": [b.to_dict() for b in history]}, private=True)
    if is_shared():
        _record_shared(bundle, keep)
    return history


def shared_history_path() -> str:
    """Recent bundles of every machine using a shared storage (their folders only)."""
    return os.path.join(locks_dir(), "recent_bundles.json")


def _load_shared() -> list[dict[str, Any]]:
    try:
        data = _read_json(shared_history_path())
    except (OSError, ValueError):
        return []
    entries = data.get("bundles") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def _record_shared(bundle: InstalledBundle, keep: int) -> None:
    """Put ``bundle``'s folders first in the shared storage's list of the ``keep`` most
    recent bundles of all machines (store lock held): the clean-up of one machine keeps
    them, as another machine may start from them offline. No settings: other users read it."""
    entry = {"bundle_name": bundle.bundle_name, "server_url": bundle.server_url,
             "folders": bundle_folders(bundle),
             "installed_at": bundle.installed_at}
    recent = [e for e in _load_shared() if (e.get("bundle_name"), e.get("server_url"))
              != (bundle.bundle_name, bundle.server_url)]
    write_json_atomic(shared_history_path(), {"bundles": [entry, *recent][:keep]})


def _shared_folders() -> set[str]:
    return {os.path.realpath(f) for e in _load_shared() for f in e.get("folders") or []
            if isinstance(f, str)}


def bundle_folders(bundle: InstalledBundle) -> list[str]:
    """The bundle's folders in the store (a dev add-on's own folder is not one)."""
    folders = [os.path.normpath(a.path) for a in bundle.addons if not a.dev]
    if bundle.dependency_package:
        folders.append(os.path.normpath(bundle.dependency_package))
    return folders


def still_complete(bundle: InstalledBundle) -> bool:
    """Whether the bundle's store folders are all there (another launcher's clean-up may
    have removed some). A missing dev add-on folder does not count: loading the add-ons
    warns about it, online or offline."""
    return all(os.path.isdir(folder) for folder in bundle_folders(bundle))


def damaged_items(bundle: InstalledBundle, full: bool = False) -> list[str]:
    """'<item> is damaged (<reason>)' for each store folder of ``bundle`` whose files are not
    those installed (``folders.check_installed``; ``full``: every file read)."""
    problems = []
    for folder in bundle_folders(bundle):
        meta = read_metadata(folder)
        if meta is None:
            problems.append(f"{os.path.basename(folder)} is damaged (its metadata is missing)")
            continue
        if meta.get("kind") == "addon":
            label = f"addon {meta.get('name')} {meta.get('version')}"
        else:
            label = f"dependency package {meta.get('name')}"
        damage = check_installed(folder, label, meta, full)
        if damage is not None:
            problems.append(f"{label} is damaged ({damage})")
    return problems


def _of_variant(bundle: InstalledBundle, variant: str) -> bool:
    if variant == DEV_VARIANT:
        # A dev bundle's variant is its own name; never fall back to a studio bundle.
        return bundle.variant not in ("production", "staging")
    return bundle.variant == variant


def last_installed(server_url: str | None = None, bundle_name: str | None = None,
                   variant: str | None = None) -> InstalledBundle | None:
    """The most recent complete bundle (of ``server_url`` / named ``bundle_name`` /
    of ``variant`` when given).

    ``variant`` is "production", "staging" or ``DEV_VARIANT`` (any dev bundle): only bundles
    of that variant count, since starting another bundle would hide that the one asked for
    is missing.
    """
    for bundle in load_history():
        if server_url and bundle.server_url and bundle.server_url.rstrip("/") != server_url:
            continue
        if bundle_name and bundle_name not in (bundle.bundle_name, bundle.studio_bundle_name):
            continue
        if variant and not _of_variant(bundle, variant):
            continue
        if still_complete(bundle):
            return bundle
    return None


def cleanup(history: list[InstalledBundle], current: InstalledBundle) -> list[str]:
    """Move aside store folders used by none of the kept bundles (never the current one's)
    and by no other running launcher; returns the moved folders, for ``purge`` once the
    store lock is released (call with it held: renames are quick, deleting is not)."""
    keep = {os.path.realpath(a.path) for b in [current, *history] for a in b.addons}
    keep |= {os.path.realpath(b.dependency_package) for b in [current, *history]
             if b.dependency_package}
    if is_shared():
        keep |= _shared_folders()
    removed = []
    for folder in (paths.addons_folder(), paths.dependency_packages_folder()):
        try:
            entries = [entry for entry in os.scandir(folder)
                       if not entry.name.startswith(".") and not entry.is_symlink()
                       and entry.is_dir()]
        except OSError:
            continue
        for entry in entries:
            if os.path.realpath(entry.path) in keep:
                continue
            if read_metadata(entry.path) is None:
                continue  # not ours (or not complete): leave it alone
            if used_by_another_process(entry.path):
                log.debug("keeping %s: another running launcher uses it", entry.name)
                continue
            try:
                removed.append(move_to_trash(entry.path))
            except OSError as exc:
                log.debug("cannot remove %s: %s", entry.path, exc)
    if removed:
        log.debug("removing %d unused add-on/dependency folder(s)", len(removed))
    return removed
