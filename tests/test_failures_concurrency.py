"""Failure suite, concurrency: several launchers on one machine sharing one add-on store.

Real ``ayon`` processes against the local server, started together: the same bundle (each
archive downloaded once, all start), different bundles with the smallest keep count (no
launcher deletes what another one uses), a launcher waiting on the store lock too long (clear
error), and a launcher that is still running when another one cleans up.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import store
from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy

ARCHIVES = ("/private/client.zip", "/dependencyPackages/")


@pytest.fixture
def proxy(fresh_server):
    fault = FaultProxy(fresh_server.url)
    yield fault
    fault.close()


@pytest.fixture
def env(tmp_path, fresh_server, proxy):
    environment = isolated_env(tmp_path, proxy.url)
    environment["AYON_API_KEY"] = fresh_server.service_api_key
    return environment


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ayon_launcher", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def folders(tmp_path) -> dict[str, str | None]:
    local = tmp_path / "local"
    found = {}
    for kind in ("addons", "dependency_packages"):
        for entry in sorted((local / kind).iterdir()):
            meta = store.read_metadata(entry)
            found[f"{kind}/{entry.name}"] = meta["checksum"] if meta else None
    return found


def test_three_launchers_sync_the_same_bundle_at_once(tmp_path, env, proxy):
    procs = [start(["--headless", "addon", "demo_tools", "hello"], env) for _ in range(3)]
    results = finish(procs)
    for code, out, err in results:
        assert code == 0, err
        assert "(demo_tools 1.0.0)" in out
        assert "Traceback" not in err
    # One download per archive: the others waited on the lock and found it installed.
    for path, count in proxy.hits.items():
        if any(marker in path for marker in ARCHIVES):
            assert count == 1, (path, proxy.hits)
    assert proxy.hits_for("/private/client.zip") >= 1
    installed = folders(tmp_path)
    assert installed and all(installed.values()), installed
    assert not [p for p in (tmp_path / "local" / "addons").iterdir() if p.name.startswith(".")]


def test_production_and_staging_launchers_with_keep_one(tmp_path, env):
    """Each launcher's clean-up keeps only its own bundle, yet neither deletes the other's
    add-on while that one is starting from it."""
    env = {**env, "AYON_LAUNCHER_KEEP_BUNDLES": "1"}
    for _round in range(2):
        procs = [start(["--headless", "addon", "demo_tools", "hello"], env),
                 start(["--headless", "--use-staging", "addon", "demo_tools", "hello"], env),
                 start(["--headless", "addon", "demo_tools", "hello"], env)]
        (c1, out1, err1), (c2, out2, err2), (c3, out3, err3) = finish(procs)
        assert (c1, c2, c3) == (0, 0, 0), (err1, err2, err3)
        assert "(demo_tools 1.0.0)" in out1 and "(demo_tools 1.0.0)" in out3
        assert "(demo_tools 1.1.0)" in out2
    # Nothing half-installed, and the one recorded bundle (keep=1) is complete.
    assert all(folders(tmp_path).values())
    history = json.loads((tmp_path / "local" / "state" / "installed_bundles.json").read_text())
    assert len(history["bundles"]) == 1
    for addon in history["bundles"][0]["addons"]:
        assert store.read_metadata(Path(addon["path"])) is not None


KEEPER = """
import sys
from ayon_launcher.bootstrapper.bootstrap import bootstrap
from ayon_launcher.bootstrapper.context import LauncherContext
result = bootstrap(LauncherContext(headless=True))
print(result.bundle_name, flush=True)
sys.stdin.readline()  # stays 'running' until the test says so
"""


def test_running_launcher_keeps_its_addons_when_another_cleans_up(tmp_path, env):
    env = {**env, "AYON_LAUNCHER_KEEP_BUNDLES": "1"}
    keeper = subprocess.Popen([sys.executable, "-c", KEEPER], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert keeper.stdout.readline().strip() == "demo_production", keeper.stderr.read()
        production = tmp_path / "local" / "addons" / "demo_tools_1.0.0"
        # Another launcher moves to staging; keep=1 would delete 1.0.0, but it is in use.
        staging = run_ayon(["--headless", "--use-staging", "addon", "demo_tools", "hello"], env)
        assert staging.returncode == 0, staging.stderr
        assert store.read_metadata(production) is not None
        assert (production / "ayon_demo_tools" / "addon.py").is_file()
    finally:
        keeper.communicate("\n", timeout=60)
    assert keeper.returncode == 0
    # The first launcher is gone: the next clean-up removes what no one uses any more.
    again = run_ayon(["--headless", "--use-staging", "addon", "demo_tools", "hello"], env)
    assert again.returncode == 0, again.stderr
    assert not production.exists()


def test_store_lock_held_too_long_is_a_clear_error(tmp_path, env, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", env["AYON_LAUNCHER_LOCAL_DIR"])
    with store.store_lock():
        done = run_ayon(["--headless", "addon", "demo_tools", "hello"],
                        {**env, "AYON_LAUNCHER_LOCK_TIMEOUT": "1"})
    assert done.returncode == 5
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr
    assert lines[-1].startswith("ayon: error: another AYON launcher holds the add-on store lock")
    # Once the lock is free the same command starts normally.
    ok = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert ok.returncode == 0, ok.stderr
    history = (tmp_path / "local" / "state" / "installed_bundles.json").read_bytes()
    # The bundle is complete: a lock that stays taken is a warning, not a failed start.
    with store.store_lock():
        held = run_ayon(["--headless", "addon", "demo_tools", "hello"],
                        {**env, "AYON_LAUNCHER_LOCK_TIMEOUT": "1"})
    assert held.returncode == 0, held.stderr
    assert "(demo_tools 1.0.0)" in held.stdout
    warning = next(line for line in held.stderr.splitlines() if "store lock" in line)
    assert warning.startswith("WARNING: another AYON launcher holds the add-on store lock")
    assert "bundle demo_production is complete here: starting without recording it" in warning
    assert (tmp_path / "local" / "state" / "installed_bundles.json").read_bytes() == history
    store.release_marks()


def _wait_for(condition, proc: subprocess.Popen) -> None:
    """Poll ``condition`` (a bound on a broken test, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the launcher ended early: {proc.communicate()}")
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)


def test_installed_bundle_starts_while_another_launcher_downloads(tmp_path, env, proxy):
    """Farm jobs: one job pulls a new bundle from a server that stalls mid-download; a job
    whose bundle is installed neither waits for it nor fails behind it (short lock timeout),
    and its clean-up leaves the other job's work folder alone."""
    done = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    staging_download = "/addons/demo_tools/1.1.0/private/client.zip"
    proxy.fail(staging_download, "stall", times=1)
    puller = start(["--headless", "--use-staging", "addon", "demo_tools", "hello"], env)
    addons = tmp_path / "local" / "addons"
    try:
        _wait_for(lambda: staging_download in proxy.partial_bytes, puller)
        work = [p for p in addons.iterdir() if p.name.startswith(".tmp-demo_tools_1.1.0-")]
        assert len(work) == 1
        quick = run_ayon(["--headless", "addon", "demo_tools", "hello"],
                         {**env, "AYON_LAUNCHER_LOCK_TIMEOUT": "1"})
        assert quick.returncode == 0, quick.stderr
        assert "(demo_tools 1.0.0)" in quick.stdout
        assert "another AYON launcher" not in quick.stderr
        assert work[0].is_dir()  # still being written by the stalled launcher
        assert puller.poll() is None
    finally:
        proxy.release()  # the stalled answer ends; the puller retries and succeeds
    ((code, out, err),) = finish([puller])
    assert code == 0, err
    assert "(demo_tools 1.1.0)" in out
    assert proxy.hits_for(staging_download) == 2
    assert store.read_metadata(addons / "demo_tools_1.1.0") is not None
    assert not [p for p in addons.iterdir() if p.name.startswith(".")]


def test_offline_claim_keeps_the_bundle_from_another_launchers_cleanup(tmp_path, env,
                                                                         monkeypatch):
    """store.claim (for an offline start) marks the bundle in use under the store lock."""
    done = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", env["AYON_LAUNCHER_LOCAL_DIR"])
    production = store.last_installed()
    assert production is not None and store.claim(production)
    # A marker held by *another* process is what protects: run the clean-up elsewhere.
    moved = run_ayon(["--headless", "--use-staging", "addon", "demo_tools", "hello"],
                     {**env, "AYON_LAUNCHER_KEEP_BUNDLES": "1"})
    assert moved.returncode == 0, moved.stderr
    assert all(Path(a.path).is_dir() for a in production.addons)
    store.release_marks()
    # Once nothing holds it, a bundle whose folders are gone cannot be claimed.
    again = run_ayon(["--headless", "--use-staging", "addon", "demo_tools", "hello"],
                     {**env, "AYON_LAUNCHER_KEEP_BUNDLES": "1"})
    assert again.returncode == 0, again.stderr
    assert not store.claim(production)
