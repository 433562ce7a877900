"""The local add-on store, one owner of it: what the sync and the bootstrap ask of the disk."""

# The life of one item, as the sync (``sync.sync_items``) drives it:
#
#   prepare(items)                    the state folder and its lock folders exist
#   installed_metadata(item)          installed? then check_installed(...) -> damage or None
#   with item_lock(item):             one launcher at a time per item, any number of items
#       installed_metadata(item)      another launcher may have installed it meanwhile
#       new_work_folder(item)         fetch + extract + manifest there (sync.py)
#       put_in_place(item, ...)       rename into place under the store lock, marked in use
#
# and of one bundle, as ``distribute`` and the bootstrap drive it:
#
#   record_bundle(installed, items)   under the store lock: mark in use, check complete,
#                                     record for offline starts, sweep leftovers, clean up
#   last_installed(...), claim(...)   an offline start: the last complete bundle, marked
#   damaged_items(bundle)             ... whose folders must still be intact
#   claim(...), keep_first(bundle)    a warm start: the recorded bundle, marked, kept first
#                                     in the history, unused folders cleaned up
#
# ``folders`` owns the item folders (metadata, atomic install, trash), ``locks`` the locks
# between launchers (store lock, item locks, in-use marks), ``history`` the bundles installed.

from __future__ import annotations

import os

from ayon_launcher.bootstrapper.distribution.manifest import METADATA_FILE
from ayon_launcher.bootstrapper.distribution.models import DistItem
from ayon_launcher.bootstrapper.distribution.store.folders import (
    check_installed,
    install,
    installed_metadata,
    is_installed,
    new_work_folder,
    purge,
    read_metadata,
    recorded_sha256,
    remove_leftovers,
    write_metadata,
)
from ayon_launcher.bootstrapper.distribution.store.history import (
    DEV_VARIANT,
    InstalledAddon,
    InstalledBundle,
    bundle_folders,
    cleanup,
    damaged_items,
    keep_count,
    last_installed,
    load_history,
    record_installed,
    still_complete,
)
from ayon_launcher.bootstrapper.distribution.store.locks import (
    StoreLockTimeout,
    ensure_usable,
    hold_folders,
    item_lock,
    release_marks,
    store_lock,
    unusable,
)
from ayon_launcher.support import paths
from ayon_launcher.support.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from ayon_launcher.bootstrapper.distribution.sources import Fetched

__all__ = [
    "DEV_VARIANT", "METADATA_FILE", "InstalledAddon", "InstalledBundle", "StoreLockTimeout",
    "check_installed", "claim", "cleanup", "damaged_items", "hold", "hold_if_complete",
    "installed_metadata", "is_installed", "item_lock", "keep_count", "keep_first",
    "last_installed", "load_history", "new_work_folder", "prepare", "purge", "put_in_place",
    "read_metadata", "record_bundle", "record_installed", "recorded_sha256", "release_marks",
    "still_complete", "store_lock", "unusable",
]

log = get_logger("distribution")


def prepare(items: list[DistItem]) -> None:
    """Make the state folder, its lock folders and the items' parent folders (a clear
    DistributionError when impossible): call before taking item locks."""
    ensure_usable(*sorted({item.target.parent for item in items}))


def put_in_place(item: DistItem, content: Path, source: str, fetched: Fetched,
                 seal: dict[str, Any], check: Callable[[], None] | None = None) -> None:
    """Move the extracted ``content`` of ``item`` into place, with its metadata, and mark it
    in use by this process (call with the item's lock held).

    The store lock is held for the rename only (the metadata is written before): the
    clean-up of another launcher (under the same lock) sees the new folder marked in use
    before it is recorded. An invalid earlier copy is deleted after the lock is released.
    OSError when a write or the rename fails.
    """
    write_metadata(item, content, source, fetched, seal)
    with store_lock(check=check):
        trash = install(item, content)
        hold_folders([item.target])
    if trash is not None:
        purge(trash)


def hold_if_complete(installed: InstalledBundle, items: list[DistItem]) -> bool:
    """Mark the bundle's folders in use, then tell whether every item is still installed.

    Marked first: from then on no other launcher's clean-up removes them, so a True stays
    true."""
    hold_folders(bundle_folders(installed))
    return all(is_installed(item) for item in items)


def record_bundle(installed: InstalledBundle, items: list[DistItem], keep: int) -> bool:
    """Under the store lock: mark the bundle in use, check it is complete, record it (in a
    history of ``keep`` bundles), sweep leftovers of interrupted runs and clean up unused
    versions (deleted once the lock is released). False when an item went missing (another
    launcher's clean-up); StoreLockTimeout when the lock stays taken."""
    with store_lock():
        try:
            if not hold_if_complete(installed, items):
                return False
            history = record_installed(installed, keep)
            # Before the clean-up: the folders it moves aside are deleted after the lock.
            removed = remove_leftovers(paths.addons_dir(), paths.dependency_packages_dir())
            trash = cleanup(history, installed)
        except OSError as exc:
            raise unusable(exc) from None
    if removed:
        log.info("removed %d leftover folder(s) of an interrupted run", removed)
    purge(*trash)
    return True


def hold(bundle: InstalledBundle) -> None:
    """Mark ``bundle``'s folders in use by this process without the store lock (when it stays
    taken and the bundle is complete here: it starts, not recorded)."""
    hold_folders(bundle_folders(bundle))


def claim(bundle: InstalledBundle) -> bool:
    """For an offline start: mark ``bundle``'s folders as in use, under the store lock, if
    they are all still there (another launcher's clean-up may have removed some since the
    history was read). False when the bundle is no longer complete."""
    with store_lock():
        if not still_complete(bundle):
            return False
        hold_folders(bundle_folders(bundle))
    return True


def _unused_folders(kept: set[str]) -> bool:
    """Whether the store has an item folder that no bundle of the history uses (a listing of
    the two store folders: the clean-up itself, under the store lock, decides)."""
    for folder in (paths.addons_folder(), paths.dependency_packages_folder()):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        if any(not name.startswith(".") and os.path.join(folder, name) not in kept
               for name in names):
            return True
    return False


def keep_first(installed: InstalledBundle) -> None:
    """For a warm start, what ``record_bundle`` does at every full one, when there is
    something to do: keep the bundle first in the history of installed bundles (the clean-up
    keeps the versions of the most recent ones: a bundle started warm every day must not lose
    its folders to three others installed since), and remove the folders no kept bundle and
    no running launcher uses (one left by a launcher that has ended since). Nothing is
    written, and the store lock is not taken, when the bundle is first already and no folder
    is unused."""
    history = load_history()
    first = bool(history) and (history[0].bundle_name, history[0].server_url) == (
        installed.bundle_name, installed.server_url)
    kept = {os.path.normpath(addon.path) for bundle in [installed, *history]
            for addon in bundle.addons}
    kept |= {os.path.normpath(bundle.dependency_package) for bundle in [installed, *history]
             if bundle.dependency_package}
    if first and not _unused_folders(kept):
        return
    trash = []
    try:
        with store_lock():
            if not first:  # (a bundle may leave the history: its folders are unused then)
                history = record_installed(installed, keep_count())
            trash = cleanup(history, installed)
    except (OSError, StoreLockTimeout) as exc:
        # a step of the warm start: logged under its logger
        get_logger("bootstrap").debug("history or clean-up skipped on a warm start: %s", exc)
    if trash:
        purge(*trash)
