"""Failure suite, archives: each bad archive through the real sync path.

Failure suite, archives: corrupted, truncated, zip-slip and symlink archives, checksum
mismatch and a full disk, each through the real sync path (sources, extraction, store).

Every case starts from a complete earlier install of the same add-on and checks that it is
still there, untouched, that nothing was written outside the store and that no work folder
is left behind. (test_distribution.py covers the basic '..', absolute and symlink zips on
safe_extract itself; these go through sync_items and add the tar and Windows-style variants.)
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import archives, sources, store
from ayon_launcher.bootstrapper.distribution.archives import ArchiveError
from ayon_launcher.bootstrapper.distribution.models import DistItem, FilesystemSource, addon_dir
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.sync import sync_items
from ayon_launcher.support.errors import DistributionError


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    return tmp_path / "local"


def client_zip(version: str, extra: dict[str, bytes] | None = None,
               method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        zf.writestr("victim_pkg/__init__.py", f"VERSION = {version!r}\n")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def item(tmp_path: Path, version: str, data: bytes, checksum: str | None = "auto",
         name: str | None = None) -> DistItem:
    """An add-on item whose only source is ``data`` written to a (shared) file."""
    path = tmp_path / "shared" / (name or f"victim-{version}.zip")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest() if checksum == "auto" else checksum
    return DistItem(kind="addon", name="victim", version=version, checksum=digest,
                    algorithm="sha256", sources=[FilesystemSource(str(path))],
                    target=addon_dir("victim", version))


@pytest.fixture
def installed(local, tmp_path) -> Path:
    """A complete install of victim 1.0.0: what every failure below must leave untouched."""
    sync_items([item(tmp_path, "1.0.0", client_zip("1.0.0"))], FetchSettings())
    folder = local / "addons" / "victim_1.0.0"
    assert store.read_metadata(folder) is not None
    return folder


def fingerprint(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def assert_untouched(local: Path, installed: Path, before: dict[str, bytes]) -> None:
    assert fingerprint(installed) == before
    assert sorted(p.name for p in (local / "addons").iterdir()) == ["victim_1.0.0"]


def failing_sync(tmp_path: Path, data: bytes, checksum: str | None = "auto",
                 name: str | None = None) -> str:
    with pytest.raises(DistributionError) as info:
        sync_items([item(tmp_path, "2.0.0", data, checksum, name)], FetchSettings())
    message = str(info.value)
    assert "\n" not in message and message.startswith("addon victim 2.0.0: ")
    return message


# --- corrupted and truncated -------------------------------------------------------------------

def test_garbage_instead_of_an_archive(local, tmp_path, installed):
    before = fingerprint(installed)
    message = failing_sync(tmp_path, os.urandom(50_000), checksum=None)
    assert "not a zip or tar archive" in message
    assert_untouched(local, installed, before)


def test_corrupted_member_data_is_caught_while_extracting(local, tmp_path, installed):
    """A flipped byte inside a member (valid directory, bad CRC), no checksum announced."""
    before = fingerprint(installed)
    payload = os.urandom(100_000)
    data = bytearray(client_zip("2.0.0", {"victim_pkg/blob.bin": payload},
                                method=zipfile.ZIP_STORED))
    at = bytes(data).index(payload[:64]) + 5000
    data[at] ^= 0xFF
    message = failing_sync(tmp_path, bytes(data), checksum=None)
    assert "corrupt archive member 'victim_pkg/blob.bin'" in message
    assert_untouched(local, installed, before)


def test_corrupted_deflate_stream(local, tmp_path, installed):
    """Broken compressed data raises zlib.error inside zipfile: still a one-line error."""
    before = fingerprint(installed)
    text = b"".join(b"line %d of a python module\n" % i for i in range(20_000))
    data = bytearray(client_zip("2.0.0", {"victim_pkg/big.py": text}))
    start = bytes(data).index(b"victim_pkg/big.py") + len("victim_pkg/big.py") + 200
    data[start:start + 64] = os.urandom(64)
    message = failing_sync(tmp_path, bytes(data), checksum=None)
    assert "corrupt archive member" in message or "unreadable zip" in message
    assert_untouched(local, installed, before)


@pytest.mark.parametrize("announced", [True, False], ids=["checksum", "no-checksum"])
def test_truncated_archive(local, tmp_path, installed, announced):
    before = fingerprint(installed)
    full = client_zip("2.0.0", {"victim_pkg/blob.bin": os.urandom(80_000)})
    cut = full[: len(full) * 2 // 3]
    checksum = hashlib.sha256(full).hexdigest() if announced else None
    message = failing_sync(tmp_path, cut, checksum=checksum)
    # With a checksum the hash catches it first; without, the archive itself is unreadable.
    assert ("checksum mismatch" if announced else "not a zip or tar archive") in message
    assert_untouched(local, installed, before)


def test_truncated_tar_gz(local, tmp_path, installed):
    before = fingerprint(installed)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        blob = os.urandom(200_000)
        info = tarfile.TarInfo("victim_pkg/blob.bin")
        info.size = len(blob)
        tf.addfile(info, io.BytesIO(blob))
    cut = buffer.getvalue()[:120_000]
    message = failing_sync(tmp_path, cut, checksum=None, name="victim-2.0.0.tar.gz")
    assert "tar archive" in message or "not a zip or tar archive" in message \
        or "corrupt archive member" in message
    assert_untouched(local, installed, before)


# --- escaping the target: zip-slip and links ---------------------------------------------------

def _tar(members: list[tarfile.TarInfo], data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for member in members:
            if member.isfile():
                member.size = len(data)
                tf.addfile(member, io.BytesIO(data))
            else:
                tf.addfile(member)
    return buffer.getvalue()


def _tar_member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def _zip_named(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("victim_pkg/__init__.py", "")
        zf.writestr(zipfile.ZipInfo(name), b"pwned")
    return buffer.getvalue()


ESCAPES = {
    "zip-backslash-dotdot": (lambda: _zip_named("victim_pkg\\..\\..\\..\\escaped.py"), "'..'"),
    "zip-drive-letter": (lambda: _zip_named("C:/escaped.py"), "absolute"),
    "tar-dotdot": (lambda: _tar([_tar_member("../../escaped.py")]), "'..'"),
    "tar-absolute": (lambda: _tar([_tar_member("/tmp/escaped.py")]), "absolute"),
    "tar-symlink-dir-then-file": (lambda: _tar([
        _tar_member("victim_pkg/out", tarfile.SYMTYPE, "../../../.."),
        _tar_member("victim_pkg/out/escaped.py")]), "link"),
    "tar-hardlink": (lambda: _tar([_tar_member("victim_pkg/passwd", tarfile.LNKTYPE,
                                               "/etc/passwd")]), "link"),
    "tar-fifo": (lambda: _tar([_tar_member("victim_pkg/pipe", tarfile.FIFOTYPE)]),
                 "special file"),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_escaping_archives_rejected_before_anything_is_written(local, tmp_path, installed,
                                                               case):
    build, reason = ESCAPES[case]
    before = fingerprint(installed)
    message = failing_sync(tmp_path, build())
    assert "archive rejected" in message and reason in message
    assert_untouched(local, installed, before)
    assert not list(tmp_path.rglob("escaped.py"))
    assert not (Path("/tmp") / "escaped.py").exists()


def test_store_folder_replaced_by_a_symlink_is_not_followed_by_cleanup(local, tmp_path):
    """A store entry that is a symlink (not ours) is left alone, never deleted through."""
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (local / "addons").mkdir(parents=True)
    (local / "addons" / ".tmp-evil").symlink_to(outside)
    sync_items([item(tmp_path, "1.0.0", client_zip("1.0.0"))], FetchSettings())
    assert (outside / "keep.txt").read_text() == "keep"


# --- checksum ----------------------------------------------------------------------------------

def test_checksum_mismatch_on_first_source_falls_back_to_a_valid_one(local, tmp_path):
    good = client_zip("3.0.0")
    tampered = tmp_path / "mirror" / "victim.zip"
    tampered.parent.mkdir()
    tampered.write_bytes(client_zip("3.0.0-evil"))
    valid = tmp_path / "shared" / "victim.zip"
    valid.parent.mkdir()
    valid.write_bytes(good)
    target = DistItem(kind="addon", name="victim", version="3.0.0",
                      checksum=hashlib.sha256(good).hexdigest(), algorithm="sha256",
                      sources=[FilesystemSource(str(tampered)), FilesystemSource(str(valid))],
                      target=addon_dir("victim", "3.0.0"))
    sync_items([target], FetchSettings())
    assert store.read_metadata(target.target)["source"] == f"filesystem:{valid}"
    assert (target.target / "victim_pkg" / "__init__.py").read_text() == "VERSION = '3.0.0'\n"


def test_unknown_checksum_algorithm_is_a_clear_error(local, tmp_path, installed):
    before = fingerprint(installed)
    target = item(tmp_path, "2.0.0", client_zip("2.0.0"))
    target.algorithm = "sha999"
    with pytest.raises(DistributionError, match="unsupported checksum algorithm 'sha999'"):
        sync_items([target], FetchSettings())
    assert_untouched(local, installed, before)


# --- disk full ---------------------------------------------------------------------------------
# No tmpfs can be mounted by an unprivileged test, so the writers are patched: they write part
# of the data, then fail with ENOSPC exactly as a full filesystem makes write() fail.

class FullDisk:
    """A binary file whose writes fail with ENOSPC once ``room`` bytes are written."""

    def __init__(self, real, room: list[int]) -> None:
        self._real = real
        self._room = room

    def write(self, data: bytes) -> int:
        if len(data) > self._room[0]:
            self._real.write(data[: self._room[0]])
            self._room[0] = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room[0] -= len(data)
        return self._real.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()

    def close(self) -> None:
        self._real.close()


def _patched_open(room: list[int]):
    real_open = open

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return FullDisk(handle, room) if "w" in mode and "b" in mode else handle

    return fake_open


def test_disk_full_during_extraction(local, tmp_path, installed, monkeypatch):
    before = fingerprint(installed)
    data = client_zip("2.0.0", {f"victim_pkg/blob{i}.bin": os.urandom(60_000) for i in range(5)})
    monkeypatch.setattr(archives, "open", _patched_open([100_000]), raising=False)
    message = failing_sync(tmp_path, data)
    assert "no space left on the device" in message
    assert "corrupt" not in message  # a full disk is not reported as a bad archive
    assert_untouched(local, installed, before)

    # Space freed: the next start installs the add-on normally.
    monkeypatch.undo()
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(local))
    sync_items([item(tmp_path, "2.0.0", data)], FetchSettings())
    assert len(list((local / "addons" / "victim_2.0.0" / "victim_pkg").glob("blob*"))) == 5


def test_disk_full_during_download_does_not_try_every_source(local, tmp_path, installed,
                                                             monkeypatch):
    before = fingerprint(installed)
    data = client_zip("2.0.0", {"victim_pkg/blob.bin": os.urandom(300_000)})
    target = item(tmp_path, "2.0.0", data)
    target.sources = target.sources * 3  # three mirrors: a full disk fails them all alike
    monkeypatch.setattr(sources, "open", _patched_open([50_000]), raising=False)
    with pytest.raises(DistributionError) as info:
        sync_items([target], FetchSettings())
    message = str(info.value)
    assert "addon victim 2.0.0" in message and "no space left on the device" in message
    assert "every source failed" not in message
    assert_untouched(local, installed, before)


@pytest.mark.parametrize("content", [b"\x00" * 10240, b"PK\x05\x06" + b"\x00" * 18],
                         ids=["zero-blocks-tar", "empty-zip"])
def test_empty_archive_is_rejected_not_installed_empty(tmp_path, content):
    """Zero blocks read as an empty tar, and an empty zip is valid: an add-on of no files is
    a broken upload, so it is rejected instead of installed as an empty folder."""
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveError, match="addon x 1: archive rejected, it is empty"):
        archives.safe_extract(path, target, "addon x 1")


# --- extraction in helper processes ------------------------------------------------------------

@pytest.fixture
def helper_processes(monkeypatch):
    """Every archive of a multi-item sync goes to a helper process (no size threshold)."""
    monkeypatch.setenv("AYON_LAUNCHER_EXTRACT_PROCESS_MIN_MB", "0")


def test_helper_processes_install_and_report_like_in_process(local, tmp_path, installed,
                                                             helper_processes):
    before = fingerprint(installed)
    good = DistItem(kind="addon", name="other", version="1.0.0", checksum=None,
                    algorithm="sha256", sources=[], target=addon_dir("other", "1.0.0"))
    data = client_zip("1.0.0", {"victim_pkg/blob.bin": os.urandom(300_000)})
    good.sources = item(tmp_path, "x", data, name="other.zip").sources
    bad = item(tmp_path, "2.0.0", _zip_named("../../escaped.py"))
    seen: list[tuple] = []
    with pytest.raises(DistributionError) as info:
        sync_items([good, bad], FetchSettings(), progress=lambda *report: seen.append(report))
    message = str(info.value)
    assert "addon victim 2.0.0" in message and "archive rejected" in message
    assert "'..'" in message and "\n" not in message
    assert (good.target / "victim_pkg" / "blob.bin").stat().st_size == 300_000
    assert any(label == "addon other 1.0.0" and state == "extracting" and done > 0
               for label, done, total, state in seen)
    assert not list(tmp_path.rglob("escaped.py"))
    assert fingerprint(installed) == before


def test_helper_process_write_failure_and_crash_are_one_line(tmp_path):
    from ayon_launcher.bootstrapper.distribution.archives import LocalWriteError
    from ayon_launcher.bootstrapper.distribution.extractor import extract_in_process

    archive = tmp_path / "a.zip"
    archive.write_bytes(client_zip("1.0.0"))
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(LocalWriteError, match=r"^addon x 1: cannot write .*file/victim_pkg"):
        extract_in_process(archive, not_a_folder, "addon x 1")
    with pytest.raises(ArchiveError) as info:
        extract_in_process(tmp_path / "missing.zip", tmp_path, "addon x 1")
    assert "extraction process failed" in str(info.value) and "\n" not in str(info.value)


KILL_SCRIPT = """
import sys
from ayon_launcher.bootstrapper.distribution.models import DistItem, FilesystemSource, addon_dir
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.sync import sync_items
items = [DistItem(kind="addon", name=f"big{i}", version="1.0.0", checksum=None,
                  algorithm="sha256", sources=[FilesystemSource(sys.argv[1])],
                  target=addon_dir(f"big{i}", "1.0.0")) for i in range(2)]
sync_items(items, FetchSettings())
# As distribute does after a sync: the leftovers of interrupted runs go, under the store lock.
from ayon_launcher.bootstrapper.distribution import store
with store.store_lock():
    store.folders.remove_leftovers(items[0].target.parent)
"""


def _helpers_of(local: Path) -> list[int]:
    """Helper extraction processes working in the store ``local``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"ayon_launcher.bootstrapper.distribution.extractor" in cmdline \
                    and any(arg.startswith(str(local).encode()) for arg in cmdline):
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_helper_processes_die_with_a_killed_launcher(local, tmp_path):
    import shutil
    import signal
    import subprocess
    import sys
    import time

    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for index in range(600):
            zf.writestr(f"big_pkg/data/{index:04d}.bin", os.urandom(100_000))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
    env.update(AYON_LAUNCHER_LOCAL_DIR=str(local), AYON_LAUNCHER_EXTRACT_PROCESS_MIN_MB="0")
    for _attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(archive)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if _helpers_of(local):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
        if proc.returncode == -signal.SIGKILL:
            break
        shutil.rmtree(local, ignore_errors=True)
    assert proc.returncode == -signal.SIGKILL, "could not catch a helper process at work"
    deadline = time.monotonic() + 10
    while _helpers_of(local) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _helpers_of(local) == []  # no helper outlives the launcher
    # Never half an add-on in place: what is there is complete.
    for entry in (local / "addons").iterdir():
        assert entry.name.startswith(".") or store.read_metadata(entry) is not None
    done = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(archive)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(list((local / "addons" / "big0_1.0.0" / "big_pkg" / "data").iterdir())) == 600
    assert not [p for p in (local / "addons").iterdir() if p.name.startswith(".")]
