"""Failure suite, credentials: a token that expires between two calls, a revoked API key.

A refused credential is never mistaken for an outage: no offline start with a revoked key
(exit code 4, one line, the key never shown), and the store keeps its previous state.
(tests/test_core_cli.py covers the stored token that expired between two launcher runs.)
"""

from __future__ import annotations

import ayon_api
import pytest

from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.distribute import distribute, fetch_bundle
from ayon_launcher.localserver.store import secret_digest
from ayon_launcher.support.errors import AuthenticationRequired
from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("AYON_LAUNCHER_DOWNLOAD_RETRIES", "3")
    return tmp_path / "local"


@pytest.fixture
def proxy(local_server):
    fault = FaultProxy(local_server.url)
    yield fault
    fault.close()


def expire(server, token: str) -> None:
    """End a session token now, as its lifetime running out does."""
    record = server.store.get("token", secret_digest(token))
    server.store.put("token", secret_digest(token), {**record, "expires": 0})


def sync(api, **choice):
    choice = {"bundle_name": None, "use_staging": False, "use_dev": False, **choice}
    return distribute(api, fetch_bundle(api, **choice))


def one_line(exc: BaseException, *secrets: str) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    for secret in secrets:
        assert secret not in text
    return text


def test_token_expires_between_bundle_list_and_download(local, local_server, proxy):
    token = local_server.login_token()
    api = ayon_api.ServerAPI(proxy.url, token=token)
    sync(api)
    before = sorted(p.name for p in (local / "addons").iterdir())
    # The bundle and add-on lists are read with a valid token; it expires before the download.
    proxy.before("/private/client.zip", lambda: expire(local_server, token))
    with pytest.raises(AuthenticationRequired) as info:
        sync(api, use_staging=True)
    message = one_line(info.value, token)
    assert "rejected the credentials" in message and "addon demo_tools 1.1.0" in message
    assert "HTTP 401" in message
    assert info.value.exit_code == 4
    # Refused credentials are not retried like a network error: one request only.
    assert proxy.hits_for("/addons/demo_tools/1.1.0/private/client.zip") == 1
    assert sorted(p.name for p in (local / "addons").iterdir()) == before
    assert store.last_installed().bundle_name == "demo_production"


def test_token_expires_between_two_api_calls(local, local_server, proxy):
    token = local_server.login_token()
    api = ayon_api.ServerAPI(proxy.url, token=token)
    proxy.before("/api/addons", lambda: expire(local_server, token))
    with pytest.raises(AuthenticationRequired) as info:
        sync(api)
    message = one_line(info.value, token)
    assert "add-on list" in message and "log in again" in message
    assert not (local / "addons").exists() or not any((local / "addons").iterdir())


def test_api_key_revoked_during_a_session(local, fresh_server):
    key = fresh_server.create_api_key("service")
    api = ayon_api.ServerAPI(fresh_server.url, token=key)
    sync(api)
    fresh_server.revoke_api_key(key)
    with pytest.raises(AuthenticationRequired) as info:
        sync(api, use_staging=True)
    one_line(info.value, key)
    assert store.read_metadata(local / "addons" / "demo_tools_1.0.0") is not None


def test_revoked_api_key_never_starts_offline(tmp_path, fresh_server):
    """With a bundle installed, a server that is down starts offline; a server that refuses
    the key does not: access was withdrawn on purpose."""
    key = fresh_server.create_api_key("service")
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = key
    first = run_ayon(["--headless", "--debug", "addon", "demo_tools", "hello"], env)
    assert first.returncode == 0, first.stderr
    fresh_server.revoke_api_key(key)
    refused = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert refused.returncode == 4
    assert "Traceback" not in refused.stderr
    assert "OFFLINE" not in refused.stderr and "Hello" not in refused.stdout
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("ayon: error: ") and "AYON_API_KEY" in lines[0]
    # Not even the debug traceback shows the key.
    debug = run_ayon(["--headless", "--debug", "--verbose", "debug", "addon", "demo_tools",
                      "hello"], env)
    assert debug.returncode == 4
    assert key not in debug.stdout + debug.stderr


def test_revoked_key_of_a_script_run_is_one_line(tmp_path, fresh_server):
    key = fresh_server.create_api_key("service")
    fresh_server.revoke_api_key(key)
    script = tmp_path / "hello.py"
    script.write_text("print('should not run')\n")
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = key
    done = run_ayon(["--headless", str(script)], env)
    assert done.returncode == 4
    assert "should not run" not in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ayon: error: ") and key not in lines[0]
