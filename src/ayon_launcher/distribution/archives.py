"""Archive checks: checksums, and extraction that refuses paths escaping the target folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..errors import DistributionError

CHUNK = 1024 * 1024


class ArchiveError(DistributionError):
    """The archive is unsafe or unreadable."""


class ChecksumError(DistributionError):
    """The file does not match the checksum the server announced."""


def new_hasher(algorithm: str) -> hashlib._Hash:  # type: ignore[name-defined]
    """A hashlib object for the server's algorithm name (sha256, md5, sha1, ...)."""
    name = (algorithm or "sha256").lower().replace("-", "")
    try:
        return hashlib.new(name)
    except ValueError:
        raise DistributionError(f"unsupported checksum algorithm {algorithm!r}") from None


def file_checksum(path: Path, algorithm: str = "sha256") -> str:
    hasher = new_hasher(algorithm)
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def check_checksum(actual: str, expected: str | None, what: str) -> None:
    """Raise ChecksumError when a checksum is announced and differs."""
    if expected and actual.lower() != expected.strip().lower():
        raise ChecksumError(
            f"{what}: checksum mismatch (expected {expected.strip()[:16]}..., got {actual[:16]}...)"
        )


def _unsafe_member(name: str) -> str | None:
    """Why an archive member name is unsafe, or None when it stays inside the target."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return f"absolute path {name!r}"
    if ".." in PurePosixPath(normalized).parts:
        return f"path with '..' {name!r}"
    return None


def _inside(root: Path, candidate: Path) -> bool:
    root = root.resolve()
    try:
        candidate.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def archive_kind(path: Path) -> str:
    """'zip' or 'tar' from the file content (not the name)."""
    if zipfile.is_zipfile(path):
        return "zip"
    if tarfile.is_tarfile(path):
        return "tar"
    raise ArchiveError(f"{path.name}: not a zip or tar archive")


def safe_extract(
    archive: Path,
    target: Path,
    what: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Extract ``archive`` into the existing folder ``target``, refusing zip-slip and symlinks.

    Every member is checked before anything is written, so a rejected archive leaves nothing.
    """
    kind = archive_kind(archive)
    if kind == "zip":
        _extract_zip(archive, target, what, progress)
    else:
        _extract_tar(archive, target, what, progress)


def _extract_zip(archive: Path, target: Path, what: str,
                 progress: Callable[[int, int], None] | None) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{what}: unreadable zip archive ({exc})") from None
    with zf:
        members = zf.infolist()
        for info in members:
            reason = _unsafe_member(info.filename)
            if reason:
                raise ArchiveError(f"{what}: archive rejected, {reason}")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                # Symlinks could point anywhere; add-on archives have no reason to hold them.
                raise ArchiveError(f"{what}: archive rejected, symlink {info.filename!r}")
        total = sum(info.file_size for info in members) or 1
        done = 0
        for info in members:
            dest = target / info.filename.replace("\\", "/")
            if not _inside(target, dest):
                raise ArchiveError(
                    f"{what}: archive rejected, {info.filename!r} escapes the target")
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ArchiveError(f"{what}: corrupt archive member {info.filename!r} ({exc})") \
                    from None
            mode = info.external_attr >> 16
            if mode & 0o111:
                os.chmod(dest, 0o755)
            done += info.file_size
            if progress:
                progress(done, total)


def _extract_tar(archive: Path, target: Path, what: str,
                 progress: Callable[[int, int], None] | None) -> None:
    try:
        tf = tarfile.open(archive)
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveError(f"{what}: unreadable tar archive ({exc})") from None
    with tf:
        members = tf.getmembers()
        for member in members:
            reason = _unsafe_member(member.name)
            if reason:
                raise ArchiveError(f"{what}: archive rejected, {reason}")
            if member.issym() or member.islnk():
                raise ArchiveError(f"{what}: archive rejected, link {member.name!r}")
            if not (member.isfile() or member.isdir()):
                raise ArchiveError(f"{what}: archive rejected, special file {member.name!r}")
        total = sum(m.size for m in members) or 1
        done = 0
        for member in members:
            dest = target / member.name
            if not _inside(target, dest):
                raise ArchiveError(f"{what}: archive rejected, {member.name!r} escapes the target")
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(member)
            if src is None:
                continue
            with src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            if member.mode & 0o111:
                os.chmod(dest, 0o755)
            done += member.size
            if progress:
                progress(done, total)
