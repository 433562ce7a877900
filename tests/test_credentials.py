"""Stored logins that cannot be written or read, damaged credential files, unsafe server URLs.

Everything runs the real ``ayon`` CLI against the local AYON-compatible server; logins are
typed on a real pseudo-terminal (tests/pty_helpers.py). We run as root here, so "cannot
write" is made with a config folder below a regular file, and "cannot read" with a folder
where the credentials file should be.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_messages
from pty_helpers import run_ayon_pty

USER = "keeper"
PASSWORD = "K33p-Me-Secr3t!"  # distinctive, so that a leak cannot hide in other text
TESTS_DIR = Path(__file__).parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("credentials-server"), demo=True) as running:
        running.store.create_user(USER, PASSWORD, full_name="A Keeper")
        yield running


@pytest.fixture
def env(tmp_path, server):
    return isolated_env(tmp_path, server.url)


def answers() -> list[tuple[str, str]]:
    return [("User name", USER), ("Password", PASSWORD)]


def token_count(server) -> int:
    return len(server.store.list("token"))


def credentials_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "credentials.json"


def error_lines(text: str) -> list[str]:
    return error_messages([line for line in text.splitlines() if line.startswith("ayon: ")])


def assert_no_crash(text: str) -> None:
    assert "unexpected error" not in text and "Traceback" not in text, text


# ------------------------------------------------------------ a login that succeeds
def test_ayon_login_on_a_terminal_is_remembered_and_used(env, server, tmp_path, script):
    import requests

    before = token_count(server)
    done = run_ayon_pty(["login"], env, answers())
    assert done.returncode == 0, done.output
    assert done.unanswered == []
    assert_no_crash(done.output)
    assert error_lines(done.output) == []
    assert "Logged in" in done.output and USER in done.output
    assert PASSWORD not in done.output
    assert token_count(server) == before + 1
    stored = credentials_file(tmp_path)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    token = next(entry["token"] for entry in json.loads(stored.read_text()).values()
                 if isinstance(entry, dict) and entry.get("token"))
    assert token not in done.output
    me = requests.get(f"{server.url}/api/users/me", timeout=5,
                      headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["name"] == USER

    # The next run needs no terminal: it uses the remembered login.
    seen = tmp_path / "seen.json"
    again = run_ayon(["--headless", str(script), str(seen)], env)
    assert again.returncode == 0, again.stderr
    assert json.loads(seen.read_text()) == {"AYON_SERVER_URL": server.url, "AYON_API_KEY": token}


# ------------------------------------------------------------ a login that cannot be saved
@pytest.mark.parametrize("config", ["under_a_file", "is_a_file"])
def test_unsaveable_login_is_used_for_this_run_with_a_warning(env, server, tmp_path, script,
                                                              config):
    blocker = tmp_path / "afile"
    blocker.write_text("a regular file, not a folder\n")
    # Below a file: NotADirectoryError; the file itself: FileExistsError on mkdir.
    config_dir = blocker / "sub" if config == "under_a_file" else blocker
    env = {**env, "AYON_LAUNCHER_CONFIG_DIR": str(config_dir)}
    seen = tmp_path / "seen.json"
    before = token_count(server)
    done = run_ayon_pty(["--headless", str(script), str(seen)], env, answers())
    assert done.returncode == 0, done.output
    assert_no_crash(done.output)
    reason = "Not a directory" if config == "under_a_file" else "File exists"
    assert (f"cannot save the login in {config_dir / 'credentials.json'}: {reason} "
            "(set AYON_LAUNCHER_CONFIG_DIR); the login is used for this run only"
            in " ".join(done.output.split()))
    ran = json.loads(seen.read_text())
    assert ran["AYON_SERVER_URL"] == server.url and ran["AYON_API_KEY"]
    assert token_count(server) == before + 1  # the session this run uses
    assert PASSWORD not in done.output and ran["AYON_API_KEY"] not in done.output
    assert blocker.read_text() == "a regular file, not a folder\n"

    # Nothing was remembered: without a terminal the next start says how to log in.
    again = run_ayon(["--headless", str(script), str(seen)], env)
    assert again.returncode == 4, again.stderr
    assert_no_crash(again.stderr)


def test_ayon_login_that_cannot_be_saved_fails_and_ends_the_token(env, server, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    env = {**env, "AYON_LAUNCHER_CONFIG_DIR": str(blocker / "sub")}
    before = token_count(server)
    done = run_ayon_pty(["login"], env, answers())
    assert done.returncode == 1, done.output
    assert_no_crash(done.output)
    assert error_lines(done.output) == [
        f"ayon: error: cannot save the login in {blocker / 'sub' / 'credentials.json'}: "
        "Not a directory (set AYON_LAUNCHER_CONFIG_DIR)"]
    assert "Logged in" not in done.output
    # `ayon login` exists to remember the login: the token it cannot keep was logged out.
    assert token_count(server) == before


# --------------------------------------------------------- a keyring that refuses to save
def locked_keyring_env(env: dict[str, str], keychain: Path) -> dict[str, str]:
    # tests/keyring_locked_stand_in.py stands in for a locked OS keychain: reads work,
    # set_password raises keyring.errors.PasswordSetError.
    return {**env, "PYTHON_KEYRING_BACKEND": "keyring_locked_stand_in.LockedStandInKeyring",
            "TEST_KEYRING_FILE": str(keychain), "PYTHONPATH": str(TESTS_DIR)}


def nowhere_to_store_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A locked (empty) keychain and a config folder that cannot be made (under a file):
    a login cannot be stored anywhere."""
    keychain = tmp_path / "keychain.json"
    keychain.write_text("{}")
    blocker = tmp_path / "afile"
    blocker.write_text("")
    return {**locked_keyring_env(env, keychain),
            "AYON_LAUNCHER_CONFIG_DIR": str(blocker / "sub")}


def test_locked_keyring_falls_back_to_the_private_file(env, server, tmp_path, script):
    keychain = tmp_path / "keychain.json"
    # What the keychain kept from an earlier session: this server, and a token long expired.
    keychain.write_text(json.dumps({
        "AYON launcher\nserver_url": server.url,
        f"AYON launcher {server.url}\ntoken": "expired-token-from-last-month",
    }))
    kept = keychain.read_text()
    env = locked_keyring_env(env, keychain)
    env.pop("AYON_SERVER_URL")  # the URL comes from the keychain
    seen = tmp_path / "seen.json"
    first = run_ayon_pty(["--headless", "--verbose", "debug", str(script), str(seen)], env,
                         answers())
    assert first.returncode == 0, first.output
    assert_no_crash(first.output)
    assert "has expired" in first.output  # the keychain's token was read and refused
    assert "the keyring refused to save (PasswordSetError); using the private file" \
        in first.output
    assert "WARNING" not in first.output  # the login is remembered: nothing to warn about
    assert keychain.read_text() == kept
    stored = credentials_file(tmp_path)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    token = json.loads(stored.read_text())[f"AYON launcher {server.url}"]["token"]
    assert token == json.loads(seen.read_text())["AYON_API_KEY"]

    # The next start, without a terminal, uses the file's token over the keychain's stale one.
    before = token_count(server)
    second = run_ayon(["--headless", str(script), str(seen)], env)
    assert second.returncode == 0, second.stderr
    assert json.loads(seen.read_text()) == {"AYON_SERVER_URL": server.url,
                                            "AYON_API_KEY": token}
    assert token_count(server) == before

    # Logout ends the session and drops the token from the file, the keychain is untouched.
    out = run_ayon(["logout", "--keep-server"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Logged out of {server.url}."
    assert token_count(server) == before - 1
    assert "token" not in json.loads(stored.read_text()).get(f"AYON launcher {server.url}", {})


def test_locked_keyring_and_unwritable_folder_still_runs(env, server, tmp_path, script):
    env = nowhere_to_store_env(env, tmp_path)
    seen = tmp_path / "seen.json"
    done = run_ayon_pty(["--headless", str(script), str(seen)], env, answers())
    assert done.returncode == 0, done.output
    assert_no_crash(done.output)
    assert "the login is used for this run only" in done.output
    assert (tmp_path / "keychain.json").read_text() == "{}"


# ------------------------------------------------------------ damaged credentials.json
def test_malformed_file_is_named_backed_up_and_replaced(env, server, tmp_path, script):
    stored = credentials_file(tmp_path)
    stored.parent.mkdir()
    damaged = b'{"AYON launcher": {"server_url": "http://half-writ'
    stored.write_bytes(damaged)
    seen = tmp_path / "seen.json"
    done = run_ayon_pty(["--headless", str(script), str(seen)], env, answers())
    assert done.returncode == 0, done.output
    assert_no_crash(done.output)
    assert (f"ignoring unreadable credentials file {stored} (not valid JSON); it will be "
            "replaced on the next login, keeping a copy in credentials.json.bad"
            in " ".join(done.output.split()))
    assert done.output.count("ignoring unreadable credentials file") == 1  # once a run
    backup = stored.with_name("credentials.json.bad")
    assert backup.read_bytes() == damaged
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it may hold someone's tokens
    data = json.loads(stored.read_text())
    assert data["AYON launcher"]["server_url"] == server.url
    assert data[f"AYON launcher {server.url}"]["token"]

    again = run_ayon(["--headless", str(script), str(seen)], env)
    assert again.returncode == 0, again.stderr
    assert "ignoring" not in again.stderr


@pytest.mark.parametrize("content", ['[1, 2]', '"just a string"', "\udcff{}"])
def test_non_object_or_undecodable_file_is_ignored_with_a_warning(env, tmp_path, content):
    stored = credentials_file(tmp_path)
    stored.parent.mkdir()
    stored.write_bytes(content.encode("utf-8", "surrogateescape"))
    env.pop("AYON_SERVER_URL")
    done = run_ayon(["logout"], env)
    assert done.returncode == 0, done.stderr
    assert_no_crash(done.stderr)
    assert f"ignoring unreadable credentials file {stored}" in done.stderr
    assert done.stdout.strip() == "Not logged in: nothing to log out."
    # Nothing was written, so nothing was replaced (and no backup is needed yet).
    assert stored.read_bytes() == content.encode("utf-8", "surrogateescape")
    assert not stored.with_name("credentials.json.bad").exists()


def test_sections_that_are_not_objects_are_ignored(env, server, tmp_path, script):
    stored = credentials_file(tmp_path)
    stored.parent.mkdir()
    stored.write_text(json.dumps({"AYON launcher": "oops", f"AYON launcher {server.url}": 7}))
    env.pop("AYON_SERVER_URL")
    out = run_ayon(["logout"], env)
    assert out.returncode == 0, out.stderr
    assert_no_crash(out.stderr)
    assert out.stdout.strip() == "Not logged in: nothing to log out."

    # A login over it keeps a well-formed file.
    seen = tmp_path / "seen.json"
    login = run_ayon_pty(["--headless", str(script), str(seen)],
                         {**env, "AYON_SERVER_URL": server.url}, answers())
    assert login.returncode == 0, login.output
    data = json.loads(stored.read_text())
    assert data["AYON launcher"] == {"server_url": server.url, "has_own_login": "1"}
    assert set(data[f"AYON launcher {server.url}"]) == {"token", "username"}
    out = run_ayon(["logout"], env)
    assert out.returncode == 0 and out.stdout.strip() == f"Logged out of {server.url}."


def test_credentials_path_that_cannot_be_read_is_one_line(env, tmp_path, script):
    stored = credentials_file(tmp_path)
    stored.mkdir(parents=True)  # a folder where the file should be: IsADirectoryError
    env.pop("AYON_SERVER_URL")
    for args in (["--headless", str(script), str(tmp_path / "seen.json")], ["logout"]):
        done = run_ayon(args, env)
        assert done.returncode == 1, done.stderr
        assert_no_crash(done.stderr)
        assert error_lines(done.stderr) == [
            f"ayon: error: cannot read the stored logins in {stored}: Is a directory "
            "(fix its permissions, or set AYON_LAUNCHER_CONFIG_DIR)"]
        assert "no AYON server URL is known" not in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode; the "
                    "same error path is covered by the folder-in-place-of-the-file test")
def test_credentials_file_without_read_permission_is_one_line(env, tmp_path, script):
    stored = credentials_file(tmp_path)
    stored.parent.mkdir()
    stored.write_text("{}")
    stored.chmod(0)
    env.pop("AYON_SERVER_URL")
    done = run_ayon(["--headless", str(script), str(tmp_path / "seen.json")], env)
    assert done.returncode == 1, done.stderr
    assert error_lines(done.stderr) == [
        f"ayon: error: cannot read the stored logins in {stored}: Permission denied "
        "(fix its permissions, or set AYON_LAUNCHER_CONFIG_DIR)"]


def test_api_key_runs_do_not_need_the_credentials_file(server, tmp_path, script):
    # A farm job with AYON_SERVER_URL + AYON_API_KEY never reads the stored logins.
    env = isolated_env(tmp_path, server.url)
    credentials_file(tmp_path).mkdir(parents=True)
    seen = tmp_path / "seen.json"
    done = run_ayon(["--headless", str(script), str(seen)],
                    {**env, "AYON_API_KEY": server.service_api_key})
    assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text())["AYON_API_KEY"] == server.service_api_key


# ------------------------------------------------------------------------ server URLs
@pytest.mark.parametrize("url, why", [
    ("http://127.0.0.1:5000?x=1", "must not have a query (?...) or a fragment (#...)"),
    ("http://127.0.0.1:5000/?", "must not have a query"),
    ("https://ayon.example.com/#login", "or a fragment (#...)"),
])
def test_url_with_query_or_fragment_is_refused(tmp_path, script, url, why):
    done = run_ayon(["--headless", str(script), str(tmp_path / "seen.json")],
                    isolated_env(tmp_path, url))
    assert done.returncode == 2, done.stderr
    assert_no_crash(done.stderr)
    lines = error_lines(done.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"ayon: error: invalid AYON server URL {url!r}")
    assert why in lines[0] and "production bundle" not in done.stderr


@pytest.mark.parametrize("url, shown", [
    ("http://bob:Pa55-w0rd-X@127.0.0.1:5000", "http://***@127.0.0.1:5000"),
    ("https://bob:Pa55-w0rd-X@ayon.example.com/", "https://***@ayon.example.com/"),
    ("http://bob:Pa55@w0rd-X@127.0.0.1:0", "http://***@127.0.0.1:0"),  # "@" in the password
    ("http://bob:Pa55-w0rd-X@127.0.0.1:99999", "http://***@127.0.0.1:99999"),  # bad port
    ("bob:Pa55-w0rd-X@127.0.0.1", "***@127.0.0.1"),  # no scheme
])
def test_url_with_user_info_is_refused_without_showing_the_password(tmp_path, script, url,
                                                                    shown):
    env = isolated_env(tmp_path, url)
    for args in (["--headless", str(script), str(tmp_path / "seen.json")], ["logout"]):
        done = run_ayon(args, env)
        assert done.returncode == 2, done.stderr
        assert_no_crash(done.stderr)
        lines = error_lines(done.stderr)
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"ayon: error: invalid AYON server URL {shown!r}: ")
        assert "Pa55" not in done.stdout + done.stderr
    assert not credentials_file(tmp_path).exists()  # nothing stored


def test_url_rules_for_forms():
    from ayon_launcher.bootstrapper.connection.urls import normalize_server_url, url_problem

    assert normalize_server_url(" https://ayon.example.com:5000/ ") \
        == "https://ayon.example.com:5000"
    assert normalize_server_url("http://[::1]:5000") == "http://[::1]:5000"
    problem = url_problem("http://bob:hunter22@host")
    assert problem and "hunter22" not in problem and "user name or password" in problem
    assert "query" in (url_problem("http://host?token=abc") or "")
    # For forms: the reason alone, to show as it is (the URL is in the field next to it).
    assert url_problem("ftp://host") == "it must start with http:// or https:// and name a host"
    assert url_problem(" https://ayon.example.com/ ") is None


def test_unstorable_login_is_asked_once_for_a_command(env, server, tmp_path):
    # A command (not a script) first looks at the bundle (does it have ayon-core?), then the
    # built-in command bootstraps: both use the one login, even when it cannot be stored.
    env = nowhere_to_store_env(env, tmp_path)
    out = tmp_path / "env.json"
    done = run_ayon_pty(["--headless", "extractenvironments", str(out)], env, answers())
    assert done.returncode == 0, done.output
    assert done.output.count("User name") == 1, done.output
    # The user's own login: children may change it (ayon-core's tray "Login" works).
    assert json.loads(out.read_text())["AYON_IN_LOGIN_MODE"] == "1"
