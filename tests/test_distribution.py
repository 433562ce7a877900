"""Distribution core: archives, sources, store and sync against a throwaway loopback HTTP server."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.archives import ArchiveError, safe_extract
from ayon_launcher.bootstrapper.distribution.models import (
    DistItem,
    FilesystemSource,
    HttpSource,
    ServerSource,
    parse_source,
)
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.sync import SyncCancelled, sync_items
from ayon_launcher.support.errors import DistributionError


class FileServer:
    """A loopback HTTP server serving in-memory files, counting requests, with fault modes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.faults: dict[str, list[str]] = {}  # path -> queue of "500" / "truncate" / "reset"
        self.seen_headers: dict[str, dict[str, str]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path
                owner.hits[path] = owner.hits.get(path, 0) + 1
                owner.seen_headers[path] = dict(self.headers)
                data = owner.files.get(path)
                fault = owner.faults.get(path, [])
                mode = fault.pop(0) if fault else None
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, data: bytes) -> str:
        self.files[path] = data
        return self.url + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def files():
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("AYON_LAUNCHER_DOWNLOAD_RETRIES", "3")
    return tmp_path / "local"


def addon_zip(package: str, addon_name: str, version: str, extra: dict[str, bytes] | None = None
              ) -> bytes:
    """A real add-on client zip: a python package exposing an AYONAddon subclass."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{package}/__init__.py", (
            "from ayon_launcher.pipeline.addons import AYONAddon\n"
            f"class Addon(AYONAddon):\n    name = {addon_name!r}\n    version = {version!r}\n"
        ))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def item_for(name: str, version: str, data: bytes, sources, checksum: str | None = None,
             algorithm: str = "sha256") -> DistItem:
    from ayon_launcher.bootstrapper.distribution.models import addon_dir

    return DistItem(kind="addon", name=name, version=version,
                    checksum=checksum if checksum is not None else sha256(data),
                    algorithm=algorithm, sources=list(sources), target=addon_dir(name, version))


# --- sources parsing -------------------------------------------------------------------------

def test_parse_sources_of_each_type():
    assert parse_source({"type": "server", "filename": "client.zip"}) == ServerSource("client.zip")
    http = parse_source({"type": "http", "url": "http://127.0.0.1/x.zip",
                         "headers": {"X-Token": "t"}, "filename": "x.zip"})
    assert isinstance(http, HttpSource) and http.headers == (("X-Token", "t"),)
    fs = parse_source({"type": "filesystem",
                       "path": {"windows": "C:/a.zip", "linux": "/a.zip", "darwin": "/m/a.zip"}})
    assert isinstance(fs, FilesystemSource)
    assert fs.path in {"C:/a.zip", "/a.zip", "/m/a.zip"}
    assert parse_source({"type": "git", "url": "x"}) is None


# --- archives ----------------------------------------------------------------------------------

def _zip_with(name: str, data: bytes = b"x", symlink: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (0o120777 << 16)
        zf.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize("member,symlink,reason", [
    ("../evil.py", False, "'..'"),
    ("pkg/../../evil.py", False, "'..'"),
    ("/tmp/evil.py", False, "absolute"),
    ("pkg/link", True, "symlink"),
])
def test_unsafe_zip_rejected(tmp_path, member, symlink, reason):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip_with(member, b"/etc/passwd" if symlink else b"x", symlink))
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveError) as info:
        safe_extract(archive, target, "addon evil 1.0.0")
    assert reason in str(info.value) and "addon evil 1.0.0" in str(info.value)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.py").exists()


def test_tar_symlink_rejected_and_tar_extracts(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tf:
        link = tarfile.TarInfo("pkg/escape")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../.."
        tf.addfile(link)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ArchiveError, match="link"):
        safe_extract(bad, out, "dependency package x")
    good = tmp_path / "good.tgz"
    with tarfile.open(good, "w:gz") as tf:
        data = b"print('hi')\n"
        info = tarfile.TarInfo("dependencies/mod.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    safe_extract(good, out, "dependency package x")
    assert (out / "dependencies" / "mod.py").read_bytes() == b"print('hi')\n"


# --- sync --------------------------------------------------------------------------------------

def test_first_sync_then_nothing_downloaded(local, files):
    a = addon_zip("alpha_pkg", "alpha", "1.0.0")
    b = addon_zip("beta_pkg", "beta", "2.0.0")
    items = [
        item_for("alpha", "1.0.0", a, [HttpSource(files.add("/alpha.zip", a))]),
        item_for("beta", "2.0.0", b, [HttpSource(files.add("/beta.zip", b))]),
    ]
    seen = []
    report = sync_items(items, FetchSettings(), progress=lambda *p: seen.append(p))
    assert sorted(i.name for i in report.installed) == ["alpha", "beta"]
    assert (local / "addons" / "alpha_1.0.0" / "alpha_pkg" / "__init__.py").is_file()
    meta = store.read_metadata(local / "addons" / "beta_2.0.0")
    assert meta["checksum"] == sha256(b) and meta["algorithm"] == "sha256"
    assert meta["source"].startswith("http:") and meta["installed_at"]
    assert any(state == "done" for *_, state in seen)
    assert files.hits == {"/alpha.zip": 1, "/beta.zip": 1}

    report = sync_items(items, FetchSettings())
    assert report.installed == [] and len(report.skipped) == 2
    assert files.hits == {"/alpha.zip": 1, "/beta.zip": 1}


def test_bad_hash_rejected_and_previous_state_kept(local, files):
    old = addon_zip("alpha_pkg", "alpha", "1.0.0")
    sync_items([item_for("alpha", "1.0.0", old, [HttpSource(files.add("/a1.zip", old))])],
               FetchSettings())
    new = addon_zip("alpha_pkg", "alpha", "1.1.0")
    bad = item_for("alpha", "1.1.0", new, [HttpSource(files.add("/a2.zip", new))],
                   checksum="0" * 64)
    with pytest.raises(DistributionError) as info:
        sync_items([bad], FetchSettings())
    assert "addon alpha 1.1.0" in str(info.value) and "checksum mismatch" in str(info.value)
    assert not (local / "addons" / "alpha_1.1.0").exists()
    assert (local / "addons" / "alpha_1.0.0" / "alpha_pkg" / "__init__.py").is_file()
    assert not [p for p in (local / "addons").iterdir() if p.name.startswith(".")]


def test_md5_algorithm_and_fallback_to_next_source(local, files, tmp_path):
    data = addon_zip("gamma_pkg", "gamma", "1.0.0")
    on_disk = tmp_path / "shared" / "gamma.zip"
    on_disk.parent.mkdir()
    on_disk.write_bytes(data)
    item = item_for("gamma", "1.0.0", data, [
        HttpSource(files.url + "/missing.zip"),          # 404: next source
        FilesystemSource(str(tmp_path / "nope.zip")),      # absent: next source
        FilesystemSource(str(on_disk)),
    ], checksum=hashlib.md5(data).hexdigest(), algorithm="md5")
    sync_items([item], FetchSettings())
    meta = store.read_metadata(item.target)
    assert meta["source"] == f"filesystem:{on_disk}" and meta["algorithm"] == "md5"


def test_truncated_download_retried_then_fails_naming_addon(local, files):
    data = addon_zip("delta_pkg", "delta", "1.0.0", {"delta_pkg/blob.bin": os.urandom(200_000)})
    url = files.add("/delta.zip", data)
    files.faults["/delta.zip"] = ["truncate", "500"]  # two failures, then a good answer
    item = item_for("delta", "1.0.0", data, [HttpSource(url)])
    sync_items([item], FetchSettings(backoff=0.01))
    assert files.hits["/delta.zip"] == 3
    assert store.is_installed(item)

    other = item_for("delta", "1.0.1", data, [HttpSource(files.add("/d2.zip", data))])
    files.faults["/d2.zip"] = ["truncate"] * 5
    with pytest.raises(DistributionError) as info:
        sync_items([other], FetchSettings(retries=2, backoff=0.01))
    message = str(info.value)
    assert "addon delta 1.0.1" in message
    assert "truncated" in message or "interrupted" in message
    assert "gave up after 2 attempts" in message
    assert not other.target.exists()


def test_server_source_sends_auth_headers(local, files):
    data = addon_zip("eps_pkg", "eps", "1.0.0")
    files.add("/addons/eps/1.0.0/private/client.zip", data)
    item = item_for("eps", "1.0.0", data, [ServerSource("client.zip")])
    item.server_route = "addons/eps/1.0.0/private/"
    sync_items([item], FetchSettings(server_url=files.url,
                                     server_headers={"Authorization": "Bearer abc123",
                                                     "Content-Type": "application/json"}))
    headers = files.seen_headers["/addons/eps/1.0.0/private/client.zip"]
    assert headers.get("Authorization") == "Bearer abc123"
    assert store.is_installed(item)


def test_no_sources_is_a_clear_error(local):
    item = item_for("zeta", "1.0.0", b"", [])
    with pytest.raises(DistributionError, match="addon zeta 1.0.0: the server lists no source"):
        sync_items([item], FetchSettings())


def test_cancel_stops_the_running_item_and_drops_queued_ones(local, files, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_DOWNLOAD_WORKERS", "1")
    datas = {n: addon_zip(f"{n}_pkg", n, "1.0.0", {f"{n}_pkg/blob.bin": os.urandom(300_000)})
             for n in ("one", "two", "three")}
    items = [item_for(n, "1.0.0", d, [HttpSource(files.add(f"/{n}.zip", d))])
             for n, d in datas.items()]
    cancel = threading.Event()
    reports = []

    def progress(label, done, total, state):
        reports.append((label, state))
        if state == "downloading" and done > 0:
            cancel.set()  # as a GUI's Cancel button would, from another thread

    with pytest.raises(SyncCancelled, match="the add-on sync was cancelled") as info:
        sync_items(items, FetchSettings(), progress=progress, cancel=cancel)
    assert info.value.exit_code == 130
    # The running item stopped at its next report, the queued ones never started.
    assert files.hits == {"/one.zip": 1}
    assert {label for label, _state in reports} == {"addon one 1.0.0"}
    assert "done" not in {state for _label, state in reports}
    assert not (local / "addons").exists() or not list((local / "addons").iterdir())

    report = sync_items(items, FetchSettings())
    assert sorted(i.name for i in report.installed) == ["one", "three", "two"]


def test_another_launcher_installing_an_item_is_waited_for_then_a_clear_error(local, files,
                                                                               monkeypatch):
    data = addon_zip("theta_pkg", "theta", "1.0.0")
    item = item_for("theta", "1.0.0", data, [HttpSource(files.add("/theta.zip", data))])
    monkeypatch.setenv("AYON_LAUNCHER_LOCK_TIMEOUT", "0")
    store.locks.ensure_usable()  # as sync_items does before it takes item locks
    with store.item_lock(item):  # as another launcher downloading it holds it
        with pytest.raises(store.StoreLockTimeout) as info:
            sync_items([item], FetchSettings())
    assert str(info.value).startswith(
        "addon theta 1.0.0: another AYON launcher has been installing it for over 0s (lock ")
    assert files.hits == {}  # never downloaded twice at once
    # The store lock is not the item lock: other items install meanwhile.
    other = item_for("iota", "1.0.0", data, [HttpSource(files.add("/iota.zip", data))])
    with store.item_lock(item):
        assert sync_items([other], FetchSettings()).installed == [other]
    assert sync_items([item], FetchSettings()).installed == [item]


def test_leftover_sweep_spares_the_work_folder_of_a_live_launcher(local):
    item = item_for("kappa", "1.0.0", b"", [])
    addons = local / "addons"
    work = addons / ".tmp-kappa_1.0.0-0123456789ab"
    (work / "content").mkdir(parents=True)
    legacy = addons / ".tmp-0123456789ab"  # an earlier launcher's (store lock held while used)
    legacy.mkdir()
    trash = addons / ".trash-kappa_0.9.0-abcd"
    trash.mkdir()
    # The sweep runs under the store lock only, the one legacy work folders were made under:
    # they go at once with the trash (no sweep without the store lock spares them any more).
    store.locks.ensure_usable()
    with store.item_lock(item):
        with store.store_lock():
            assert store.folders.remove_leftovers(addons) == 2
        assert work.is_dir() and not legacy.exists() and not trash.exists()
    with store.store_lock():
        assert store.folders.remove_leftovers(addons) == 1
    assert list(addons.iterdir()) == []


# --- processes ---------------------------------------------------------------------------------

SYNC_SCRIPT = """
import sys
from pathlib import Path
from ayon_launcher.bootstrapper.distribution.models import (  # noqa: E402
    DistItem,
    FilesystemSource,
    HttpSource,
    addon_dir,
)
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.sync import sync_items
kind, src, checksum = sys.argv[1:4]
source = HttpSource(src) if kind == "http" else FilesystemSource(src)
item = DistItem(kind="addon", name="big", version="1.0.0", checksum=checksum,
                algorithm="sha256", sources=[source], target=addon_dir("big", "1.0.0"))
report = sync_items([item], FetchSettings())
# As distribute does after a sync: the leftovers of interrupted runs go, under the store lock.
from ayon_launcher.bootstrapper.distribution import store
with store.store_lock():
    store.folders.remove_leftovers(item.target.parent)
print("installed" if report.installed else "skipped")
"""


def _big_zip(path: Path, files_count: int = 400, size: int = 64_000) -> str:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("big_pkg/__init__.py", "")
        for index in range(files_count):
            zf.writestr(f"big_pkg/data/{index:04d}.bin", os.urandom(size))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env(local: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
    env["AYON_LAUNCHER_LOCAL_DIR"] = str(local)
    return env


def test_kill_during_extraction_leaves_usable_state(local, tmp_path):
    archive = tmp_path / "big.zip"
    checksum = _big_zip(archive)
    addons = local / "addons"
    target = addons / "big_1.0.0"
    killed_mid_extract = False
    for _attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", SYNC_SCRIPT, "fs", str(archive), checksum],
                                env=_env(local), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            # Extraction has started once a work folder holds extracted files.
            work = [p for p in addons.glob(".tmp-*/content/big_pkg/data")] if addons.exists() \
                else []
            if work and any(work[0].iterdir()):
                os.kill(proc.pid, signal.SIGKILL)
                killed_mid_extract = True
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
        if killed_mid_extract:
            break
        # Finished before we could kill it: start again from nothing.
        import shutil
        shutil.rmtree(local, ignore_errors=True)
    assert killed_mid_extract, "could not catch the extraction in progress"
    # Never a half add-on in place: either absent or complete with metadata.
    assert not target.exists() or store.read_metadata(target) is not None
    leftovers = [p.name for p in addons.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers  # the killed run's work folder is there ...
    done = subprocess.run([sys.executable, "-c", SYNC_SCRIPT, "fs", str(archive), checksum],
                          env=_env(local), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(list((target / "big_pkg" / "data").iterdir())) == 400
    assert not [p for p in addons.iterdir() if p.name.startswith(".tmp-")]  # ... and cleaned


def test_two_processes_sync_the_same_bundle(local, files, tmp_path):
    archive = tmp_path / "big.zip"
    checksum = _big_zip(archive, files_count=100)
    url = files.add("/big.zip", archive.read_bytes())
    procs = [subprocess.Popen([sys.executable, "-c", SYNC_SCRIPT, "http", url, checksum],
                              env=_env(local), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outputs]
    assert sorted(o[0].strip() for o in outputs) == ["installed", "skipped"]
    assert files.hits["/big.zip"] == 1
    target = local / "addons" / "big_1.0.0"
    assert len(list((target / "big_pkg" / "data").iterdir())) == 100
    assert store.read_metadata(target)["checksum"] == checksum


def test_rich_progress_callback_accepts_reports_from_threads(local, files):
    from ayon_launcher.bootstrapper.bootstrap import _item_progress
    from ayon_launcher.bootstrapper.distribution.progress import rich_progress

    data = addon_zip("eta_pkg", "eta", "1.0.0", {"eta_pkg/blob.bin": os.urandom(300_000)})
    items = [item_for("eta", "1.0.0", data, [HttpSource(files.add("/eta.zip", data))])]
    reports = []
    with rich_progress() as callback:
        def both(report):
            reports.append(report)
            callback(report)
        sync_items(items, FetchSettings(), progress=_item_progress(both))
    states = [r.state for r in reports]
    assert states[0] == "downloading" and states[-1] == "done" and "extracting" in states
    assert max(r.done for r in reports if r.state == "downloading") == len(data)
    assert all(r.item == "addon eta 1.0.0" for r in reports)


# --- locks, marks and atomic writes ------------------------------------------------------------

@pytest.mark.skipif(os.name == "nt", reason="no shared file locks on Windows")
def test_shared_file_lock_admits_shared_holders_and_excludes_an_exclusive_one(tmp_path):
    from ayon_launcher.support.locking import FileLock

    path = tmp_path / "mark.lock"
    first, second = FileLock(path, shared=True), FileLock(path, shared=True)
    exclusive = FileLock(path)
    assert first.try_acquire() and second.try_acquire()
    assert not exclusive.try_acquire()
    first.release()
    assert not exclusive.try_acquire()  # one shared holder is enough
    second.release()
    assert exclusive.try_acquire()
    assert not FileLock(path, shared=True).try_acquire()
    exclusive.release()


@pytest.mark.skipif(os.name == "nt", reason="no in-use marks on Windows")
def test_in_use_mark_of_another_process_keeps_a_folder_from_the_cleanup(local):

    store.locks.ensure_usable()
    folder = local / "addons" / "mu_1.0.0"
    mark = Path(store.locks.lock_file(store.locks.IN_USE_DIR, folder))
    store.locks.hold_folders([folder])  # this process's own mark does not protect from itself
    assert mark.is_file()
    assert not store.locks.used_by_another_process(folder)
    assert not mark.exists()  # a mark nobody holds is removed
    other = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], "
         "os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_SH); print('held', flush=True); "
         "sys.stdin.read()", str(mark)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "held\n"
        assert store.locks.used_by_another_process(folder)
    finally:
        other.communicate("")
    assert not store.locks.used_by_another_process(folder)  # its holder has ended
    store.release_marks()


def test_atomic_json_writer_is_private_on_request_and_leaves_no_temp_file(tmp_path):
    import json
    import stat

    from ayon_launcher.support.atomicfile import write_json_atomic

    target = tmp_path / "deep" / "data.json"
    write_json_atomic(target, {"b": 1, "a": [1, 2]}, private=True)
    assert json.loads(target.read_text()) == {"a": [1, 2], "b": 1}
    if os.name != "nt":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(OSError):
        write_json_atomic(folder, {"a": 1})  # a folder in place of the file
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": object()})
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data.json", "deep", "folder.json"]
    assert json.loads(target.read_text()) == {"a": [1, 2], "b": 1}  # the old one stays whole


def test_bad_extract_process_threshold_is_a_usage_error_before_any_download(local, files,
                                                                           monkeypatch):
    from ayon_launcher.support.errors import UsageError

    data = addon_zip("nu_pkg", "nu", "1.0.0")
    items = [item_for("nu", "1.0.0", data, [HttpSource(files.add("/nu.zip", data))])]
    monkeypatch.setenv("AYON_LAUNCHER_EXTRACT_PROCESS_MIN_MB", "eight")
    with pytest.raises(UsageError, match="AYON_LAUNCHER_EXTRACT_PROCESS_MIN_MB='eight' is not"):
        sync_items(items, FetchSettings())
    assert files.hits == {}


def test_dev_addon_path_is_expanded_once(monkeypatch, tmp_path):
    from ayon_launcher.bootstrapper.distribution.models import Bundle, platform_name

    monkeypatch.setenv("HOME", str(tmp_path))
    bundle = Bundle.from_dict({"name": "dev", "isDev": True, "addons": {"a": "1", "b": "1"},
                               "addonDevelopment": {
                                   "a": {"enabled": True, "path": "~/src/a"},
                                   "b": {"enabled": True, "path": {platform_name(): "~/b"}}}})
    assert bundle.dev_path("a") == str(tmp_path / "src" / "a")
    assert bundle.dev_path("b") == str(tmp_path / "b")
