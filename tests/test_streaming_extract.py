"""Extraction while downloading (distribution/streaming.py).

Extraction while downloading (distribution/streaming.py): the streamed tree and manifest
equal ``safe_extract``'s, anything it cannot vouch for goes to ``safe_extract`` (same one-line
errors), and downloads over real loopback HTTP that are corrupt, cut, retried or carry a wrong
sha256 leave nothing half-installed."""

from __future__ import annotations

import hashlib
import io
import os
import random
import stat
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import manifest, store, sync
from ayon_launcher.bootstrapper.distribution.archives import safe_extract
from ayon_launcher.bootstrapper.distribution.models import DistItem, HttpSource, addon_dir
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.streaming import StreamingZip
from ayon_launcher.bootstrapper.distribution.sync import sync_items
from ayon_launcher.support.errors import DistributionError

CHUNK_SIZES = (1, 3, 29, 30, 31, 512, 4096, 65536, 1 << 20)


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after deflated members."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # noqa: ANN001 - io.RawIOBase signature
        return self.buffer.write(data)


def build_zip(kind: str, seed: int = 0) -> bytes:
    """An add-on-like zip: folders, empty files, executables, text and binary members;
    "descriptors": sizes and CRCs after the data, "zip64": with 64-bit sizes too."""
    rng = random.Random(seed)
    streamed = kind in ("descriptors", "zip64")  # written as by a tool that cannot seek
    sink = _Unseekable() if streamed else io.BytesIO()
    method = zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(sink, "w", method) as zf:  # type: ignore[arg-type]
        if not streamed:
            zf.writestr("pkg/", b"")  # a folder entry (deflated: 2 bytes of data)
            zf.writestr("pkg/empty.py", b"")
        for index in range(25):
            data = (rng.randbytes(rng.randint(0, 200_000)) if index % 3 == 0
                    else b"value = 1\n" * rng.randint(0, 20_000))
            info = zipfile.ZipInfo(f"pkg/sub{index % 4}/file{index}.bin")
            info.compress_type = (zipfile.ZIP_STORED if kind == "stored"
                                  or (kind == "mixed" and index % 2) else zipfile.ZIP_DEFLATED)
            info.external_attr = (0o755 if index % 5 == 0 else 0o644) << 16
            if streamed:
                with zf.open(info, "w", force_zip64=kind == "zip64") as member:
                    member.write(data)
            else:
                zf.writestr(info, data)
    return (sink.buffer if isinstance(sink, _Unseekable) else sink).getvalue()


def stream(data: bytes, target: Path, archive: Path, seed: int = 0) -> dict[str, int] | None:
    """Feed ``data`` in random-sized chunks, write it to ``archive``, return ``finish``."""
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(data)
    streamed = StreamingZip(target, "addon x 1")
    at = 0
    while at < len(data):
        size = rng.choice(CHUNK_SIZES)
        streamed.feed(data[at:at + size])
        at += size
    return streamed.finish(archive)


def tree(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every path under ``root``: files with their bytes and permission bits, folders None."""
    return {str(p.relative_to(root)): ((p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
                                       if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("kind", ["deflated", "stored", "mixed", "descriptors", "zip64"])
def test_streamed_tree_and_manifest_equal_safe_extract(tmp_path, kind):
    data = build_zip(kind, seed=len(kind))
    for seed in range(3):
        work = tmp_path / f"run{seed}"
        crcs = stream(data, work / "streamed", work / "a.zip", seed=seed)
        assert crcs is not None, "the stream was given up: nothing was gained"
        (work / "classic").mkdir()
        safe_extract(work / "a.zip", work / "classic", "addon x 1")
        assert tree(work / "streamed") == tree(work / "classic")
        assert crcs == manifest.archive_crcs(work / "a.zip")
        streamed_files, streamed_seal = manifest.record(work / "streamed", crcs)
        classic_files, classic_seal = manifest.record(work / "classic")  # CRCs read from disk
        assert {k: [v[0], v[2]] for k, v in streamed_files.items()} == \
            {k: [v[0], v[2]] for k, v in classic_files.items()}
        assert streamed_seal["files"] == classic_seal["files"] == len(crcs)


def _flip_in_member(data: bytes, name: str, offset: int = 5000) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    damaged[start + min(offset, info.compress_size - 1)] ^= 0xFF
    return bytes(damaged)


def _with_member(name: str, data: bytes = b"x", mode: int = 0o644,
                 method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        zf.writestr("pkg/__init__.py", "VALUE = 1\n")
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        info.compress_type = method
        zf.writestr(info, data)
    return buffer.getvalue()


def _stored_with_descriptor() -> bytes:
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as zf:  # type: ignore[arg-type]
        with zf.open("pkg/data.bin", "w") as member:
            member.write(os.urandom(10_000))
    return sink.buffer.getvalue()


def _tar_gz() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        info = tarfile.TarInfo("pkg/data.bin")
        info.size = 1000
        tf.addfile(info, io.BytesIO(os.urandom(1000)))
    return buffer.getvalue()


GIVE_UP = {
    "corrupt-stored": lambda: _flip_in_member(build_zip("stored"), "pkg/sub0/file0.bin"),
    "corrupt-deflated": lambda: _flip_in_member(build_zip("deflated"), "pkg/sub1/file1.bin", 40),
    "truncated": lambda: build_zip("deflated")[:100_000],
    "symlink": lambda: _with_member("pkg/link", b"/etc/passwd", stat.S_IFLNK | 0o777),
    "dot-dot": lambda: _with_member("../escaped.py", b"print('escaped')\n"),
    "absolute": lambda: _with_member("/tmp/escaped-abs.py", b"x\n"),
    "stored-descriptor": _stored_with_descriptor,
    "prepended": lambda: b"#!/bin/sh\nexit 0\n" + build_zip("deflated"),
    "tar-gz": _tar_gz,
    "garbage": lambda: os.urandom(5000),
}


@pytest.mark.parametrize("case", sorted(GIVE_UP))
def test_stream_gives_up_on_what_it_cannot_vouch_for(tmp_path, case):
    """finish() is None: the caller empties the folder and safe_extract decides. Nothing is
    ever written outside the target, even for archives that try to escape it."""
    data = GIVE_UP[case]()
    target = tmp_path / "work" / "content"
    assert stream(data, target, tmp_path / "work" / "archive") is None
    outside = [p for p in tmp_path.rglob("*") if "escaped" in p.name]
    assert outside == [] and not Path("/tmp/escaped-abs.py").exists()


def test_a_bomb_is_not_written_out_before_the_checksum(tmp_path, monkeypatch):
    """Bytes are written before the checksum is known: a member that inflates far beyond
    what was downloaded makes the stream give up early (bounded disk use)."""
    from ayon_launcher.bootstrapper.distribution import streaming

    monkeypatch.setattr(streaming, "_BOMB_FLOOR", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/zeros.bin", bytes(40 * 1024 * 1024))
    data = buffer.getvalue()
    target = tmp_path / "content"
    assert stream(data, target, tmp_path / "archive") is None
    written = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    assert written < 4 * 1024 * 1024


# --- through real HTTP --------------------------------------------------------------------

class Files:
    """A loopback HTTP server of in-memory files; ``cut_next`` makes the next answer of a
    path send only part of the body (then close) while announcing the full length."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cuts: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        files = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                data = files.files.get(self.path)
                files.hits[self.path] = files.hits.get(self.path, 0) + 1
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                cut = files.cuts.pop(self.path, None)
                self.wfile.write(data if cut is None else data[:cut])
                if cut is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def files() -> Iterator[Files]:
    server = Files()
    yield server
    server.close()


@pytest.fixture
def local(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    return tmp_path / "local"


@pytest.fixture
def classic_runs(monkeypatch) -> list[str]:
    """Counts the extractions that went the old way (safe_extract of the file, in this
    process or a helper); the real functions still run."""
    calls: list[str] = []
    real_safe, real_process = sync.safe_extract, sync.extract_in_process

    def counted_safe(archive, target, what, progress=None):  # noqa: ANN001, ANN202
        calls.append(what)
        return real_safe(archive, target, what, progress=progress)

    def counted_process(archive, target, what, progress=None):  # noqa: ANN001, ANN202
        calls.append(what)
        return real_process(archive, target, what, progress)

    monkeypatch.setattr(sync, "safe_extract", counted_safe)
    monkeypatch.setattr(sync, "extract_in_process", counted_process)
    return calls


def http_item(files: Files, name: str, version: str, data: bytes,
              checksum: str | None = "auto") -> DistItem:
    path = f"/{name}-{version}.zip"
    files.files[path] = data
    digest = hashlib.sha256(data).hexdigest() if checksum == "auto" else checksum
    return DistItem(kind="addon", name=name, version=version, checksum=digest,
                    algorithm="sha256", sources=[HttpSource(files.url(path))],
                    target=addon_dir(name, version))


def fast_retries() -> FetchSettings:
    return FetchSettings(retries=3, backoff=0.01)


def assert_clean(local: Path, installed: list[str]) -> None:
    """Only complete installs in the store: no work folder, no partial item."""
    assert sorted(p.name for p in (local / "addons").iterdir()) == sorted(installed)


def test_a_download_is_installed_from_the_stream(local, files, classic_runs):
    data = build_zip("mixed", seed=7)
    items = [http_item(files, f"streamed{n}", "1.0.0", data) for n in range(3)]
    seen: list[tuple] = []
    report = sync_items(items, fast_retries(), progress=lambda *r: seen.append(r))
    assert [i.name for i in report.installed] == [i.name for i in items]
    assert classic_runs == [], "the downloads were extracted again from their files"
    reference = local.parent / "reference"
    reference.mkdir()
    (local.parent / "a.zip").write_bytes(data)
    safe_extract(local.parent / "a.zip", reference, "reference")
    for dist in items:
        installed = {k: v for k, v in tree(dist.target).items() if not manifest.is_own(k)}
        assert installed == tree(reference)
        meta = store.read_metadata(dist.target)
        assert meta is not None and meta["sha256"] == hashlib.sha256(data).hexdigest()
        assert store.check_installed(dist.target, dist.label, meta, True) is None
        states = [state for label, _, _, state in seen if label == dist.label]
        assert states[0] == "downloading" and "extracting" in states and states[-1] == "done"
    assert_clean(local, [f"streamed{n}_1.0.0" for n in range(3)])


@pytest.mark.parametrize("announced", [True, False], ids=["checksum", "no-checksum"])
def test_an_archive_corrupted_mid_way_fails_cleanly(local, files, classic_runs, announced):
    """A byte flipped in the middle of a member: with no checksum the archive's own CRC
    refuses it (the same one-line error as before, from safe_extract on the file); with one
    the hash does. The earlier install stays, nothing half-written is left."""
    sync_items([http_item(files, "victim", "1.0.0", build_zip("stored"))], fast_retries())
    before = tree(addon_dir("victim", "1.0.0"))
    good = build_zip("stored", seed=3)
    damaged = _flip_in_member(good, "pkg/sub0/file0.bin", 50_000)
    checksum = hashlib.sha256(good).hexdigest() if announced else None
    target = http_item(files, "victim", "2.0.0", damaged, checksum)
    with pytest.raises(DistributionError) as info:
        sync_items([target], fast_retries())
    message = str(info.value)
    assert "\n" not in message and message.startswith("addon victim 2.0.0: ")
    if announced:
        assert "checksum mismatch" in message
    else:
        assert "corrupt archive member 'pkg/sub0/file0.bin'" in message
        assert "(bad CRC-32 for file " in message  # in words, no class name
    assert tree(addon_dir("victim", "1.0.0")) == before
    assert_clean(local, ["victim_1.0.0"])


def test_a_wrong_sha256_is_found_while_downloading(local, files):
    data = build_zip("deflated", seed=5)
    wrong = hashlib.sha256(data + b"other").hexdigest()
    with pytest.raises(DistributionError) as info:
        sync_items([http_item(files, "hashed", "1.0.0", data, wrong)], fast_retries())
    message = str(info.value)
    assert message.startswith("addon hashed 1.0.0: ") and "checksum mismatch" in message
    assert f"expected {wrong[:16]}" in message and "\n" not in message
    assert not addon_dir("hashed", "1.0.0").exists()
    assert_clean(local, [])


def test_a_cut_download_is_retried_and_streamed_again(local, files, classic_runs):
    """The first answer stops half-way (a member cut in two): the retry starts the stream
    again on an empty folder and installs the exact tree."""
    data = build_zip("deflated", seed=9)
    dist = http_item(files, "retried", "1.0.0", data)
    path = "/retried-1.0.0.zip"
    files.cuts[path] = len(data) // 2
    sync_items([dist], fast_retries())
    assert files.hits[path] == 2
    assert classic_runs == []
    (local.parent / "a.zip").write_bytes(data)
    reference = local.parent / "reference"
    reference.mkdir()
    safe_extract(local.parent / "a.zip", reference, "reference")
    assert {k: v for k, v in tree(dist.target).items() if not manifest.is_own(k)} == \
        tree(reference)
    assert_clean(local, ["retried_1.0.0"])


def test_an_escaping_archive_is_refused_over_http(local, files, tmp_path):
    data = _with_member("../../escaped.py", b"print('escaped')\n")
    with pytest.raises(DistributionError) as info:
        sync_items([http_item(files, "evil", "1.0.0", data, None)], fast_retries())
    message = str(info.value)
    assert message.startswith("addon evil 1.0.0: ") and "archive rejected" in message
    assert "'..'" in message
    assert not [p for p in tmp_path.rglob("escaped.py")]
    assert_clean(local, [])


def test_a_symlink_member_is_refused_over_http(local, files, tmp_path):
    data = _with_member("pkg/link", b"/etc/passwd", stat.S_IFLNK | 0o777)
    with pytest.raises(DistributionError, match=r"archive rejected, symlink 'pkg/link'"):
        sync_items([http_item(files, "linked", "1.0.0", data, None)], fast_retries())
    assert_clean(local, [])


def _with_unlisted_member() -> bytes:
    """A zip whose stream holds a member ('pkg/unlisted.py') that its central directory,
    what counts, does not list (as left by a tool that deletes entries in place)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/__init__.py", "VALUE = 1\n")
        zf.writestr("pkg/unlisted.py", "STRAY = 1\n" * 1000)
        zf.writestr("pkg/kept.py", "KEPT = 1\n")
        unlisted = zf.getinfo("pkg/unlisted.py")
        zf.filelist.remove(unlisted)
        del zf.NameToInfo["pkg/unlisted.py"]
    return buffer.getvalue()


def test_a_given_up_stream_leaves_nothing_behind(local, files, classic_runs):
    """The stream wrote a member the central directory does not list: it gives up, the
    folder is emptied and safe_extract of the file installs exactly the listed members."""
    dist = http_item(files, "unlisted", "1.0.0", _with_unlisted_member())
    sync_items([dist], fast_retries())
    assert classic_runs == [dist.label]
    names = sorted(str(p.relative_to(dist.target)) for p in dist.target.rglob("*.py"))
    assert names == ["pkg/__init__.py", "pkg/kept.py"]
    assert_clean(local, ["unlisted_1.0.0"])


def test_a_full_disk_while_streaming_is_said_plainly(local, files, monkeypatch):
    """ENOSPC on a member's write (no tmpfs can be mounted by an unprivileged test, so the
    writers of the streamed and of the file extraction are made to fail as a full filesystem
    does): one line naming the full disk, not a corrupt archive; nothing installed."""
    import errno

    from ayon_launcher.bootstrapper.distribution import archives, streaming

    real_open = open

    class Full:
        def __init__(self, handle) -> None:  # noqa: ANN001
            self.handle = handle

        def write(self, data) -> int:  # noqa: ANN001
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self) -> None:
            self.handle.close()

        def __enter__(self):  # noqa: ANN204
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

    def full_open(path, mode="r", *args, **kwargs):  # noqa: ANN001, ANN202
        handle = real_open(path, mode, *args, **kwargs)
        return Full(handle) if "w" in mode else handle

    monkeypatch.setattr(streaming, "open", full_open, raising=False)
    monkeypatch.setattr(archives, "open", full_open, raising=False)
    with pytest.raises(DistributionError) as info:
        sync_items([http_item(files, "full", "1.0.0", build_zip("deflated"))], fast_retries())
    message = str(info.value)
    assert message.startswith("addon full 1.0.0: ") and "\n" not in message
    assert "no space left on the device" in message and "corrupt" not in message
    assert_clean(local, [])
