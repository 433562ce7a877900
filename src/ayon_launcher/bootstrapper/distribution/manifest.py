"""File manifests of installed items: recorded at install, checked cheaply at every start.

An item's folder holds, beside its files, the metadata file (``METADATA_FILE``, small, read at
every start) and the manifest (``MANIFEST_FILE``: size, mtime and CRC-32 of every file, read
only when needed). The metadata keeps a *seal*: the modification time of every sub-folder and
the names at the top of the folder.

The start-up check costs one listing of the item's folder, one ``stat`` of each top-level file
and one of each sub-folder (not one per file): removing, adding or renaming a file changes its
folder's time, so an emptied, pruned or partly replaced folder shows there. Only the folders
whose time changed are looked into (their files' sizes and times against the manifest; a file
of the same size but another time is read and its CRC-32 compared). A file rewritten in place
without any change of its folder is found by the full check (``ayon --verify``), which reads
every file. Python's ``__pycache__`` folders are left out, and files added beside the
recorded ones are ignored: a folder whose time changed for such reasons only is sealed again.

CRC-32 is what the zip format keeps for each member: the archive's own values (checked while
extracting) are recorded for zips at no cost, tar members are computed once. It detects
accidental damage; the store is not a security boundary (whoever can change its files can
change the manifest too).
"""

from __future__ import annotations

import json
import os

from ayon_launcher.support.atomicfile import write_bytes_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path
    from typing import Any

METADATA_FILE = ".ayon_distribution.json"
MANIFEST_FILE = ".ayon_manifest.json"
FORMAT = 1
PYCACHE = "__pycache__"
_CHUNK = 1024 * 1024

# {relative posix path: [size, mtime_ns, crc32]}
Files = dict[str, list[int]]


def is_own(name: str) -> bool:
    """The store's own files at an item's top (metadata, manifest, their temporary files)."""
    return name.startswith((".ayon_", "..ayon_"))


def file_crc(path: str | PathLike[str]) -> int:
    import zlib  # here: a warm start's check reads no file

    crc = 0
    with open(path, "rb", buffering=0) as stream:
        while chunk := stream.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def archive_crcs(archive: Path) -> dict[str, int] | None:
    """{member path: CRC-32} of a zip (its central directory: checked against every member's
    data while extracting); None for other archives (their files are read once instead)."""
    import posixpath
    import zipfile

    if not zipfile.is_zipfile(archive):
        return None
    try:
        with zipfile.ZipFile(archive) as zf:
            return {posixpath.normpath(info.filename.replace("\\", "/")): info.CRC
                    for info in zf.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile):
        return None


def record(root: Path, crcs: dict[str, int] | None = None) -> tuple[Files, dict[str, Any]]:
    """(manifest files, seal) of the folder ``root`` as it is now; ``crcs`` (from
    ``archive_crcs``) spares reading the files."""
    files: Files = {}
    dirs: dict[str, int] = {}
    total = 0
    pending = [("", str(root))]
    while pending:
        rel_dir, path = pending.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if not rel_dir and is_own(name):
                    continue
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if entry.is_dir(follow_symlinks=False):
                    if name == PYCACHE:
                        continue
                    dirs[rel] = entry.stat(follow_symlinks=False).st_mtime_ns
                    pending.append((rel, entry.path))
                    continue
                info = entry.stat(follow_symlinks=False)
                crc = crcs.get(rel) if crcs is not None else None
                if crc is None:
                    crc = file_crc(entry.path)
                files[rel] = [info.st_size, info.st_mtime_ns, crc]
                total += info.st_size
    # The folders' times are read last: nothing is written into them after this.
    for rel in dirs:
        dirs[rel] = os.stat(os.path.join(root, rel)).st_mtime_ns
    # Top-level files are checked one by one (a folder's time says nothing of the metadata
    # file's rewrites beside them); top-level folders are in ``dirs``.
    top = {rel: files[rel][:2] if rel in files else None for rel in
           (*(r for r in files if "/" not in r), *(r for r in dirs if "/" not in r))}
    seal = {"format": FORMAT, "files": len(files), "bytes": total, "dirs": dirs,
            "top": dict(sorted(top.items()))}
    return files, seal


def write_files(root: Path, files: Files, durable: bool = True) -> None:
    """Write the manifest into ``root`` (compact: it is read only when needed);
    ``durable`` as for ``write_bytes_atomic``."""
    data = json.dumps({"format": FORMAT, "files": files}, separators=(",", ":"))
    write_bytes_atomic(os.path.join(root, MANIFEST_FILE), data.encode("utf-8"),
                       durable=durable)


def read_files(root: str | PathLike[str]) -> Files | None:
    try:
        with open(os.path.join(root, MANIFEST_FILE), "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    files = data.get("files")
    return files if isinstance(files, dict) else None


def _listing(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (", ..." if len(items) > limit else "")


def check(root: str | PathLike[str], seal: dict[str, Any], full: bool = False
          ) -> tuple[str | None, dict[str, int] | None]:
    """Whether the folder ``root`` still holds what ``seal`` (from ``record``) describes.

    Returns (damage, new folder times): damage is None when intact, else a short reason in
    words; the new times, when not None, should replace ``seal["dirs"]`` (folders whose time
    changed with their recorded files intact). ``full`` reads every file.
    """
    try:
        names = set(os.listdir(root))
    except FileNotFoundError:
        return "its folder is missing", None
    except OSError as exc:
        return f"its folder cannot be read ({exc.strerror})", None
    top: dict[str, list[int] | None] = seal.get("top") or {}
    gone = sorted(name for name in top if name not in names)
    if gone:
        if len(gone) == len(top):
            return "its folder was emptied", None
        return f"{len(gone)} of {len(top)} top-level entries missing ({_listing(gone)})", None
    dirs: dict[str, int] = seal.get("dirs") or {}
    changed: list[str] = []
    lost: list[str] = []
    # Plain strings: os.path.join of a Path per folder costs a visible share of the check.
    base = os.fspath(root) + os.sep
    stat = os.stat
    for name, known in top.items():
        if known is None:
            continue
        try:
            info = stat(base + name)
        except OSError:
            lost.append(name)
            continue
        if [info.st_size, info.st_mtime_ns] != known:
            changed.append("")  # the top level is looked into
            break
    for rel, mtime in dirs.items():
        try:
            if stat(base + rel).st_mtime_ns != mtime:
                changed.append(rel)
        except OSError:
            lost.append(rel)
    if lost:
        return f"{len(lost)} entries missing ({_listing(sorted(lost))})", None
    if not (changed or full):
        return None, None
    files = read_files(root)
    if files is None:
        return "its file manifest is missing or unreadable", None
    watched = set(changed)
    missing: list[str] = []
    different: list[str] = []
    for rel, (size, mtime, crc) in files.items():
        parent = rel.rpartition("/")[0]
        if not (full or parent in watched):
            continue
        path = base + rel
        try:
            info = stat(path)
        except OSError:
            missing.append(rel)
            continue
        if info.st_size != size:
            different.append(rel)
        elif (full or info.st_mtime_ns != mtime) and _crc_of(path) != crc:
            different.append(rel)
    if missing or different:
        parts = []
        if missing:
            parts.append(f"{len(missing)} of {len(files)} files missing "
                         f"({_listing(sorted(missing))})")
        if different:
            parts.append(f"{len(different)} file(s) changed ({_listing(sorted(different))})")
        return "; ".join(parts), None
    if not any(changed):  # nothing, or only top-level files touched (times not re-sealed)
        return None, None
    fresh = dict(dirs)
    for rel in filter(None, changed):
        try:
            fresh[rel] = stat(base + rel).st_mtime_ns
        except OSError:
            return None, None
    return None, fresh


def _crc_of(path: str) -> int | None:
    try:
        return file_crc(path)
    except OSError:
        return None
