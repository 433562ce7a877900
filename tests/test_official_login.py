"""Switching from ynput's official launcher keeps the login.

The official launcher keeps its token in the keyring (service ``AYON/{url}``, fixed key
``username``) and its last server and user names in ``used_servers.json`` of the local
folder. Here they are written as it writes them, into a real file-based keyring backend
(tests/keyring_stand_in.py stands in for the OS keychain, which this machine has not) and a
real local folder; the real ``ayon`` CLI then starts without asking anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon

TESTS_DIR = Path(__file__).parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("official-server"), demo=True) as running:
        running.store.create_user("switcher", "Sw1tch-Secr3t!", full_name="A switcher")
        yield running


def official_launcher_state(tmp_path: Path, server_url: str, token: str | None) -> dict:
    """Environment with a keychain and a local folder as the official launcher leaves them."""
    keychain = tmp_path / "keychain.json"
    entries = {f"AYON/{server_url}\nusername": token} if token else {}
    keychain.write_text(json.dumps(entries))
    local = tmp_path / "local"
    local.mkdir()
    (local / "used_servers.json").write_text(json.dumps({
        "last_server": server_url,
        "urls": {server_url: {"updated_dt": "2026/11/30 10:00:00", "username": "switcher"}},
    }))
    env = isolated_env(tmp_path)  # no AYON_SERVER_URL: the last server comes from the file
    env.update(PYTHON_KEYRING_BACKEND="keyring_stand_in.FileStandInKeyring",
               TEST_KEYRING_FILE=str(keychain), PYTHONPATH=str(TESTS_DIR))
    return env


def test_official_launchers_login_is_used_without_asking(tmp_path, server, script):
    token = server.login_token("switcher")
    env = official_launcher_state(tmp_path, server.url, token)
    seen = tmp_path / "seen.json"
    result = run_ayon(["--headless", str(script), str(seen)], env)  # no terminal: cannot ask
    assert result.returncode == 0, result.stderr
    assert json.loads(seen.read_text()) == {"AYON_SERVER_URL": server.url, "AYON_API_KEY": token}
    keychain = json.loads((tmp_path / "keychain.json").read_text())
    # Now this launcher's own; the official launcher's entry is left as it was.
    assert keychain[f"AYON launcher {server.url}\ntoken"] == token
    assert keychain[f"AYON/{server.url}\nusername"] == token

    # A logout here ends this launcher's login and does not bring the official one back.
    out = run_ayon(["logout"], env)
    assert out.returncode == 0 and f"Logged out of {server.url}." in out.stdout
    again = run_ayon(["--headless", str(script), str(seen)], env)
    assert again.returncode == 4, again.stderr
    assert "a login is needed" in again.stderr


def test_expired_official_login_asks_with_the_server_and_user_filled_in(tmp_path, server,
                                                                        script):
    env = official_launcher_state(tmp_path, server.url, "expired-or-revoked-token")
    result = run_ayon(["--headless", str(script), str(tmp_path / "seen.json")], env)
    assert result.returncode == 4, result.stderr
    assert f"the stored login for {server.url} has expired" in result.stderr
    assert "expired-or-revoked-token" not in result.stderr


def test_own_login_wins_over_the_official_one(tmp_path, server, script):
    env = official_launcher_state(tmp_path, server.url, "official-token-not-to-be-used")
    own = server.login_token("switcher")
    keychain = tmp_path / "keychain.json"
    entries = json.loads(keychain.read_text())
    entries.update({"AYON launcher\nserver_url": server.url,
                    f"AYON launcher {server.url}\ntoken": own,
                    "AYON launcher\nhas_own_login": "1"})
    keychain.write_text(json.dumps(entries))
    seen = tmp_path / "seen.json"
    result = run_ayon(["--headless", str(script), str(seen)], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(seen.read_text())["AYON_API_KEY"] == own
