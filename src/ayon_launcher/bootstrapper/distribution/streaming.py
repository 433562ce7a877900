"""Extraction of a zip while it downloads, checked against its central directory at the end.

A zip's local headers and member data come in file order, its central directory (what
``zipfile`` and ``safe_extract`` trust) last. ``StreamingZip`` is fed the downloaded bytes as
they arrive and writes each member into the work folder as soon as its data is there, so
the extraction overlaps the download instead of following it (and uses the time the
download thread waits on the network). The archive is still written to its file beside.

It is an accelerator, never an authority: once the whole file is there and validated
(checksum, size), ``finish`` reads the central directory and accepts the streamed result
only when every entry matches one streamed member exactly (offset, name, method, sizes,
CRC-32 checked on the data written) and the archive passes every rule of ``safe_extract``
(no escaping path, no link, not empty). Anything else (a damaged member, a tar, a
self-extracting or encrypted zip, a member with an unknown length, ...) makes it give up
quietly: the caller empties the folder and runs ``safe_extract`` on the file, which
accepts the archive or refuses it with the same one-line error as ever.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from ayon_launcher.bootstrapper.distribution.archives import CHUNK, _Destinations, _unsafe_member

_LOCAL = b"PK\x03\x04"
_CENTRAL = b"PK\x01\x02"
_DESCRIPTOR = b"PK\x07\x08"
_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader (30 bytes)
_ZIP64_EXTRA = 0x0001
_UTF8_NAME = 0x800
_ENCRYPTED = 0x1
_HAS_DESCRIPTOR = 0x8
_STORED, _DEFLATED = 0, 8
# Written before the checksum is known, so a bomb's growth is bounded: past this many bytes,
# more than _RATIO times what was downloaded makes the stream give up (safe_extract of the
# checked file then does what it always did).
_BOMB_FLOOR = 64 * 1024 * 1024
_RATIO = 20


class _GiveUp(Exception):  # noqa: N818 - a signal inside this module, not an error
    """The stream cannot be extracted here: ``safe_extract`` on the file decides."""


class _Member:
    __slots__ = ("offset", "name", "flags", "method", "crc", "csize", "usize", "zip64",
                 "written", "read", "actual_crc", "skip")

    def __init__(self, offset: int, name: str, flags: int, method: int, crc: int,
                 csize: int, usize: int, zip64: bool) -> None:
        self.offset, self.name, self.flags, self.method = offset, name, flags, method
        self.crc, self.csize, self.usize, self.zip64 = crc, csize, usize, zip64
        self.written = 0      # uncompressed bytes written
        self.read = 0         # compressed bytes consumed
        self.actual_crc = 0
        self.skip = False     # a folder entry's data: never read by safe_extract either


class StreamingZip:
    """Feed it the bytes of a download (``feed``); ``finish`` says whether the folder
    ``target`` then holds exactly what ``safe_extract`` of the file would write."""

    def __init__(self, target: Path, what: str) -> None:
        """``target``: an empty folder that only this object writes into."""
        self.target = target
        self.what = what
        self._dirty = False
        self.reset()

    def reset(self) -> None:
        """Start again (a retried download): forget what was fed, empty ``target``."""
        self.close()
        self.failed = False
        self.done = False            # the central directory was reached
        self._places = _Destinations(self.target, self.what)
        self._pending = b""          # bytes not consumed yet (a header cut between chunks)
        self._offset = 0             # stream offset of ``_pending[0]``
        self._members: list[_Member] = []
        self._fed = 0                # bytes downloaded
        self._written = 0            # bytes written into ``target``
        self._current: _Member | None = None
        self._out: BinaryIO | None = None
        self._inflate: zlib._Decompress | None = None  # type: ignore[name-defined]
        if self._dirty:
            import shutil

            try:
                shutil.rmtree(self.target)
                self.target.mkdir()
                self._dirty = False
            except OSError:
                self.failed = True  # the caller empties it before safe_extract anyway

    def close(self) -> None:
        out = getattr(self, "_out", None)
        self._out = None
        if out is not None:
            try:
                out.close()
            except OSError:
                pass

    # -- feeding -------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        """Consume the next downloaded bytes; never raises (a problem makes it give up)."""
        if self.failed or self.done or not chunk:
            return
        self._dirty = True
        self._fed += len(chunk)
        try:
            self._consume(self._pending + chunk if self._pending else chunk)
        except Exception:  # noqa: BLE001 - _GiveUp, a bad header, a write: safe_extract says
            self.failed = True
            self.close()

    def _consume(self, data: bytes) -> None:
        view = memoryview(data)
        at = 0
        size = len(data)
        while at < size and not self.done:
            if self._current is None:
                used = self._header(view[at:], self._offset + at)
                if used == 0:
                    break  # wait for more bytes
                at += used
            else:
                used = self._data(view[at:])
                if used == 0:
                    break
                at += used
        self._offset += at
        self._pending = bytes(view[at:]) if at < size and not self.done else b""

    def _header(self, view: memoryview, offset: int) -> int:
        """Parse a local header (or see the central directory); bytes used, 0: need more."""
        if len(view) < 4:
            return 0
        signature = bytes(view[:4])
        if signature == _CENTRAL:
            if not self._members:
                raise _GiveUp
            self.done = True
            return 0
        if signature != _LOCAL:
            raise _GiveUp  # not a zip, or data before the first member (self-extracting)
        if len(view) < _HEADER.size:
            return 0
        (_, _, _, flags, method, _, _, crc, csize, usize, name_len,
         extra_len) = _HEADER.unpack(view[:_HEADER.size])
        end = _HEADER.size + name_len + extra_len
        if len(view) < end:
            return 0
        if flags & _ENCRYPTED or method not in (_STORED, _DEFLATED):
            raise _GiveUp
        raw_name = bytes(view[_HEADER.size:_HEADER.size + name_len])
        name = raw_name.decode("utf-8" if flags & _UTF8_NAME else "cp437")
        zip64 = False
        extra = bytes(view[_HEADER.size + name_len:end])
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF:
            usize, csize = _zip64_sizes(extra, usize, csize)
            zip64 = True
        if flags & _HAS_DESCRIPTOR and method == _STORED:
            raise _GiveUp  # the end of stored data is known only from the central directory
        if "\x00" in name or _unsafe_member(name):
            raise _GiveUp
        member = _Member(offset, name, flags, method, crc, csize, usize, zip64)
        dest = self._places.path(name)
        if name.endswith("/"):
            if flags & _HAS_DESCRIPTOR:
                raise _GiveUp
            self._places.folder(dest)
            self._members.append(member)
            if csize:
                member.skip = True
                self._current = member
            return end
        self._places.folder(os.path.dirname(dest))
        self._out = open(dest, "wb", buffering=CHUNK)
        self._inflate = zlib.decompressobj(-15) if method == _DEFLATED else None
        self._current = member
        self._members.append(member)
        if method == _STORED and csize == 0:
            self._member_end(member)  # an empty file: no data follows
        elif method == _DEFLATED and csize == 0 and not flags & _HAS_DESCRIPTOR:
            raise _GiveUp
        return end

    def _data(self, view: memoryview) -> int:
        member = self._current
        assert member is not None
        if member.skip:
            take = min(len(view), member.csize - member.read)
            member.read += take
            if member.read == member.csize:
                self._current = None
            return take
        if member.flags & _HAS_DESCRIPTOR and member.read == -1:
            return self._descriptor(view)
        if self._inflate is None:  # stored: the length is known
            take = min(len(view), member.csize - member.read)
            self._write(member, view[:take])
            member.read += take
            if member.read == member.csize:
                self._member_end(member)
            return take
        if member.flags & _HAS_DESCRIPTOR:
            take = len(view)
        else:
            take = min(len(view), member.csize - member.read)
        inflate = self._inflate
        out = inflate.decompress(view[:take], CHUNK)
        while True:
            if out:
                self._write(member, out)
            if not inflate.unconsumed_tail:
                break
            out = inflate.decompress(inflate.unconsumed_tail, CHUNK)
        used = take - len(inflate.unused_data)
        member.read += used
        if inflate.eof:
            if member.flags & _HAS_DESCRIPTOR:
                member.csize = member.read
                member.read = -1  # the descriptor follows
                return used
            if member.read != member.csize:
                raise _GiveUp
            self._member_end(member)
        elif not (member.flags & _HAS_DESCRIPTOR) and member.read == member.csize:
            raise _GiveUp  # the compressed data ended before the deflate stream did
        return used

    def _descriptor(self, view: memoryview) -> int:
        member = self._current
        assert member is not None
        width = 8 if member.zip64 else 4
        need = 4 + 2 * width
        has_signature = len(view) >= 4 and bytes(view[:4]) == _DESCRIPTOR
        if len(view) < need + (4 if has_signature else 0):
            return 0
        at = 4 if has_signature else 0
        crc, = struct.unpack("<L", view[at:at + 4])
        fmt = "<Q" if member.zip64 else "<L"
        csize, = struct.unpack(fmt, view[at + 4:at + 4 + width])
        usize, = struct.unpack(fmt, view[at + 4 + width:at + 4 + 2 * width])
        if csize != member.csize:
            raise _GiveUp
        member.crc, member.usize = crc, usize
        self._member_end(member)
        return at + need

    def _write(self, member: _Member, data: bytes | memoryview) -> None:
        if not data:
            return
        member.actual_crc = zlib.crc32(data, member.actual_crc)
        member.written += len(data)
        self._written += len(data)
        if member.written > member.usize and not member.flags & _HAS_DESCRIPTOR:
            raise _GiveUp
        if self._written > _BOMB_FLOOR and self._written > _RATIO * self._fed:
            raise _GiveUp
        assert self._out is not None
        self._out.write(data)

    def _member_end(self, member: _Member) -> None:
        self.close()
        self._inflate = None
        self._current = None
        if member.actual_crc != member.crc or member.written != member.usize:
            raise _GiveUp  # safe_extract names the damaged member

    # -- the end ---------------------------------------------------------------------------
    def finish(self, archive: Path) -> dict[str, int] | None:
        """After the download is complete and validated: {member path: CRC-32} (as
        ``manifest.archive_crcs``) when ``target`` holds exactly the archive's content,
        else None (empty ``target`` and extract ``archive`` the usual way)."""
        self.close()
        if self.failed or not self.done or self._current is not None:
            return None
        import posixpath
        import zipfile

        try:
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
        except Exception:  # noqa: BLE001 - safe_extract says what is wrong with it
            return None
        streamed = {m.offset: m for m in self._members}
        if not infos or len(infos) != len(streamed) or \
                len({i.filename for i in infos}) != len(infos):
            return None
        crcs: dict[str, int] = {}
        executable = []
        for info in infos:
            member = streamed.get(info.header_offset)
            mode = info.external_attr >> 16
            if member is None or stat.S_ISLNK(mode) or member.name != info.orig_filename \
                    or member.name != info.filename \
                    or member.method != info.compress_type \
                    or member.csize != info.compress_size \
                    or member.usize != info.file_size or member.crc != info.CRC \
                    or info.flag_bits & _ENCRYPTED:
                return None
            if info.is_dir():
                continue
            crcs[posixpath.normpath(info.filename.replace("\\", "/"))] = info.CRC
            if mode & 0o111:
                executable.append(info.filename)
        for name in executable:
            os.chmod(self._places.path(name), 0o755)
        return crcs


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    """The 64-bit sizes of a local header's zip64 extra field (in zipfile's order)."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack("<HH", extra[at:at + 4])
        body = extra[at + 4:at + 4 + length]
        if kind == _ZIP64_EXTRA:
            values = [v[0] for v in struct.iter_unpack("<Q", body[:len(body) // 8 * 8])]
            if usize == 0xFFFFFFFF:
                if not values:
                    raise _GiveUp
                usize = values.pop(0)
            if csize == 0xFFFFFFFF:
                if not values:
                    raise _GiveUp
                csize = values.pop(0)
            return usize, csize
        at += 4 + length
    raise _GiveUp
