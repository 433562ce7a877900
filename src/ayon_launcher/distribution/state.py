"""Launcher state: fully installed bundles (for offline starts) and clean-up of unused versions."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import paths
from ..log import get_logger
from . import store

log = get_logger("distribution")

KEEP_BUNDLES_ENV = "AYON_LAUNCHER_KEEP_BUNDLES"
DEFAULT_KEEP = 3


@dataclass
class InstalledAddon:
    name: str
    version: str
    path: str
    dev: bool = False


@dataclass
class InstalledBundle:
    """Everything needed to start from a bundle without the server."""

    bundle_name: str
    server_url: str | None = None
    variant: str = "production"
    addons: list[InstalledAddon] = field(default_factory=list)
    dependency_package: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    installed_at: str = ""

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
        )


def keep_count() -> int:
    try:
        return max(1, int(os.environ.get(KEEP_BUNDLES_ENV, DEFAULT_KEEP)))
    except ValueError:
        return DEFAULT_KEEP


def history_path() -> Path:
    return paths.state_dir() / "installed_bundles.json"


def load_history() -> list[InstalledBundle]:
    """Fully installed bundles, most recently used first."""
    try:
        data = json.loads(history_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = []
    for raw in data.get("bundles", []) if isinstance(data, dict) else []:
        try:
            entries.append(InstalledBundle.from_dict(raw))
        except (KeyError, TypeError):
            continue
    return entries


def record_installed(bundle: InstalledBundle) -> list[InstalledBundle]:
    """Put ``bundle`` first in the history (call with the store lock held); return the history."""
    bundle.installed_at = bundle.installed_at or time.strftime("%Y-%m-%dT%H:%M:%S%z")
    history = [b for b in load_history()
               if not (b.bundle_name == bundle.bundle_name and b.server_url == bundle.server_url)]
    history.insert(0, bundle)
    history = history[: keep_count()]
    store.write_json_atomic(history_path(), {"bundles": [asdict(b) for b in history]})
    return history


def _still_complete(bundle: InstalledBundle) -> bool:
    folders = [a.path for a in bundle.addons]
    if bundle.dependency_package:
        folders.append(bundle.dependency_package)
    return all(Path(p).is_dir() for p in folders)


def last_installed(server_url: str | None = None, bundle_name: str | None = None,
                   variant: str | None = None) -> InstalledBundle | None:
    """The most recent complete bundle (of ``server_url`` / named ``bundle_name`` when given).

    With ``variant``, a bundle of that variant is preferred over a more recent other one.
    """
    candidates = []
    for bundle in load_history():
        if server_url and bundle.server_url and bundle.server_url.rstrip("/") != server_url:
            continue
        if bundle_name and bundle.bundle_name != bundle_name:
            continue
        if _still_complete(bundle):
            candidates.append(bundle)
    if variant:
        preferred = [b for b in candidates if b.variant == variant]
        candidates = preferred or candidates
    return candidates[0] if candidates else None


def cleanup(history: list[InstalledBundle], current: InstalledBundle) -> list[Path]:
    """Remove store folders used by none of the kept bundles (never the current one's)."""
    keep = {Path(a.path).resolve() for b in [current, *history] for a in b.addons}
    keep |= {Path(b.dependency_package).resolve() for b in [current, *history]
             if b.dependency_package}
    removed = []
    for folder in (paths.addons_dir(), paths.dependency_packages_dir()):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            if store.read_metadata(entry) is None:
                continue  # not ours (or not complete): leave it alone
            if entry.resolve() in keep:
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    if removed:
        log.debug("removed %d unused add-on/dependency folder(s)", len(removed))
    return removed
