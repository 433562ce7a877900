"""Archive checks: checksums, and extraction that refuses paths escaping the target folder."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import tarfile

from ayon_launcher.support.errors import DistributionError

CHUNK = 1024 * 1024


class ArchiveError(DistributionError):
    """The archive is unsafe or unreadable."""


class ChecksumError(DistributionError):
    """The file does not match the checksum the server announced."""


class LocalWriteError(DistributionError):
    """Writing into the local store failed (disk full, read-only, permissions): no source helps."""


@functools.cache
def read_errors() -> tuple[type[BaseException], ...]:
    """What a damaged archive raises while it is read: bad CRC, cut stream, broken compressed
    data. (tarfile and lzma are imported only here: add-ons nearly always come as zips.)"""
    import lzma
    import tarfile

    return (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError,
            NotImplementedError, ValueError, OSError)

def damage(exc: BaseException) -> str:
    """What a read error (``read_errors``) says of an archive, in words: the library's text
    without its class name ("Bad CRC-32 for file 'x'" reads as "bad CRC-32 for file 'x'")."""
    text = " ".join(str(exc).split())
    if isinstance(exc, EOFError) or not text:
        return "its data ends too early"
    if isinstance(exc, zlib.error):  # "Error -3 while decompressing data: invalid ..."
        return "damaged compressed data (" + text.rpartition(": ")[2] + ")"
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    # A capital of a sentence's first word, not of an acronym ("CRC check failed").
    return text[0].lower() + text[1:] if text[1:2].islower() else text


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def write_error(what: str, path: str | Path, exc: OSError) -> LocalWriteError:
    """A one-line error for a failed local write; 'disk full' said plainly."""
    if exc.errno in _FULL:
        reason = "no space left on the device"
    else:
        reason = exc.strerror or str(exc) or "the write failed"
    return LocalWriteError(f"{what}: cannot write {path}: {reason}")


def copy_member(src: IO[bytes], dest: str | Path, what: str, member: str) -> None:
    """Copy one archive member to ``dest``: damaged data is an ArchiveError, a failed write a
    LocalWriteError (a full disk must not be reported as a corrupt archive)."""
    try:
        # An explicit buffer size spares an isatty and an fstat call per file; a buffered
        # writer also completes short writes.
        out = open(dest, "wb", buffering=CHUNK)
    except OSError as exc:
        raise write_error(what, dest, exc) from None
    with out:
        while True:
            try:
                chunk = src.read(CHUNK)
            except read_errors() as exc:
                raise ArchiveError(f"{what}: corrupt archive member {member!r} "
                                   f"({damage(exc)})") from None
            if not chunk:
                break
            try:
                out.write(chunk)
            except OSError as exc:
                raise write_error(what, dest, exc) from None


def make_dirs(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(what, path, exc) from None


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
    # The parts PurePosixPath would give, without its cost on each of thousands of members.
    if ".." in normalized.split("/"):
        return f"path with '..' {name!r}"
    return None


class _Destinations:
    """Where members go inside ``target``, checked lexically, with each folder made once.

    Lexical checks are enough (and spare an lstat of every path component per member): the
    target is a fresh folder of ours and links are rejected before anything is written, so
    no path can be redirected through a link.
    """

    def __init__(self, target: Path, what: str) -> None:
        self.root = os.path.abspath(target)
        self.what = what
        self.made: set[str] = {self.root}

    def path(self, name: str) -> str:
        dest = os.path.normpath(os.path.join(self.root, name.replace("\\", "/")))
        if dest != self.root and not dest.startswith(self.root + os.sep):
            raise ArchiveError(f"{self.what}: archive rejected, {name!r} escapes the target")
        return dest

    def folder(self, path: str) -> None:
        if path not in self.made:
            make_dirs(Path(path), self.what)
            self.made.add(path)


def archive_kind(path: Path) -> str:
    """'zip' or 'tar' from the file content (not the name)."""
    if zipfile.is_zipfile(path):
        return "zip"
    import tarfile

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
    except read_errors() as exc:
        raise ArchiveError(f"{what}: unreadable zip archive ({damage(exc)})") from None
    with zf:
        members = zf.infolist()
        if not members:
            raise ArchiveError(f"{what}: archive rejected, it is empty")
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
        places = _Destinations(target, what)
        for info in members:
            dest = places.path(info.filename)
            if info.is_dir():
                places.folder(dest)
                continue
            places.folder(os.path.dirname(dest))
            try:
                src = zf.open(info)
            except read_errors() as exc:
                raise ArchiveError(f"{what}: corrupt archive member {info.filename!r} "
                                   f"({damage(exc)})") from None
            with src:
                copy_member(src, dest, what, info.filename)
            mode = info.external_attr >> 16
            if mode & 0o111:
                os.chmod(dest, 0o755)
            done += info.file_size
            if progress:
                progress(done, total)


def _extract_tar(archive: Path, target: Path, what: str,
                 progress: Callable[[int, int], None] | None) -> None:
    import tarfile

    try:
        tf = tarfile.open(archive)
    except read_errors() as exc:
        raise ArchiveError(f"{what}: unreadable tar archive ({damage(exc)})") from None
    with tf:
        try:
            members = tf.getmembers()
        except read_errors() as exc:
            raise ArchiveError(f"{what}: corrupt tar archive ({damage(exc)})") \
                from None
        if not members:
            raise ArchiveError(f"{what}: archive rejected, it is empty")
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
        places = _Destinations(target, what)
        for member in members:
            dest = places.path(member.name)
            if member.isdir():
                places.folder(dest)
                continue
            places.folder(os.path.dirname(dest))
            try:
                src = tf.extractfile(member)
            except read_errors() as exc:
                raise ArchiveError(f"{what}: corrupt archive member {member.name!r} "
                                   f"({damage(exc)})") from None
            if src is None:
                continue
            with src:
                copy_member(src, dest, what, member.name)
            if member.mode & 0o111:
                os.chmod(dest, 0o755)
            done += member.size
            if progress:
                progress(done, total)
        _check_tar_end(tf, what)


def _check_tar_end(tf: tarfile.TarFile, what: str) -> None:
    """What follows the last member must be the end-of-archive zeros, read to the end of the
    stream (which checks a gzip, bzip2 or xz trailer: CRC and length of the whole archive).

    tarfile stops quietly at a damaged or cut header after the first member: without this a
    damaged archive would install the members before it and drop the rest."""
    stream = tf.fileobj
    try:
        stream.seek(tf.offset)
        zeros = 0
        while chunk := stream.read(CHUNK):
            if chunk.count(0) != len(chunk):
                raise ArchiveError(f"{what}: corrupt tar archive (damaged data after member "
                                   f"{tf.members[-1].name!r})")
            zeros += len(chunk)
    except read_errors() as exc:
        raise ArchiveError(f"{what}: corrupt tar archive ({damage(exc)})") \
            from None
    if zeros < 512:
        raise ArchiveError(f"{what}: truncated tar archive (no end-of-archive marker after "
                           f"member {tf.members[-1].name!r})")
