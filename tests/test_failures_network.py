"""Failure suite, network: server down, HTTP 500, slow server, connection reset mid-download.

The real local server sits behind a loopback fault proxy (tests/failure_helpers.py) that
answers 500, stalls, hangs or resets the connection for chosen paths and forwards the rest.
Each case checks the error is one clear line naming what failed, the store keeps its previous
complete state, and the offline start takes over where a previous bundle is installed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import ayon_api
import pytest

from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.distribute import distribute, fetch_bundle
from ayon_launcher.support.errors import DistributionError, LauncherError, ServerUnreachableError
from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy, error_message

DEMO_DOWNLOAD = "/addons/demo_tools/1.1.0/private/"


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("AYON_LAUNCHER_DOWNLOAD_RETRIES", "2")
    monkeypatch.setenv("AYON_LAUNCHER_DOWNLOAD_TIMEOUT", "1")
    # ayon_api's own request timeout and retries, so a hanging server fails within seconds.
    monkeypatch.setenv("AYON_SERVER_TIMEOUT", "1.5")
    monkeypatch.setenv("AYON_SERVER_RETRIES", "1")
    return tmp_path / "local"


@pytest.fixture
def proxy(local_server):
    fault = FaultProxy(local_server.url)
    yield fault
    fault.close()


def api_for(url: str, key: str) -> ayon_api.ServerAPI:
    return ayon_api.ServerAPI(url, token=key)


def sync(api: ayon_api.ServerAPI, log: list | None = None, **choice) -> store.InstalledBundle:
    choice = {"bundle_name": None, "use_staging": False, "use_dev": False, **choice}
    bundle = fetch_bundle(api, **choice)
    reports = log if log is not None else []
    return distribute(api, bundle, lambda item, done, total, st: reports.append(
        (item, done, total, st)))


def snapshot(local) -> dict[str, str]:
    """Every store folder with its recorded checksum (the complete state of the store)."""
    found = {}
    for folder in ("addons", "dependency_packages"):
        root = local / folder
        for entry in sorted(root.iterdir()) if root.is_dir() else []:
            meta = store.read_metadata(entry)
            found[f"{folder}/{entry.name}"] = meta["checksum"] if meta else "NO METADATA"
    return found


def assert_previous_state(local, before: dict[str, str]) -> None:
    assert snapshot(local) == before
    assert all(value != "NO METADATA" for value in before.values())
    leftovers = [p.name for folder in ("addons", "dependency_packages")
                 for p in (local / folder).iterdir() if p.name.startswith(".")]
    assert leftovers == []
    last = store.last_installed()
    assert last is not None and last.bundle_name == "demo_production"


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


# --- server down -------------------------------------------------------------------------------

def test_server_down_is_unreachable_not_a_crash(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    proxy.close()  # the server goes down after the launcher connected
    with pytest.raises(ServerUnreachableError) as info:
        fetch_bundle(api, bundle_name=None, use_staging=False, use_dev=False)
    message = one_line(info.value)
    assert "cannot reach the AYON server" in message and "bundles" in message
    # Our words for the cause, not ayon_api's ("unable to connect the server").
    assert message.endswith("(connection refused)") and "unable" not in message.lower()
    assert info.value.exit_code == 3


@pytest.mark.parametrize("fault,reason", [
    ("close", "(the server closed the connection)"),  # dies while asked for the bundles
    ("hang", "(no answer after 1.5 s)"),              # stops answering (AYON_SERVER_TIMEOUT)
])
def test_server_that_stops_answering_mid_start_is_named_in_words(local, local_server, proxy,
                                                                 fault, reason):
    api = api_for(proxy.url, local_server.service_api_key)
    api.get_info()  # connected: the server answered
    proxy.fail("/api/bundles", fault)
    with pytest.raises(ServerUnreachableError) as info:
        fetch_bundle(api, bundle_name=None, use_staging=False, use_dev=False)
    proxy.release()
    message = one_line(info.value)
    assert message == f"cannot reach the AYON server {proxy.url} to read the bundles {reason}"


def test_server_back_after_a_failed_request_is_asked_again(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    proxy.fail("/api/bundles", "close", times=1)  # one dropped connection, then answers
    bundle = fetch_bundle(api, bundle_name=None, use_staging=False, use_dev=False)
    assert bundle.name == "demo_production"
    assert proxy.hits_for("/api/bundles") == 3  # ayon_api's request, ours, ayon_api's again


def test_server_dies_between_listing_and_download(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    sync(api)
    before = snapshot(local)
    # The bundle list still arrives, then every download connection is dropped.
    proxy.fail(DEMO_DOWNLOAD, "close")
    with pytest.raises(ServerUnreachableError) as info:
        sync(api, use_staging=True)
    message = one_line(info.value)
    assert "addon demo_tools 1.1.0" in message
    assert proxy.hits_for(DEMO_DOWNLOAD) == 2  # retried, then gave up
    assert_previous_state(local, before)


# --- server answering 500 ----------------------------------------------------------------------

def test_server_500_on_bundles_is_reported_as_unavailable(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    proxy.fail("/api/bundles", "500")
    with pytest.raises(ServerUnreachableError) as info:
        sync(api)
    message = one_line(info.value)
    assert "HTTP 500" in message and "bundles" in message


def test_server_500_on_download_retried_then_previous_state_kept(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    sync(api)
    before = snapshot(local)

    proxy.fail(DEMO_DOWNLOAD, "500", times=1)  # one failure: the retry succeeds
    installed = sync(api, use_staging=True)
    assert installed.bundle_name == "demo_staging"
    assert proxy.hits_for(DEMO_DOWNLOAD) == 2
    assert store.read_metadata(local / "addons" / "demo_tools_1.1.0") is not None

    # A staging add-on the server keeps failing to deliver: nothing of it is left behind.
    (local / "addons" / "demo_tools_1.1.0").rename(local / "gone")
    proxy.fail(DEMO_DOWNLOAD, "500")
    with pytest.raises(ServerUnreachableError) as info:
        sync(api, use_staging=True)
    message = one_line(info.value)
    assert "addon demo_tools 1.1.0" in message and "HTTP 500" in message
    assert "gave up after 2 attempts" in message
    assert not (local / "addons" / "demo_tools_1.1.0").exists()
    # The production bundle is still complete: that is what an offline start uses.
    assert_previous_state(local, before)


# --- slow server -------------------------------------------------------------------------------

def test_slow_download_times_out_with_progress_shown(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    sync(api)
    before = snapshot(local)
    proxy.fail(DEMO_DOWNLOAD, "stall")
    reports: list = []
    with pytest.raises(ServerUnreachableError) as info:
        sync(api, reports, use_staging=True)
    message = one_line(info.value)
    assert "addon demo_tools 1.1.0" in message and "timed out" in message
    # The bar moved before the server stalled: partial bytes were reported, then the failure.
    downloading = [(done, total) for item, done, total, st in reports
                   if item == "addon demo_tools 1.1.0" and st == "downloading"]
    partial = [done for done, total in downloading if done > 0]
    total = next(total for done, total in downloading if total)
    assert partial and max(partial) < total
    assert ("addon demo_tools 1.1.0", 0, None, "failed") in reports
    proxy.release()
    assert_previous_state(local, before)


def test_hanging_api_call_times_out(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    api.get_info()  # connected before the server starts hanging
    proxy.fail("/api/bundles", "hang")
    with pytest.raises(ServerUnreachableError) as info:
        sync(api)
    assert one_line(info.value).endswith("(no answer after 1.5 s)")
    proxy.release()


# --- connection reset mid-download -------------------------------------------------------------

def test_connection_reset_mid_download_then_resumes_on_retry(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    proxy.fail(DEMO_DOWNLOAD, "reset", times=1)
    installed = sync(api, use_staging=True)
    assert installed.bundle_name == "demo_staging"
    assert proxy.partial_bytes  # the first answer really was cut half-way
    meta = store.read_metadata(local / "addons" / "demo_tools_1.1.0")
    server_zip = local_server.store.addon_dir("demo_tools", "1.1.0") / "client.zip"
    from ayon_launcher.bootstrapper.distribution.archives import file_checksum
    assert meta["checksum"] == file_checksum(server_zip)


def test_connection_reset_every_time_keeps_previous_state(local, local_server, proxy):
    api = api_for(proxy.url, local_server.service_api_key)
    sync(api)
    before = snapshot(local)
    proxy.fail(DEMO_DOWNLOAD, "reset")
    with pytest.raises(LauncherError) as info:
        sync(api, use_staging=True)
    message = one_line(info.value)
    assert isinstance(info.value, ServerUnreachableError)
    assert "addon demo_tools 1.1.0" in message and "interrupted" in message
    assert_previous_state(local, before)


def test_bad_archive_is_not_mistaken_for_an_outage(local, fresh_server):
    """Only network failures mean 'unreachable' (offline start); a bad file stays an error."""
    fault = FaultProxy(fresh_server.url)
    try:
        api = api_for(fault.url, fresh_server.service_api_key)
        sync(api)
        fault.fail(DEMO_DOWNLOAD, "reset", times=1)  # one network failure, then a bad file
        client = fresh_server.store.addon_dir("demo_tools", "1.1.0") / "client.zip"
        client.write_bytes(client.read_bytes()[:-10] + b"tampered!!")
        with pytest.raises(DistributionError) as info:
            sync(api, use_staging=True)
    finally:
        fault.close()
    assert not isinstance(info.value, ServerUnreachableError)
    # No checksum is announced for add-on archives (as on the real server): the archive's own
    # integrity check refuses the file.
    assert "unreadable zip archive" in one_line(info.value)


# --- the real CLI: one line, exit code, offline start ------------------------------------------

def cli_env(tmp_path, url: str, key: str) -> dict[str, str]:
    environment = isolated_env(tmp_path, url)
    environment.update(AYON_API_KEY=key, AYON_LAUNCHER_DOWNLOAD_RETRIES="2",
                       AYON_LAUNCHER_DOWNLOAD_TIMEOUT="1",
                       AYON_SERVER_TIMEOUT="2", AYON_SERVER_RETRIES="1")
    return environment


def error_line(done) -> str:
    """The single line a failed command prints (warnings before it are allowed)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ayon: ")]
    assert len(errors) == 1 and errors[0] == lines[-1], done.stderr
    return error_message(errors[0]) if errors[0].startswith("ayon: error: ") else errors[0]


@pytest.mark.parametrize("fault,where", [
    ("500", "/api/"),            # every API call answers 500
    # The server accepts connections but never answers (the whole API: a warm start's one
    # look at the bundles is no call to /api/info).
    ("hang", "/api/"),
    ("close", "/api/bundles"),   # the server dies after the login check
])
def test_cli_starts_offline_from_the_last_complete_bundle(tmp_path, local_server, proxy, fault,
                                                          where):
    env = cli_env(tmp_path, proxy.url, local_server.service_api_key)
    for args in (["--use-staging"], []):  # staging, then production (the most recent)
        online = run_ayon(["--headless", *args, "addon", "demo_tools", "hello"], env)
        assert online.returncode == 0, online.stderr
    proxy.fail(where, fault)
    offline = run_ayon(["--headless", "--use-staging", "addon", "demo_tools", "hello"], env)
    proxy.release()
    assert offline.returncode == 0, offline.stderr
    # The staging bundle asked for, not the more recent production one.
    assert "OFFLINE" in offline.stderr and "demo_staging" in offline.stderr
    assert "(demo_tools 1.1.0)" in offline.stdout
    assert "Traceback" not in offline.stderr


def test_cli_download_cut_starts_offline_but_never_with_another_variant(tmp_path, fresh_server):
    """A new production bundle whose download is cut every time: the previous production
    bundle starts offline. A staging start never falls back to production: one clear line."""
    proxy = FaultProxy(fresh_server.url)
    try:
        env = cli_env(tmp_path, proxy.url, fresh_server.service_api_key)
        online = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
        assert online.returncode == 0, online.stderr
        fresh_server.create_bundle("production_2", {"demo_tools": "1.1.0"},
                                   is_production=True)
        proxy.fail(DEMO_DOWNLOAD, "reset")
        offline = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
        assert offline.returncode == 0, offline.stderr
        assert "OFFLINE" in offline.stderr and "demo_production" in offline.stderr
        assert "(demo_tools 1.0.0)" in offline.stdout

        staging = run_ayon(["--headless", "--use-staging", "addon", "demo_tools", "hello"], env)
        assert staging.returncode == 3
        line = error_line(staging)
        assert "no staging bundle was ever fully installed here, so the launcher cannot " \
            "start offline" in line
        assert "stopped delivering files" in line and "addon demo_tools 1.1.0" in line
        assert "(demo_tools" not in staging.stdout
    finally:
        proxy.close()


def test_cli_shows_no_library_traceback_when_the_server_dies(tmp_path, local_server, proxy):
    """ayon_api logs connection errors with their traceback on its own 'ServerAPI' logger:
    the launcher's logging keeps that to one line unless --debug."""
    env = cli_env(tmp_path, proxy.url, local_server.service_api_key)
    assert run_ayon(["--headless", "addon", "demo_tools", "hello"], env).returncode == 0
    proxy.fail("/api/bundles", "close")
    offline = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert offline.returncode == 0, offline.stderr
    assert "Traceback" not in offline.stderr


@pytest.mark.parametrize("fault,where,words", [
    ("500", "/api/", "HTTP 500"),
    ("hang", "/api/info", "no answer after"),  # in words, not a class name
    ("reset", "/private/client.zip", "interrupted"),
])
def test_cli_with_nothing_installed_is_one_line_exit_3(tmp_path, local_server, proxy, fault,
                                                       where, words):
    env = cli_env(tmp_path, proxy.url, local_server.service_api_key)
    proxy.fail(where, fault)
    done = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    proxy.release()
    assert done.returncode == 3
    line = error_line(done)
    assert "cannot start offline" in line and words.lower() in line.lower()
    assert local_server.service_api_key not in done.stderr
    leftovers = [p for p in (tmp_path / "local" / "addons").glob(".*")] \
        if (tmp_path / "local" / "addons").exists() else []
    assert leftovers == []


# --- Ctrl+C ------------------------------------------------------------------------------------

def _wait_for(condition, proc: subprocess.Popen | None = None, limit: float = 60) -> None:
    """Poll ``condition`` (a bound on a broken test, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the launcher ended early: {proc.communicate()}")
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)


def test_ctrl_c_during_a_sync_stops_it_and_the_next_run_completes(tmp_path, local_server, proxy):
    env = cli_env(tmp_path, proxy.url, local_server.service_api_key)
    assert run_ayon(["--headless", "addon", "demo_tools", "hello"], env).returncode == 0
    local = tmp_path / "local"
    before = snapshot(local)
    history = (local / "state" / "installed_bundles.json").read_bytes()
    job = tmp_path / "job.py"
    job.write_text("print('job ran')\n")
    # The staging add-on comes from a slow server: 400 small pieces, about 8 s in all.
    proxy.fail(DEMO_DOWNLOAD, "slow")
    proc = subprocess.Popen([sys.executable, "-m", "ayon_launcher", "--headless", "--use-staging",
                             str(job)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_for(lambda: any(DEMO_DOWNLOAD in path for path in proxy.partial_bytes), proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "ayon: interrupted"
    assert "Traceback" not in err and "job ran" not in out
    # It stopped mid-download: the launcher left before the slow answer was over (waiting for
    # the running item would have completed it and installed the add-on), and never retried.
    _wait_for(lambda: any(DEMO_DOWNLOAD in path for path in proxy.outcomes))
    assert [v for k, v in proxy.outcomes.items() if DEMO_DOWNLOAD in k] == ["cut"]
    assert proxy.hits_for(DEMO_DOWNLOAD) == 1
    # The previous state is intact (a work folder may be left for the next run to remove).
    assert {k: v for k, v in snapshot(local).items() if "/." not in k} == before
    assert (local / "state" / "installed_bundles.json").read_bytes() == history
    assert not (local / "addons" / "demo_tools_1.1.0").exists()

    proxy.clear()
    again = run_ayon(["--headless", "--use-staging", str(job)], env)
    assert again.returncode == 0, again.stderr
    assert "job ran" in again.stdout
    assert store.read_metadata(local / "addons" / "demo_tools_1.1.0") is not None
    assert not [p for p in (local / "addons").iterdir() if p.name.startswith(".")]


def test_cli_server_dying_mid_start_says_why_in_words(tmp_path, local_server, proxy):
    """Logged in, then the server drops the connection when asked for the bundles, with
    nothing installed to start offline: one line naming the cause in words, exit 3."""
    env = cli_env(tmp_path, proxy.url, local_server.service_api_key)
    proxy.fail("/api/bundles", "close")
    done = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 3, done.stderr
    line = error_line(done)
    assert f"cannot reach the AYON server {proxy.url} to read the bundles " \
           "(the server closed the connection)" in line, line
    assert "unable to connect" not in line.lower() and "api error" not in line.lower()
