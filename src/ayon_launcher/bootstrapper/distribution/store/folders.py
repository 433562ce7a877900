"""The store's item folders: their metadata, atomic installs, trash and leftovers of killed runs."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from ayon_launcher.bootstrapper.distribution import manifest
from ayon_launcher.bootstrapper.distribution.manifest import METADATA_FILE
from ayon_launcher.bootstrapper.distribution.models import DistItem
from ayon_launcher.bootstrapper.distribution.store.locks import item_lock_if_free
from ayon_launcher.support.atomicfile import write_json_atomic
from ayon_launcher.support.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path
    from typing import Any

    from ayon_launcher.bootstrapper.distribution.sources import Fetched

log = get_logger("distribution")

TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
_TOKEN_SIZE = 6  # bytes: work folders end with "-" and 12 hex digits


def _token(size: int) -> str:
    """A random name part (os.urandom: uuid costs 2 ms of imports at start-up)."""
    return os.urandom(size).hex()


def read_metadata(folder: str | PathLike[str]) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, METADATA_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def installed_metadata(item: DistItem) -> dict[str, Any] | None:
    """The metadata of the item's folder when it holds this item (the server's checksum,
    or without one the same name and version); None otherwise."""
    meta = read_metadata(item.target)
    if meta is None:
        return None
    if item.checksum:
        same = (str(meta.get("checksum", "")).lower() == item.checksum.strip().lower()
                and meta.get("algorithm", "sha256") == item.algorithm)
        return meta if same else None
    # No checksum announced: a complete earlier install of the same name/version is enough.
    if meta.get("name") == item.name and meta.get("version") == item.version:
        return meta
    return None


def is_installed(item: DistItem) -> bool:
    """True when the item's folder exists and its metadata matches the server checksum."""
    return installed_metadata(item) is not None


def recorded_sha256(meta: dict[str, Any]) -> str | None:
    """The sha256 of the archive an install came from (older metadata: its checksum, when
    that was a sha256)."""
    value = meta.get("sha256")
    if not value and meta.get("algorithm", "sha256") == "sha256":
        value = meta.get("checksum")
    return str(value).lower() if value else None


def check_installed(folder: str | PathLike[str], label: str, meta: dict[str, Any],
                    full: bool = False) -> str | None:
    """Why the installed ``folder`` (with metadata ``meta``) is damaged; None when intact.

    The cheap check of ``manifest.check`` (``full``: every file read). A folder sealed again
    (its files intact) or installed by an older launcher (no manifest: recorded once from
    the files present) gets its metadata rewritten, under the item's lock, when it is free.
    """
    seal = meta.get("manifest")
    if not isinstance(seal, dict) or seal.get("format") != manifest.FORMAT:
        return _adopt(folder, label, meta)
    damage, fresh = manifest.check(folder, seal, full)
    if damage is None and fresh is not None:
        _rewrite_metadata(folder, meta, {**meta, "manifest": {**seal, "dirs": fresh}})
    return damage


def _adopt(folder: str | PathLike[str], label: str, meta: dict[str, Any]) -> str | None:
    """An install of an older launcher: record its manifest from the files there (an empty
    folder is damaged)."""
    try:
        present = [name for name in os.listdir(folder) if not manifest.is_own(name)]
    except FileNotFoundError:
        return "its folder is missing"
    except OSError as exc:
        return f"its folder cannot be read ({exc.strerror})"
    if not present:
        return "its folder was emptied"

    def build() -> dict[str, Any]:
        files, seal = manifest.record(folder)
        manifest.write_files(folder, files)
        return {**meta, "manifest": seal}

    if _rewrite_metadata(folder, meta, build):
        log.info("%s: recorded a file manifest of this install made by an older launcher",
                 label)
    return None


def _rewrite_metadata(folder: str | PathLike[str], meta: dict[str, Any],
                      new: dict[str, Any] | Callable[[], dict[str, Any]]) -> bool:
    """Replace the metadata of ``folder`` by ``new`` (or what it returns), if the item's
    lock is free and the metadata still is ``meta``: never over a new install. False when
    not done (a read-only store checks the same again at the next start)."""
    with item_lock_if_free(folder) as free:
        if not free or read_metadata(folder) != meta:
            return False
        try:
            write_json_atomic(os.path.join(folder, METADATA_FILE),
                              new() if callable(new) else new)
        except OSError as exc:
            log.debug("cannot update the metadata of %s: %s", folder, exc)
            return False
        return True


def new_work_folder(item: DistItem) -> Path:
    """A fresh work folder beside the item's target (same filesystem, so rename is atomic).

    Its name carries the target's name: the leftovers sweep asks that item's lock whether a
    live launcher still works in it. Create it with the item lock held.
    """
    parent = item.target.parent
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f"{TMP_PREFIX}{item.target.name}-{_token(_TOKEN_SIZE)}"
    path.mkdir()
    return path


def write_metadata(item: DistItem, extracted: Path, source: str, fetched: Fetched,
                   seal: dict[str, Any]) -> None:
    """Write the metadata of a fully extracted folder (still a work folder: no store lock
    needed).

    ``fetched`` tells what was downloaded (checksums, size), ``seal`` is the folder's
    manifest seal (``manifest.record``, its file list already written). Not flushed to
    disk, as the thousands of extracted files beside it are not: the rename into place
    keeps installs whole for every reader, and after a power cut a folder whose metadata
    was lost reads as not installed and is installed again (a flush per item committed
    the file system's journal, all the new files' entries with it, in the middle of the
    sync: 0.2 to 13 ms each on the test machine).
    """
    meta = {
        "kind": item.kind,
        "name": item.name,
        "version": item.version,
        "source": source,
        "checksum": fetched.checksum,
        "algorithm": item.algorithm,
        # Computed here whatever the server announced: repairs are checked against it.
        "sha256": fetched.sha256,
        "size": fetched.size,
        "manifest": seal,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json_atomic(extracted / METADATA_FILE, meta, durable=False)


def install(item: DistItem, extracted: Path) -> str | None:
    """Move a fully extracted folder, its metadata written (``write_metadata``), into place:
    a rename. Call with the store lock held. Returns the invalid earlier copy moved aside,
    if any: the caller deletes it (``purge``) once the lock is released.
    """
    target = item.target
    if target.exists():
        # An invalid earlier copy (checksum changed on the server, damaged): aside first.
        trash = move_to_trash(target)
        os.rename(extracted, target)
        return trash
    os.rename(extracted, target)
    return None


def move_to_trash(folder: str | PathLike[str]) -> str:
    """Rename ``folder`` out of the way (fast, under the store lock); ``purge`` deletes it."""
    parent, name = os.path.split(os.path.normpath(folder))
    trash = os.path.join(parent, f"{TRASH_PREFIX}{name}-{_token(4)}")
    os.rename(folder, trash)
    return trash


def purge(*entries: str | PathLike[str]) -> None:
    """Delete trash entries; a link is removed, never followed."""
    for entry in entries:
        if os.path.isdir(entry) and not os.path.islink(entry):
            import shutil  # only when there is something to remove (a warm start has not)

            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                os.unlink(entry)
            except FileNotFoundError:
                pass


def _work_item(name: str) -> str | None:
    """The target name of a work folder ``.tmp-<target>-<token>``; None for other names."""
    base, sep, token = name[len(TMP_PREFIX):].rpartition("-")
    if not (sep and base and len(token) == 2 * _TOKEN_SIZE):
        return None
    try:
        int(token, 16)
    except ValueError:
        return None
    return base


def remove_leftovers(*folders: Path) -> int:
    """Delete work folders of killed or interrupted runs and trash; returns the count. Call
    with the store lock held.

    A work folder is removed only when no live launcher holds its item's lock (the one that
    made it holds it until it is done). Work folders of an unknown name are those of earlier
    launcher versions, which held the store lock while they worked: the lock held here says
    that they are done.
    """
    count = 0
    for folder in folders:
        try:
            entries = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(TRASH_PREFIX):
                purge(entry)
                count += 1
                continue
            if not entry.name.startswith(TMP_PREFIX):
                continue
            name = _work_item(entry.name)
            if name is None:
                purge(entry)
                count += 1
                continue
            with item_lock_if_free(folder / name) as free:
                if not free:
                    continue  # a live launcher is installing that item (or unknown)
                purge(entry)
                count += 1
    return count
