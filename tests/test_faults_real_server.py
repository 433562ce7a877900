"""Faults of ynput's real server: restarted during a sync, its database stopped, slow answers.

The launcher retries or starts from the last complete bundle; nothing is ever half installed.
The server is the session's ``real_server``; every test leaves it running and healthy.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import store
from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy

CLIENT_ZIP = "/private/client.zip"


@pytest.fixture
def proxy(real_server):
    proxy = FaultProxy(real_server.url)
    yield proxy
    proxy.release()
    proxy.close()


def launcher_env(home: Path, url: str, key: str, **extra: str) -> dict[str, str]:
    env = isolated_env(home, url)
    env.update(AYON_API_KEY=key, **extra)
    return env


def quick_env(home: Path, url: str, key: str) -> dict[str, str]:
    """Short timeouts and few retries, so that an outage is noticed quickly."""
    return launcher_env(home, url, key, AYON_LAUNCHER_DOWNLOAD_RETRIES="2",
                        AYON_LAUNCHER_DOWNLOAD_TIMEOUT="1", AYON_LAUNCHER_TIMEOUT="2",
                        AYON_SERVER_TIMEOUT="2", AYON_SERVER_RETRIES="1")


def hello(env: dict[str, str], *flags: str):
    return run_ayon(["--headless", *flags, "addon", "demo_tools", "hello"], env, timeout=300)


def installed(home: Path) -> dict[str, str]:
    """Every installed item with its recorded checksum; hidden (partial) entries included."""
    found = {}
    for folder in ("addons", "dependency_packages"):
        root = home / "local" / folder
        for entry in sorted(root.iterdir()) if root.is_dir() else []:
            meta = store.read_metadata(entry)
            found[f"{folder}/{entry.name}"] = meta["checksum"] if meta else "NO METADATA"
    return found


def assert_nothing_half_installed(home: Path) -> None:
    items = installed(home)
    assert all(value != "NO METADATA" for value in items.values()), items
    assert not [name for name in items if name.split("/", 1)[1].startswith(".")], items


def wait_healthy(server, limit: float = 120) -> None:
    """The shared server answers an authenticated, database-backed call again."""
    deadline = time.monotonic() + limit
    while True:
        try:
            server.bundles()
            return
        except Exception:
            if time.monotonic() > deadline:
                server.restart()
                server.bundles()
                return
            time.sleep(0.5)


def test_restart_of_the_server_during_a_sync_is_waited_for(real_server, proxy, tmp_path):
    """The server process restarts as the first add-on download starts (its port stays open,
    as behind a load balancer): the launcher's calls wait or are retried; all is installed."""
    restarted: list[float] = []

    def restart() -> None:
        real_server.restart()
        restarted.append(time.monotonic())

    proxy.before(CLIENT_ZIP, restart, times=1)
    env = launcher_env(tmp_path, proxy.url, real_server.service_api_key)
    done = hello(env)
    assert restarted, "the restart hook never ran"
    assert done.returncode == 0, done.stderr
    assert "(demo_tools 1.0.0)" in done.stdout
    assert "OFFLINE" not in done.stderr
    assert_nothing_half_installed(tmp_path)
    assert {"addons/demo_tools_1.0.0", "addons/applications_1.0.0"} <= set(installed(tmp_path))


def test_server_stopped_mid_sync_starts_from_the_last_complete_bundle(real_server, proxy,
                                                                     tmp_path):
    """Production installed; the staging sync loses the server (port closed, connections
    refused) at its first download. No staging bundle was ever complete here: one clear line,
    nothing of it half installed. Production still starts, offline, from its complete install."""
    env = quick_env(tmp_path, proxy.url, real_server.service_api_key)
    assert hello(env).returncode == 0
    before = installed(tmp_path)
    proxy.before(CLIENT_ZIP, real_server.stop, times=1)
    try:
        staging = hello(env, "--use-staging")
        assert staging.returncode == 3, staging.stderr
        assert "Traceback" not in staging.stderr
        assert staging.stderr.strip().splitlines()[-1].startswith("ayon: error: ")
        assert installed(tmp_path) == before  # nothing of the staging bundle half installed
        production = hello(env)
        assert production.returncode == 0, production.stderr
        assert "OFFLINE" in production.stderr and "demo_production" in production.stderr
        assert "(demo_tools 1.0.0)" in production.stdout
    finally:
        real_server.start()
    assert_nothing_half_installed(tmp_path)
    online = hello(env, "--use-staging")
    assert online.returncode == 0, online.stderr
    assert "(demo_tools 1.1.0)" in online.stdout and "OFFLINE" not in online.stderr


def test_database_stopped_falls_back_to_the_last_complete_bundle(real_server, tmp_path):
    env = quick_env(tmp_path, real_server.url, real_server.service_api_key)
    first = hello(env)
    assert first.returncode == 0, first.stderr
    before = installed(tmp_path)
    fresh_home = tmp_path / "fresh"
    real_server.stop_database()
    try:
        offline = hello(env)
        fresh = hello(quick_env(fresh_home, real_server.url, real_server.service_api_key))
    finally:
        real_server.start_database()
        wait_healthy(real_server)
    assert offline.returncode == 0, offline.stderr
    assert "OFFLINE" in offline.stderr and "demo_production" in offline.stderr
    assert "(demo_tools 1.0.0)" in offline.stdout
    assert "Traceback" not in offline.stderr
    assert installed(tmp_path) == before
    # Nothing installed before: nothing to start from, one clear line, exit 3.
    assert fresh.returncode == 3, fresh.stderr
    assert "Traceback" not in fresh.stderr
    assert fresh.stderr.strip().splitlines()[-1].startswith("ayon: error: ")
    assert_nothing_half_installed(fresh_home)
    # The database back: the launcher is online again.
    again = hello(env)
    assert again.returncode == 0, again.stderr
    assert "OFFLINE" not in again.stderr


def test_slow_downloads_time_out_then_complete_when_the_server_is_fast(real_server, proxy,
                                                                      tmp_path):
    env = quick_env(tmp_path, proxy.url, real_server.service_api_key)
    proxy.fail(CLIENT_ZIP, "stall")
    slow = hello(env)
    proxy.release()
    assert slow.returncode == 3, slow.stderr
    line = slow.stderr.strip().splitlines()[-1]
    assert line.startswith("ayon: error: ") and "timed out" in line
    assert_nothing_half_installed(tmp_path)
    assert not [n for n in installed(tmp_path) if n.startswith("addons/")]
    proxy.clear()
    proxy.fail(CLIENT_ZIP, "slow")  # slow but steady: within the timeout, so it completes
    done = hello(launcher_env(tmp_path, proxy.url, real_server.service_api_key))
    proxy.release()
    assert done.returncode == 0, done.stderr
    assert "(demo_tools 1.0.0)" in done.stdout
    assert_nothing_half_installed(tmp_path)
