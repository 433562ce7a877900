"""The launcher core end to end, in real subprocesses against the local server.

The launcher core end to end: login on a terminal, stored token, URL rules, runtime
environment of children, scripts, interactive console, logout. Real subprocesses against
the local server; the terminal is a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_message
from pty_helpers import run_ayon_pty

USER = "artist"
PASSWORD = "Ex4mple-Passw0rd!"  # distinctive, so that a leak cannot hide in other text

RUNTIME_VARIABLES = [
    "USE_AYON_SERVER", "AYON_VERSION", "AYON_ROOT", "AYON_EXECUTABLE", "AYON_HEADLESS_MODE",
    "AYON_LOG_LEVEL", "AYON_DEBUG", "AYON_USE_STAGING", "AYON_BUNDLE_NAME", "AYON_SERVER_URL",
    "AYON_API_KEY",
]
ALIASES = {
    "OPENPYPE_HEADLESS_MODE": "AYON_HEADLESS_MODE",
    "OPENPYPE_USE_STAGING": "AYON_USE_STAGING",
    "OPENPYPE_LOG_LEVEL": "AYON_LOG_LEVEL",
    "OPENPYPE_DEBUG": "AYON_DEBUG",
    "OPENPYPE_VERSION": "AYON_VERSION",
    "OPENPYPE_EXECUTABLE": "AYON_EXECUTABLE",
    "OPENPYPE_ROOT": "AYON_ROOT",
    "OPENPYPE_REPOS_ROOT": "AYON_ROOT",
}

# A script that starts a real child process and writes what the child saw, plus its argv.
DUMP_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys
    child = subprocess.run(
        [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
        capture_output=True, text=True, check=True)
    out = {"argv": sys.argv, "child_env": json.loads(child.stdout)}
    with open(os.environ["DUMP_TO"], "w") as handle:
        json.dump(out, handle)
    sys.exit(int(os.environ.get("EXIT_WITH", "0")))
""")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, with a person's account (token lifetime is changed)."""
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("core-server"), demo=True) as running:
        running.store.create_user(USER, PASSWORD, full_name="An Artist")
        yield running


@pytest.fixture
def env(tmp_path, server):
    return isolated_env(tmp_path, server.url)


@pytest.fixture
def dump(tmp_path):
    script = tmp_path / "dump_env.py"
    script.write_text(DUMP_SCRIPT)
    return script


def token_count(server) -> int:
    return len(server.store.list("token"))


def stored_credentials(tmp_path: Path) -> Path:
    return tmp_path / "config" / "credentials.json"


def login_answers(user: str = USER, password: str = PASSWORD) -> list[tuple[str, str]]:
    return [("User name", user), ("Password", password)]


def test_first_login_on_terminal_then_token_reused(env, server, tmp_path, dump):
    out = tmp_path / "out.json"
    env = {**env, "DUMP_TO": str(out)}
    before = token_count(server)
    first = run_ayon_pty(["--headless", str(dump), "one"], env, login_answers())
    assert first.returncode == 0, first.output
    assert first.unanswered == []
    assert PASSWORD not in first.output  # not echoed
    assert token_count(server) == before + 1
    credentials = stored_credentials(tmp_path)
    # No keyring backend here: the private file, readable by the user only.
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert server.url in credentials.read_text()
    assert json.loads(out.read_text())["argv"][1:] == ["one"]

    # Second start: no terminal at all, no login call, the stored token is used.
    second = run_ayon(["--headless", str(dump), "two"], env)
    assert second.returncode == 0, second.stderr
    assert token_count(server) == before + 1
    seen = json.loads(out.read_text())
    assert seen["argv"][1:] == ["two"]
    assert seen["child_env"]["AYON_SERVER_URL"] == server.url


def stored_token(tmp_path: Path, server_url: str) -> str:
    data = json.loads(stored_credentials(tmp_path).read_text())
    return next(entry["token"] for service, entry in data.items()
                if server_url in service and "token" in entry)


def test_expired_token_asks_again_and_keeps_the_url(tmp_path, server, dump):
    from ayon_launcher.localserver.store import secret_digest

    env = isolated_env(tmp_path, server.url)
    env["DUMP_TO"] = str(tmp_path / "out.json")
    first = run_ayon_pty(["--headless", str(dump)], env, login_answers())
    assert first.returncode == 0, first.output
    # The token's lifetime runs out (set on the server, so that no test waits on a clock).
    digest = secret_digest(stored_token(tmp_path, server.url))
    server.store.put("token", digest, {**server.store.get("token", digest), "expires": 0})
    # The URL now comes from the store, not the environment.
    env.pop("AYON_SERVER_URL")
    no_terminal = run_ayon(["--headless", str(dump)], env)
    assert no_terminal.returncode == 4
    assert no_terminal.stderr.strip().splitlines()[-1].startswith("ayon: error:")
    assert "expired" in no_terminal.stderr
    assert "AYON_API_KEY" in no_terminal.stderr and "Traceback" not in no_terminal.stderr
    again = run_ayon_pty(["--headless", str(dump)], env, login_answers())
    assert again.returncode == 0, again.output
    assert "expired" in again.output.lower()
    assert "AYON server URL" not in again.output  # the stored URL was kept


def test_wrong_password_can_be_retried(env, tmp_path, dump):
    env = {**env, "DUMP_TO": str(tmp_path / "out.json")}
    answers = [("User name", USER), ("Password", "wrong"), ("User name", USER),
               ("Password", PASSWORD)]
    done = run_ayon_pty(["--headless", str(dump)], env, answers)
    assert done.returncode == 0, done.output
    assert "wrong user name or password" in done.output.lower() or "failed" in done.output


def test_url_prompt_validates_the_scheme(tmp_path, server, dump):
    env = isolated_env(tmp_path)  # no URL anywhere: it is asked for
    env["DUMP_TO"] = str(tmp_path / "out.json")
    answers = [("AYON server URL", "ftp://example"), ("AYON server URL", server.url + "/"),
               *login_answers()]
    done = run_ayon_pty(["--headless", str(dump)], env, answers)
    assert done.returncode == 0, done.output
    assert "http://" in done.output  # the explanation of the bad URL
    # Stored without the trailing slash: later starts find it.
    later = run_ayon(["--headless", str(dump)], env)
    assert later.returncode == 0, later.stderr


def test_environment_url_wins_over_the_stored_one(env, tmp_path, dump):
    env = {**env, "DUMP_TO": str(tmp_path / "out.json")}
    assert run_ayon_pty(["--headless", str(dump)], env, login_answers()).returncode == 0
    elsewhere = {**env, "AYON_SERVER_URL": "http://127.0.0.1:9/"}  # nothing listens there
    done = run_ayon(["--headless", str(dump)], elsewhere)
    assert done.returncode == 3
    assert "127.0.0.1:9" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["ftp://studio", "studio.example:5000", "http://", " ",
                                 "http://[::1", "http://127.0.0.1:99999", "http://a b"])
def test_bad_server_url_is_one_line_exit_2(tmp_path, url, dump):
    env = isolated_env(tmp_path)
    env["AYON_SERVER_URL"] = url
    done = run_ayon(["--headless", str(dump)], env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ayon: error:")
    assert "invalid AYON server URL" in lines[0]


def test_malformed_url_at_the_prompt_is_asked_again(tmp_path, server, dump):
    env = isolated_env(tmp_path)
    env["DUMP_TO"] = str(tmp_path / "out.json")
    answers = [("AYON server URL", "http://[::1"), ("AYON server URL", server.url),
               *login_answers()]
    done = run_ayon_pty(["--headless", str(dump)], env, answers)
    assert done.returncode == 0, done.output
    assert "the IPv6 address in [brackets] is not complete" in done.output
    assert "Invalid IPv6 URL" not in done.output  # the library's own words never show


def test_no_terminal_no_key_tells_how_to_authenticate(tmp_path, server, dump):
    env = isolated_env(tmp_path, server.url)
    done = run_ayon(["--headless", str(dump)], env)
    assert done.returncode == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "AYON_SERVER_URL" in lines[0] and "AYON_API_KEY" in lines[0]


@pytest.mark.parametrize("level, expected", [("debug", "10"), ("35", "35"), ("critical", "50"),
                                             ("NOTSET", "0")])
def test_verbose_levels_reach_the_children(tmp_path, dump, level, expected):
    env = isolated_env(tmp_path)
    env["DUMP_TO"] = str(tmp_path / "out.json")
    done = run_ayon(["--skip-bootstrap", "--verbose", level, str(dump)], env)
    assert done.returncode == 0, done.stderr
    child = json.loads((tmp_path / "out.json").read_text())["child_env"]
    assert child["AYON_LOG_LEVEL"] == expected == child["OPENPYPE_LOG_LEVEL"]


@pytest.mark.parametrize("level", ["loud", "51", "-1", "1.5"])
def test_bad_verbose_level_is_a_clear_error(tmp_path, dump, level):
    done = run_ayon(["--skip-bootstrap", "--verbose", level, str(dump)], isolated_env(tmp_path))
    assert done.returncode == 2
    assert "0-50" in done.stderr and "Traceback" not in done.stderr


def test_every_runtime_variable_reaches_a_child(env, server, tmp_path, dump):
    out = tmp_path / "out.json"
    env = {**env, "DUMP_TO": str(out), "AYON_API_KEY": server.service_api_key}
    done = run_ayon(["--headless", "--use-staging", "--debug", "--verbose", "info", str(dump),
                     "a", "b c"], env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    child = seen["child_env"]
    assert seen["argv"][1:] == ["a", "b c"]
    missing = [name for name in [*RUNTIME_VARIABLES, *ALIASES] if name not in child]
    assert missing == []
    assert child["USE_AYON_SERVER"] == "1"
    assert child["AYON_HEADLESS_MODE"] == "1"
    assert child["AYON_USE_STAGING"] == "1"
    assert child["AYON_DEBUG"] == "1"
    assert child["AYON_BUNDLE_NAME"] == "demo_staging"
    assert child["AYON_SERVER_URL"] == server.url
    assert child["AYON_API_KEY"] == server.service_api_key
    # AYON_EXECUTABLE re-enters this launcher (as ayon-core starts it: with AYON_ROOT/start.py
    # when its name says python); AYON_ROOT holds the version.py ayon-core reads.
    launch = [child["AYON_EXECUTABLE"]]
    if "python" in Path(launch[0]).name.lower():
        launch.append(str(Path(child["AYON_ROOT"]) / "start.py"))
    again = subprocess.run([*launch, "--version"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "0." in again.stdout, again.stderr
    version_file = {}
    exec((Path(child["AYON_ROOT"]) / "version.py").read_text(), version_file)
    from ayon_launcher import __version__

    assert child["AYON_VERSION"] == __version__ == version_file["__version__"]
    assert __version__ in again.stdout
    for alias, name in ALIASES.items():
        assert child[alias] == child[name], alias
    # The bundle's add-ons are importable in children and contribute their variables.
    assert child["AYON_DEMO_TOOLS_VERSION"] == "1.1.0"
    assert any("demo_tools_1.1.0" in part for part in child["PYTHONPATH"].split(os.pathsep))


def test_script_exit_codes(tmp_path):
    env = isolated_env(tmp_path)
    cases = {
        "ok.py": ("print('fine')", 0),
        "seven.py": ("import sys; sys.exit(7)", 7),
        "message.py": ("import sys; sys.exit('bad things')", 1),
        "raises.py": ("raise RuntimeError('boom')", 1),
    }
    for name, (body, code) in cases.items():
        (tmp_path / name).write_text(body)
        done = run_ayon(["--skip-bootstrap", str(tmp_path / name)], env)
        assert done.returncode == code, (name, done.stderr)
    raised = run_ayon(["--skip-bootstrap", str(tmp_path / "raises.py")], env)
    assert "RuntimeError: boom" in raised.stderr  # the script's own error, as Python shows it


def test_missing_script_is_one_line(tmp_path):
    done = run_ayon(["--skip-bootstrap", str(tmp_path / "nope.py")], isolated_env(tmp_path))
    assert done.returncode == 2
    assert error_message(done.stderr.strip()) == (
        f"ayon: error: script not found: {tmp_path / 'nope.py'}")


def test_run_script_is_deprecated_but_works(tmp_path, dump):
    env = isolated_env(tmp_path)
    env["DUMP_TO"] = str(tmp_path / "out.json")
    done = run_ayon(["--skip-bootstrap", "run", "--script", str(dump), "x", "--flag"], env)
    assert done.returncode == 0, done.stderr
    assert "deprecated" in done.stderr
    assert json.loads((tmp_path / "out.json").read_text())["argv"][1:] == ["x", "--flag"]


def test_interactive_console_has_a_connection(env, server):
    env = {**env, "AYON_API_KEY": server.service_api_key}
    done = subprocess.run(
        [sys.executable, "-m", "ayon_launcher", "--headless", "interactive"],
        input="print('user=' + con.get_user()['name'])\nprint(len(addons))\n",
        env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ">>> user=service\n>>> 2\n" in done.stdout


def test_logout_forgets_the_token_and_the_server(env, tmp_path, dump, server):
    env = {**env, "DUMP_TO": str(tmp_path / "out.json")}
    assert run_ayon_pty(["--headless", str(dump)], env, login_answers()).returncode == 0
    tokens = token_count(server)
    out = run_ayon(["logout"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Logged out of {server.url}."
    assert token_count(server) == tokens - 1  # ended on the server too
    assert server.url not in stored_credentials(tmp_path).read_text()
    assert run_ayon(["--headless", str(dump)], env).returncode == 4
    again = run_ayon(["logout"], env)
    assert again.returncode == 0 and again.stdout.strip() == "Not logged in: nothing to log out."


def test_logout_can_keep_the_server_for_the_next_login(env, tmp_path, dump, server):
    env = {**env, "DUMP_TO": str(tmp_path / "out.json")}
    assert run_ayon_pty(["--headless", str(dump)], env, login_answers()).returncode == 0
    assert run_ayon(["logout", "--keep-server"], env).returncode == 0
    kept = stored_credentials(tmp_path).read_text()
    assert server.url in kept and USER in kept and "token" not in kept
    env.pop("AYON_SERVER_URL")  # the kept URL is used, only the login is asked for
    again = run_ayon_pty(["--headless", str(dump)], env, login_answers())
    assert again.returncode == 0, again.output
    assert "AYON server URL" not in again.output


def test_no_secret_in_any_output_at_debug(env, server, tmp_path, dump):
    env = {**env, "DUMP_TO": str(tmp_path / "out.json")}
    first = run_ayon_pty(["--headless", "--debug", "--verbose", "debug", str(dump)], env,
                         login_answers())
    assert first.returncode == 0, first.output
    stored = json.loads(stored_credentials(tmp_path).read_text())
    tokens = [value for entry in stored.values() if isinstance(entry, dict)
              for key, value in entry.items() if "token" in key]
    assert tokens, stored
    second = run_ayon(["--headless", "--debug", "--verbose", "debug", str(dump)], env)
    keyed = run_ayon(["--headless", "--debug", "--verbose", "0", str(dump)],
                     {**env, "AYON_API_KEY": server.service_api_key})
    assert second.returncode == 0 and keyed.returncode == 0, second.stderr + keyed.stderr
    assert "DEBUG" in second.stderr  # the debug logs really were on
    for text in (first.output, second.stdout + second.stderr, keyed.stdout + keyed.stderr):
        for secret in [PASSWORD, server.service_api_key, *tokens]:
            assert secret not in text


def test_version_and_help():
    from ayon_launcher import __version__

    env = isolated_env(Path("/nonexistent"))
    version = run_ayon(["--version"], env)
    assert version.returncode == 0 and __version__ in version.stdout
    helped = run_ayon(["--help"], env)
    assert helped.returncode == 0
    for word in ("--headless", "--use-staging", "--skip-bootstrap", "--verbose", "--debug",
                 "--bundle", "--use-dev", "extractenvironments", "contextselection", "publish",
                 "tray", "interactive"):
        assert word in helped.stdout, word


def test_keyring_is_used_when_a_backend_works(env, server, tmp_path, dump):
    # The keyring backend is a stand-in for an OS keychain (tests/keyring_stand_in.py).
    keyring_file = tmp_path / "keychain.json"
    env = {**env, "DUMP_TO": str(tmp_path / "out.json"),
           "PYTHON_KEYRING_BACKEND": "keyring_stand_in.FileStandInKeyring",
           "TEST_KEYRING_FILE": str(keyring_file),
           "PYTHONPATH": str(Path(__file__).parent)}
    first = run_ayon_pty(["--headless", str(dump)], env, login_answers())
    assert first.returncode == 0, first.output
    assert not stored_credentials(tmp_path).exists()
    keychain = json.loads(keyring_file.read_text())
    assert any(server.url in key and key.endswith("\ntoken") for key in keychain)
    assert server.url in keychain.values()  # the last server URL
    before = token_count(server)
    again = run_ayon(["--headless", str(dump)], {**env, "AYON_SERVER_URL": ""})
    assert again.returncode == 0, again.stderr
    assert token_count(server) == before


def test_script_runs_as_main_module_without_click_or_qt(tmp_path):
    script = tmp_path / "main_check.py"
    script.write_text(textwrap.dedent("""
        import json, pickle, sys

        class Shot:
            def __init__(self, name):
                self.name = name

        if __name__ == "__main__":
            # Pickling needs the script to be the real __main__ module.
            shot = pickle.loads(pickle.dumps(Shot("sh010")))
            heavy = sorted(m for m in ("click", "PySide6", "ayon_api", "fastapi", "pyblish")
                           if m in sys.modules)
            print(json.dumps({"shot": shot.name, "heavy": heavy, "argv": sys.argv[1:]}))
    """))
    done = run_ayon(["--skip-bootstrap", "--verbose=warning", str(script), "--flag", "-x"],
                    isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"shot": "sh010", "heavy": [], "argv": ["--flag", "-x"]}


GARBAGE_SCRIPT = textwrap.dedent("""
    import gc, json, sys

    class Held:
        # Buffered output in a reference cycle: only the collector ends it (and writes it).
        def __init__(self, path):
            self.out = open(path, "w")
            self.me = self
        def __del__(self):
            self.out.write("finalized\\n")
            self.out.close()

    Held(sys.argv[1] + ".during")
    collected = gc.collect()
    Held(sys.argv[1] + ".exit")  # garbage left for the interpreter's exit
    print(json.dumps({"enabled": gc.isenabled(), "collected": collected > 0}))
""")


@pytest.mark.parametrize("flags", [["--skip-bootstrap"], ["--headless"]])
def test_a_scripts_garbage_is_collected_and_finalized_as_with_python(env, server, tmp_path,
                                                                     flags):
    # The launcher keeps the collector off while it starts and freezes its own objects:
    # the script's must still be collected, during the run and at exit, as python does.
    script = tmp_path / "garbage.py"
    script.write_text(GARBAGE_SCRIPT)
    env = {**env, "AYON_API_KEY": server.service_api_key}
    done = run_ayon([*flags, str(script), str(tmp_path / "ayon")], env)
    assert done.returncode == 0, done.stderr
    python = subprocess.run([sys.executable, str(script), str(tmp_path / "python")],
                            capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == json.loads(python.stdout) == {"enabled": True,
                                                                    "collected": True}
    for run in ("ayon", "python"):
        for when in ("during", "exit"):
            assert (tmp_path / f"{run}.{when}").read_text() == "finalized\n", (run, when)


def test_flags_from_the_environment_apply_to_scripts(tmp_path, dump):
    env = isolated_env(tmp_path)
    env.update(DUMP_TO=str(tmp_path / "out.json"), AYON_HEADLESS_MODE="1",
               AYON_LOG_LEVEL="warning", AYON_BUNDLE_NAME="")
    done = run_ayon(["--skip-bootstrap", str(dump)], env)
    assert done.returncode == 0, done.stderr
    child = json.loads((tmp_path / "out.json").read_text())["child_env"]
    assert child["AYON_HEADLESS_MODE"] == "1" and child["AYON_LOG_LEVEL"] == "30"
    bad = run_ayon(["--skip-bootstrap", str(dump)], {**env, "AYON_HEADLESS_MODE": "maybe"})
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_debug_logs_of_libraries_hide_query_strings(local_server, tmp_path):
    # A signed download URL carries its secret in the query: urllib3 logs the request line.
    code = textwrap.dedent(f"""
        import requests
        from ayon_launcher.support.log import setup_logging
        setup_logging(10, True)
        requests.get("{local_server.url}/api/info?token=SIGNED-SECRET-123", timeout=10)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "/api/info?***" in done.stderr  # the debug line is there...
    assert "SIGNED-SECRET-123" not in done.stderr  # ...without the secret


@pytest.mark.parametrize("name, value", [
    ("AYON_LAUNCHER_DOWNLOAD_RETRIES", "abc"), ("AYON_LAUNCHER_DOWNLOAD_TIMEOUT", "-1"),
    ("AYON_LAUNCHER_DOWNLOAD_WORKERS", "2.5"), ("AYON_LAUNCHER_KEEP_BUNDLES", "0"),
    ("AYON_SERVER_TIMEOUT", "soon"),
])
def test_bad_numeric_setting_is_named_in_one_line(env, server, tmp_path, dump, name, value):
    env = {**env, "DUMP_TO": str(tmp_path / "out.json"), "AYON_API_KEY": server.service_api_key,
           name: value}
    done = run_ayon(["--headless", str(dump)], env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ayon: error: {name}={value!r}")


@pytest.mark.parametrize("args", [
    ["extractenvironments", "{tmp}/env.json"],
    ["addon", "demo_tools", "hello"],
    ["{tmp}/dump_env.py"],
    ["publish", "{tmp}/missing.json"],
])
def test_headless_commands_never_import_qt(env, server, tmp_path, dump, args):
    env = {**env, "AYON_API_KEY": server.service_api_key, "DUMP_TO": str(tmp_path / "o.json")}
    args = [arg.format(tmp=tmp_path) for arg in args]
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ayon_launcher",
                           "--headless", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert ("ayon_launcher.bootstrapper.cli.main" in imported
            or "ayon_launcher.bootstrapper.cli.script_runner" in imported)
    assert not {"PySide6", "qtpy", "shiboken6"} & imported, args


def test_offscreen_qt_never_waits_on_an_invisible_login_dialog(tmp_path, server, dump):
    # Farms often set QT_QPA_PLATFORM=offscreen; without --headless a login dialog there
    # would wait forever for an answer nobody can give.
    env = isolated_env(tmp_path, server.url)  # QT_QPA_PLATFORM=offscreen, no credentials
    done = run_ayon([str(dump)], env, timeout=60)
    assert done.returncode == 4
    assert "AYON_API_KEY" in done.stderr.strip().splitlines()[-1]


def test_no_command_with_offscreen_qt_syncs_and_explains(env, server):
    env = {**env, "AYON_API_KEY": server.service_api_key}  # QT_QPA_PLATFORM=offscreen
    done = run_ayon([], env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "AYON is up to date: bundle demo_production" in done.stdout
    assert "would not be visible (QT_QPA_PLATFORM=offscreen)" in done.stdout


def test_a_child_launcher_connects_with_the_inherited_token(env, tmp_path):
    # The child gets AYON_SERVER_URL + AYON_API_KEY (here a person's session token, not a
    # service key) and starts a launcher of its own: no login, same bundle.
    script = tmp_path / "nested.py"
    script.write_text(textwrap.dedent("""
        import os, subprocess, sys
        # As ayon-core's get_ayon_launcher_args() builds a launcher command line.
        launch = [os.environ["AYON_EXECUTABLE"]]
        if "python" in os.path.basename(launch[0]).lower():
            launch.append(os.path.join(os.environ["AYON_ROOT"], "start.py"))
        nested = subprocess.run(
            [*launch, "--headless", "addon", "demo_tools", "hello", "--name", "child"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True)
        print(nested.stdout.strip())
        sys.exit(nested.returncode)
    """))
    done = run_ayon_pty(["--headless", str(script)], env, login_answers())
    assert done.returncode == 0, done.output
    assert "Hello from demo_tools, child! (demo_tools 1.0.0)" in done.output


def test_script_errors_and_file_look_like_python(tmp_path):
    env = isolated_env(tmp_path)
    (tmp_path / "where.py").write_text("import sys; print(__file__); print(sys.argv[0])\n"
                                       "raise ValueError('from the script')\n")
    (tmp_path / "syntax.py").write_text("def broken(:\n")
    ran = run_ayon(["--skip-bootstrap", "where.py"], env, cwd=tmp_path)
    assert ran.returncode == 1
    # __file__ absolute (a script may chdir), argv[0] as typed, traceback from the script only.
    assert ran.stdout.splitlines() == [str(tmp_path / "where.py"), "where.py"]
    assert "ValueError: from the script" in ran.stderr
    assert "ayon_launcher" not in ran.stderr
    bad = run_ayon(["--skip-bootstrap", "syntax.py"], env, cwd=tmp_path)
    assert bad.returncode == 1
    assert "SyntaxError" in bad.stderr and "ayon_launcher" not in bad.stderr


def test_relative_local_folder_is_made_absolute_for_children(tmp_path, env, server, dump):
    env = {**env, "AYON_API_KEY": server.service_api_key, "DUMP_TO": str(tmp_path / "o.json"),
           "AYON_LAUNCHER_LOCAL_DIR": "relative-local"}
    done = run_ayon(["--headless", str(dump)], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    child = json.loads((tmp_path / "o.json").read_text())["child_env"]
    parts = child["PYTHONPATH"].split(os.pathsep)
    assert any(p.startswith(str(tmp_path / "relative-local")) for p in parts)
    assert all(os.path.isabs(p) for p in parts if p)


def test_verbose_notset_shows_everything(tmp_path, env, server, dump):
    env = {**env, "AYON_API_KEY": server.service_api_key, "DUMP_TO": str(tmp_path / "o.json")}
    done = run_ayon(["--verbose", "notset", "--headless", str(dump)], env)
    assert done.returncode == 0, done.stderr
    assert "INFO: installed addon demo_tools" in done.stderr
