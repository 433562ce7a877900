"""The warm start (warmstart.py): few questions to the server, no change missed.

The warm start (warmstart.py): a start whose bundle is up to date asks the server one
question (two for a bundle without ayon-core, whose add-ons get their settings), imports
neither ayon_api nor requests, and still notices on the same start a changed bundle, changed
settings, a revoked token, a damaged install, another server URL or another user.

Each case runs against the embedded server and against ynput's real one (``any_server``),
through a loopback proxy that counts the requests (tests/failure_helpers.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy

PROJECT, FOLDER, TASK, APP = "demo_Commercial", "robot", "modeling", "maya/2024"
# dataclasses (and inspect, which it imports with ast, dis and tokenize) cost a warm start
# about a third of its own time: the classes of a start are plain (support/records.py).
# logging is imported only when a record must reach the screen or a library logs
# (support/log.py).
# typing is imported by the type checker only (`TYPE_CHECKING = False` blocks).
# pathlib (with urllib.parse and ipaddress), socket (with selectors and its enums),
# contextlib and zlib: the warm path uses os.path strings, _socket for a plain http server,
# small lock classes, and reads no file's CRC.
# threading: the store lock is _thread's, and so is the lease heartbeat on a shared store.
HEAVY = ("ayon_api", "requests", "urllib3", "http.client", "click", "dataclasses",
         "inspect", "logging", "typing", "pathlib", "urllib.parse", "socket", "contextlib",
         "zlib", "threading")
SCRIPT = f"""\
import json, os, sys
print(json.dumps({{"heavy": [m for m in {HEAVY!r} if m in sys.modules],
                  "bundle": os.environ.get("AYON_BUNDLE_NAME"),
                  "url": os.environ.get("AYON_SERVER_URL")}}))
"""


@pytest.fixture
def proxy(any_server):
    counting = FaultProxy(any_server.url)
    yield counting
    counting.close()


@pytest.fixture
def env(tmp_path, proxy, any_server) -> dict[str, str]:
    return {**isolated_env(tmp_path, proxy.url), "AYON_API_KEY": any_server.service_api_key}


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "probe.py"
    path.write_text(SCRIPT)
    return path


# The console script, as artists and farm nodes start the launcher: ``python -m`` would
# import contextlib (runpy's importlib.util) before the launcher runs.
AYON_SCRIPT = Path(sys.executable).with_name("ayon")


def run_script(env: dict[str, str], script: Path, *flags: str) -> dict:
    args = ["--headless", *flags, str(script)]
    if AYON_SCRIPT.is_file():
        done = subprocess.run([str(AYON_SCRIPT), *args], env=env, capture_output=True,
                              text=True, timeout=120)
    else:
        done = run_ayon(args, env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def launcher_imports(probe: dict) -> list[str]:
    """The heavy modules the launcher imported before the probe ran (without the console
    script, less what ``python -m`` itself imports)."""
    runpy = set() if AYON_SCRIPT.is_file() else {"contextlib"}
    return [name for name in probe["heavy"] if name not in runpy]


def requests_of(proxy: FaultProxy) -> dict[str, int]:
    seen = dict(proxy.hits)
    proxy.hits.clear()
    return seen


def settings_query(bundle: str) -> str:
    return f"/api/settings?bundle_name={bundle}&variant=production"


def test_warm_script_run_asks_once_per_dependency_and_imports_no_http_client(proxy, env,
                                                                             script):
    cold = run_script(env, script)
    assert cold["bundle"] == "demo_production"
    assert "/api/users/me" in requests_of(proxy)  # the full bootstrap logged in
    warm = run_script(env, script)
    assert warm["bundle"] == "demo_production" and warm["url"] == env["AYON_SERVER_URL"]
    # The script runs in the bootstrapped process: nothing heavy was imported to start it.
    assert launcher_imports(warm) == []
    # One look at the bundles; this bundle has no ayon-core, so the built-in pipeline gives
    # its add-ons their studio settings, which change without the bundle: a second request.
    assert requests_of(proxy) == {"/api/bundles": 1,
                                  settings_query("demo_production"): 1}
    # A script started without the bootstrap imports none of them either, and asks nothing.
    skipped = run_script(env, script, "--skip-bootstrap")
    assert launcher_imports(skipped) == [] and skipped["url"] == env["AYON_SERVER_URL"]
    assert requests_of(proxy) == {}


def test_warm_command_uses_the_connection_only_when_it_needs_it(proxy, env, tmp_path):
    hello = ["--headless", "addon", "demo_tools", "hello", "--name", "Ann"]
    assert run_ayon(hello, env).returncode == 0
    requests_of(proxy)
    warm = run_ayon(hello, env)
    assert warm.returncode == 0, warm.stderr
    assert "(demo_tools 1.0.0)" in warm.stdout
    assert requests_of(proxy) == {"/api/bundles": 1, settings_query("demo_production"): 1}
    # A command that reads the server gets its connection (ayon_api) when it asks for it.
    out = tmp_path / "env.json"
    args = ["--headless", "extractenvironments", str(out), "--project", PROJECT, "--asset",
            FOLDER, "--task", TASK, "--app", APP]
    assert run_ayon(args, env).returncode == 0
    done = run_ayon(args, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["AYON_APP_NAME"] == APP


def test_a_changed_production_bundle_is_used_on_the_same_start(any_server, proxy, env,
                                                                 script):
    assert run_script(env, script)["bundle"] == "demo_production"
    assert run_script(env, script)["bundle"] == "demo_production"
    current = any_server.bundle("demo_production")
    name = f"warm_next_{uuid.uuid4().hex[:6]}"
    any_server.create_bundle(name, current["addons"], current.get("dependencyPackages"),
                             is_production=True)
    try:
        assert run_script(env, script)["bundle"] == name
        assert run_script(env, script)["bundle"] == name
        # The same bundle changed in place (another dependency package): noticed too.
        any_server.update_bundle(name, dependencyPackages={})
        requests_of(proxy)
        assert run_script(env, script)["bundle"] == name
        assert "/api/addons?details=1" in requests_of(proxy)  # the full bootstrap ran
    finally:
        any_server.update_bundle("demo_production", isProduction=True)
        any_server.delete_bundle(name)
    assert run_script(env, script)["bundle"] == "demo_production"


def test_changed_addon_settings_are_used_on_the_same_start(any_server, proxy, env, tmp_path):
    out = tmp_path / "env.json"
    args = ["--headless", "extractenvironments", str(out), "--project", PROJECT, "--asset",
            FOLDER, "--task", TASK, "--app", APP]
    version = any_server.bundle("demo_production")["addons"]["applications"]
    original = any_server.addon_settings("applications", version)
    assert run_ayon(args, env).returncode == 0
    requests_of(proxy)
    assert run_ayon(args, env).returncode == 0
    assert "/api/addons?details=1" not in requests_of(proxy)  # a warm start
    probe = uuid.uuid4().hex
    changed = json.loads(json.dumps(original))
    variant = changed["applications"]["maya"]["variants"][0]
    environment = json.loads(variant["environment"])
    environment["WARM_PROBE"] = probe
    variant["environment"] = json.dumps(environment)
    any_server.set_addon_settings("applications", version, changed)
    try:
        done = run_ayon(args, env)
        assert done.returncode == 0, done.stderr
        assert json.loads(out.read_text()).get("WARM_PROBE") == probe
    finally:
        any_server.set_addon_settings("applications", version, original)
    done = run_ayon(args, env)
    assert done.returncode == 0, done.stderr
    assert "WARM_PROBE" not in json.loads(out.read_text())


def test_a_revoked_token_is_the_documented_auth_error_on_the_same_start(any_server, proxy,
                                                                        tmp_path, script):
    token = any_server.login_token()
    env = {**isolated_env(tmp_path, proxy.url), "AYON_API_KEY": token}
    run_script(env, script)
    run_script(env, script)
    any_server.revoke_token(token)
    done = run_ayon(["--headless", str(script)], env)
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("ayon: error: ") and "AYON_API_KEY" in lines[-1]
    assert token not in done.stderr and "Traceback" not in done.stderr


def test_a_damaged_install_is_repaired_on_the_same_start(env, tmp_path, script):
    run_script(env, script)
    run_script(env, script)
    package = tmp_path / "local" / "addons" / "demo_tools_1.0.0" / "ayon_demo_tools"
    shutil.rmtree(package)
    done = run_ayon(["--headless", str(script)], env)
    assert done.returncode == 0, done.stderr
    damaged = [line for line in done.stderr.splitlines() if "is damaged" in line]
    assert len(damaged) == 1 and "demo_tools 1.0.0" in damaged[0], done.stderr
    assert (package / "addon.py").is_file()


WARM_USER, WARM_PASSWORD = "warm_artist", "Warm-Artist-Passw0rd!"


def installed_urls(tmp_path: Path) -> set[str]:
    """The servers the full bootstrap recorded an installed bundle of (never a warm start)."""
    data = json.loads((tmp_path / "local" / "state" / "installed_bundles.json").read_text())
    return {entry["server_url"] for entry in data["bundles"]}


def test_another_user_or_server_url_gets_the_full_bootstrap(any_server, proxy, tmp_path,
                                                            script):
    if WARM_USER not in getattr(any_server, "_passwords", {}):
        any_server.create_user(WARM_USER, WARM_PASSWORD)
    env = {**isolated_env(tmp_path, proxy.url), "AYON_API_KEY": any_server.login_token()}
    run_script(env, script)
    requests_of(proxy)
    run_script(env, script)
    assert "/api/users/me" not in requests_of(proxy)
    # Another user's session, same bundle: logs in (and is recorded) on its own.
    other = {**env, "AYON_API_KEY": any_server.login_token(WARM_USER)}
    run_script(other, script)
    assert "/api/users/me" in requests_of(proxy)
    # The same server under another URL (direct, not through the proxy): nothing recorded
    # for it, so the full bootstrap, which records the bundle installed for that URL.
    direct = {**env, "AYON_SERVER_URL": any_server.url}
    assert run_script(direct, script)["url"] == any_server.url
    assert installed_urls(tmp_path) == {proxy.url, any_server.url}
    assert requests_of(proxy) == {}
    # And back: the first record is still good, one look is enough.
    run_script(env, script)
    assert "/api/users/me" not in requests_of(proxy)


def test_the_url_as_typed_warm_a_refused_url_never_and_an_older_record_anew(proxy, env,
                                                                            script, tmp_path):
    """The warm check takes AYON_SERVER_URL as the full start's rules write it (spaces and
    trailing slashes off) without parsing it; a URL those rules refuse finds no record and
    gets their error; a record without the parts this version keeps is written anew."""
    run_script(env, script)
    requests_of(proxy)
    typed = {**env, "AYON_SERVER_URL": f"  {env['AYON_SERVER_URL']}// "}
    assert run_script(typed, script)["bundle"] == "demo_production"
    assert requests_of(proxy) == {"/api/bundles": 1, settings_query("demo_production"): 1}
    refused = run_ayon(["--headless", str(script)],
                       {**env, "AYON_SERVER_URL": env["AYON_SERVER_URL"] + "/?x=1"})
    assert refused.returncode == 2 and "invalid AYON server URL" in refused.stderr
    assert requests_of(proxy) == {}
    record = tmp_path / "local" / "state" / "warm_start.json"
    data = json.loads(record.read_text())
    for entry in data["entries"].values():  # as the launcher before this version wrote it
        del entry["connection"], entry["settings_path"]
        entry["settings_query"] = {"bundle_name": "demo_production", "variant": "production"}
    record.write_text(json.dumps(data))
    run_script(env, script)
    assert "/api/addons?details=1" in requests_of(proxy)  # the full bootstrap
    run_script(env, script)
    assert requests_of(proxy) == {"/api/bundles": 1, settings_query("demo_production"): 1}



@pytest.mark.parametrize("where,fault,times,words", [
    ("/api/", "close", None, "cannot be reached"),
    # One answer 500: the server is unavailable, as the full bootstrap's request finds it.
    ("/api/bundles", "500", 1, "HTTP 500"),
])
def test_a_server_down_after_a_good_start_starts_offline(any_server, proxy, env, script,
                                                         where, fault, times, words):
    run_script(env, script)
    proxy.fail(where, fault, times=times)
    done = run_ayon(["--headless", str(script)], env)
    assert done.returncode == 0, done.stderr
    assert "OFFLINE" in done.stderr and words in done.stderr


def test_a_warm_start_on_a_shared_store_imports_nothing_heavy_either(proxy, env, script,
                                                                       tmp_path):
    """A farm node's start: the store lock and the in-use marks are lease files on the shared
    storage (store/leases.py), taken without pathlib, threading or socket."""
    env = {**env, "AYON_LAUNCHER_STORAGE_DIR": str(tmp_path / "shared")}
    assert run_script(env, script)["bundle"] == "demo_production"
    requests_of(proxy)
    warm = run_script(env, script)
    assert warm["bundle"] == "demo_production" and launcher_imports(warm) == []
    assert requests_of(proxy) == {"/api/bundles": 1, settings_query("demo_production"): 1}
    assert (tmp_path / "shared" / "addons").is_dir()  # the store really is the shared one


def test_a_kept_alive_connection_closed_by_the_server_is_asked_again_once(proxy, env,
                                                                         script):
    """The settings request goes on the connection of the bundles request: a server that
    closed it meanwhile (an idle time-out) is asked again on a new one, and the start stays
    warm; a server that closes every connection is unreachable (offline start)."""
    run_script(env, script)
    requests_of(proxy)
    proxy.fail("/api/settings", "close", times=1)
    done = run_ayon(["--headless", str(script)], env)
    assert done.returncode == 0 and "OFFLINE" not in done.stderr, done.stderr
    assert requests_of(proxy) == {"/api/bundles": 1, settings_query("demo_production"): 2}
    proxy.fail("/api/settings", "close", times=2)  # the second try is closed too
    done = run_ayon(["--headless", str(script)], env)
    assert done.returncode == 0 and "OFFLINE" in done.stderr, done.stderr
    assert requests_of(proxy)[settings_query("demo_production")] == 2  # asked twice, no more


def test_a_warm_start_keeps_its_bundle_the_most_recent(env, tmp_path, script):
    """The clean-up keeps the versions of the most recent bundles: a bundle started warm
    every day stays first in the history, as a full bootstrap would put it."""
    def order() -> list[str]:
        data = json.loads((tmp_path / "local" / "state" / "installed_bundles.json").read_text())
        return [entry["bundle_name"] for entry in data["bundles"]]

    run_script(env, script)
    run_script(env, script, "--use-staging")
    assert order() == ["demo_staging", "demo_production"]
    assert run_script(env, script)["bundle"] == "demo_production"  # warm
    assert order() == ["demo_production", "demo_staging"]


# Two entries of installed_bundles.json as the dataclass InstalledBundle wrote them (before
# support/records.py; its dataclasses.asdict also filled the warm-start record's "installed"):
# the first from a cold start of the demo bundle (settings shortened, paths neutral), the
# second built with the old field names: a project bundle over a studio one, a dev add-on.
OLD_HISTORY = {"bundles": [
    {"addons": [{"dev": False, "name": "applications", "version": "1.0.0",
                 "path": "/local/addons/applications_1.0.0"},
                {"dev": False, "name": "demo_tools", "version": "1.0.0",
                 "path": "/local/addons/demo_tools_1.0.0"}],
     "bundle_name": "demo_production",
     "dependency_package": "/local/dependency_packages/demo_dependencies_linux",
     "installed_at": "2026-12-01T05:50:38+0000", "server_url": "http://127.0.0.1:42037",
     "settings": {"applications": {"tool_groups": [
                      {"environment": '{\n  "MTOA_ROOT": {\n    "linux": "/opt/solidangle"\n  }\n}',
                       "name": "mtoa", "variants": [{"app_variants": [], "environment": "{}",
                                                     "host_names": ["maya"], "name": "5.3"}]}]},
                  "demo_tools": {"enabled": True, "greeting": "Hello from demo_tools",
                                 "tray_label": "Say hello"}},
     "studio_bundle_name": "demo_production", "variant": "production"},
    {"addons": [{"dev": True, "name": "demo_tools", "version": "2.0.0",
                 "path": "/home/ann/dev/demo_tools"}],
     "bundle_name": "proj_a", "dependency_package": None, "installed_at": "",
     "server_url": "https://ayon.example", "settings": {}, "studio_bundle_name": "studio_b",
     "variant": "staging"},
]}


def test_installed_bundles_of_the_dataclass_version_read_and_write_back_identically(
        tmp_path, monkeypatch):
    from ayon_launcher.bootstrapper.distribution.store import history

    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.delenv("AYON_LAUNCHER_STORAGE_DIR", raising=False)
    path = Path(history.history_path())
    path.parent.mkdir(parents=True)
    # The file's own format (atomicfile.write_json_atomic, unchanged since).
    old_text = json.dumps(OLD_HISTORY, indent=2, sort_keys=True) + "\n"
    path.write_text(old_text, encoding="utf-8")
    loaded = history.load_history()
    assert [b.to_dict() for b in loaded] == OLD_HISTORY["bundles"]
    assert loaded[1].addons[0] == history.InstalledAddon("demo_tools", "2.0.0",
                                                         "/home/ann/dev/demo_tools", dev=True)
    assert loaded[0] == history.InstalledBundle.from_dict(OLD_HISTORY["bundles"][0])
    assert loaded[0] != loaded[1]
    # Recording the newest again writes the very same file.
    history.record_installed(loaded[0], keep=3)
    assert path.read_text(encoding="utf-8") == old_text
