"""A shared add-on store (AYON_LAUNCHER_STORAGE_DIR) used by many launchers: lease locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.store import leases, locks

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A machine-local folder and, outside it, a shared storage folder."""
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("AYON_LAUNCHER_STORAGE_DIR", str(tmp_path / "storage"))
    yield tmp_path / "storage"
    store.release_marks()


def _foreign_lock(path: Path, age: float) -> None:
    """A lock file as another machine's launcher leaves it, last touched ``age`` s ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": "render-node-17", "pid": 4242, "token": "ab12"}))
    then = time.time() - age
    os.utime(path, (then, then))


def test_a_shared_storage_keeps_its_locks_beside_it_and_the_local_one_flock(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.delenv("AYON_LAUNCHER_STORAGE_DIR", raising=False)
    assert not locks.is_shared()
    assert Path(locks.lock_path()) == tmp_path / "local" / "state" / "store.lock"
    monkeypatch.setenv("AYON_LAUNCHER_STORAGE_DIR", str(tmp_path / "storage"))
    assert locks.is_shared()
    with store.store_lock():
        path = tmp_path / "storage" / ".ayon-launcher-locks" / "store.lock"
        owner = json.loads(path.read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == leases.HOST
    assert not path.exists()  # released: the lock file goes


def test_a_lease_lock_is_exclusive_between_processes_and_taken_over_from_a_dead_one(shared):
    locks.ensure_usable()
    path = Path(locks.lock_path())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from ayon_launcher.bootstrapper.distribution.store.leases import LeaseLock; "
         "assert LeaseLock(Path(sys.argv[1])).try_acquire(); print('held', flush=True); "
         "sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert not leases.LeaseLock(path).try_acquire()  # a live holder of this host
    finally:
        holder.kill()  # no clean exit: its lock file stays behind
        holder.wait()
    assert path.exists()
    lock = leases.LeaseLock(path)
    assert lock.try_acquire()  # its process is dead: taken over at once
    lock.release()
    assert not path.exists()


def test_another_machines_lease_is_taken_over_only_once_it_is_older_than_a_lease(shared,
                                                                                monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LEASE_SECONDS", "30")
    locks.ensure_usable()
    path = Path(locks.lock_path())
    _foreign_lock(path, age=5)  # its owner touched it recently: it is alive
    assert not leases.LeaseLock(path).try_acquire()
    assert json.loads(path.read_text())["host"] == "render-node-17"
    _foreign_lock(path, age=120)  # not touched for 4 leases: that node died
    lock = leases.LeaseLock(path)
    assert lock.try_acquire()
    assert json.loads(path.read_text())["host"] == leases.HOST
    lock.release()


def test_a_lease_of_a_live_process_of_this_host_not_refreshed_is_taken_over(shared,
                                                                           monkeypatch):
    """Its process id was reused by another program (its launcher died long ago)."""
    monkeypatch.setenv("AYON_LAUNCHER_LEASE_SECONDS", "30")
    locks.ensure_usable()
    path = Path(locks.lock_path())
    path.write_text(json.dumps({"host": leases.HOST, "pid": os.getppid(), "token": "cd34"}))
    assert not leases.LeaseLock(path).try_acquire()  # fresh: its holder may be working
    then = time.time() - 120
    os.utime(path, (then, then))
    lock = leases.LeaseLock(path)
    assert lock.try_acquire()
    lock.release()


def test_a_held_lease_is_kept_fresh_by_the_heartbeat(shared, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LEASE_SECONDS", "1")
    locks.ensure_usable()
    path = Path(locks.lock_path())
    lock = leases.LeaseLock(path)
    assert lock.try_acquire()
    try:
        old = time.time() - 100
        os.utime(path, (old, old))  # as if not touched for 100 leases
        deadline = time.monotonic() + 10
        while path.stat().st_mtime == old and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_mtime > old  # touched again by its holder's heartbeat
    finally:
        lock.release()


def test_in_use_marks_of_other_machines_keep_a_folder_from_the_cleanup(shared, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LEASE_SECONDS", "30")
    locks.ensure_usable()
    folder = shared / "addons" / "mu_1.0.0"
    marks = Path(locks.lock_file(locks.IN_USE_DIR, folder)).with_suffix("")
    locks.hold_folders([folder])  # this process's own mark does not protect from itself
    assert (marks / f"{leases.HOST}-{os.getpid()}").is_file()
    assert not locks.used_by_another_process(folder)
    _foreign_lock(marks / "render-node-17-4242", age=5)
    assert locks.used_by_another_process(folder)
    _foreign_lock(marks / "render-node-17-4242", age=120)  # that node died long ago
    assert not locks.used_by_another_process(folder)
    assert not marks.exists()  # stale marks (and their folder) are removed


def test_the_cleanup_keeps_what_another_machine_recorded_in_the_shared_store(shared):
    addons = shared / "addons"
    for name in ("a_1.0.0", "b_1.0.0", "c_1.0.0"):
        (addons / name).mkdir(parents=True)
        (addons / name / store.METADATA_FILE).write_text("{}")

    def bundle(name: str, addon: str) -> store.InstalledBundle:
        return store.InstalledBundle(name, server_url="http://s", addons=[
            store.InstalledAddon(addon, "1.0.0", str(addons / f"{addon}_1.0.0"))])

    locks.ensure_usable()
    other_node = bundle("other", "b")
    store.history.record_installed(other_node, keep=3)  # as recorded by another node...
    os.unlink(store.history.history_path())  # ...whose local history this node does not have
    mine = bundle("mine", "a")
    history = store.history.record_installed(mine, keep=3)
    assert [b.bundle_name for b in history] == ["mine"]
    trash = store.history.cleanup(history, mine)
    assert sorted(Path(p).name.split("-")[1] for p in trash) == ["c_1.0.0"]  # only the unused one
    assert (addons / "b_1.0.0").is_dir()


def test_eight_launchers_at_once_download_each_archive_once_into_the_shared_store(tmp_path):
    """The farm benchmark with 8 launchers: every one starts, each archive is sent once."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "farm_benchmark.py"), "--launchers", "8",
         "--addons", "3", "--size-mb", "3", "--timeout", "300", "--json"],
        capture_output=True, text=True, timeout=400)
    assert done.stdout.strip(), done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failed"] == []
    assert result["archives"] == 3
    assert sorted(result["downloads"].values()) == [1, 1, 1], result["downloads"]
    assert result["ok"] and done.returncode == 0
