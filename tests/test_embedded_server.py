"""``ayon --local-server``: the embedded default that the README's main command starts.

No test picks a "free" port to use later: the first launcher's server binds port 0 and the
test reads the port it got from the URL that launcher hands to its script.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import requests

from conftest import isolated_env, run_ayon

# A script run by the launcher: says the server it was given, then waits for a line on stdin
# (the launcher, and so its embedded server, stays up until the test lets it go).
HOLD = """\
import os, sys
print(os.environ["AYON_SERVER_URL"], flush=True)
sys.stdin.readline()
"""
SAY_URL = "import os; print(os.environ['AYON_SERVER_URL'])"


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = isolated_env(tmp_path)
    env.update(AYON_LOCAL_SERVER_DIR=str(tmp_path / "server"), AYON_LOCAL_SERVER_PORT=str(port))
    return env


def _refuses(url: str) -> bool:
    """Whether nothing listens at ``url`` any more (connection refused)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_local_server_flag_bootstraps_against_the_embedded_server(tmp_path):
    env = _env(tmp_path, 0)
    done = run_ayon(["--local-server", "--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from demo_tools! (demo_tools 1.0.0)"
    assert (tmp_path / "server").is_dir()
    assert (tmp_path / "local" / "addons" / "demo_tools_1.0.0").is_dir()


def test_the_hint_after_local_server_without_a_display_works_as_printed(tmp_path):
    import re
    import shlex

    env = _env(tmp_path, 0)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env["QT_QPA_PLATFORM"] = ""  # a plain Linux box without a screen, not Qt's offscreen
    done = run_ayon(["--local-server"], env)
    assert done.returncode == 0, done.stderr
    hint = next(line for line in done.stdout.splitlines() if line.startswith("No tray:"))
    suggested = re.findall(r"`(ayon [^`]*)`", hint)
    runnable = [cmd for cmd in suggested if "demo_tools" in cmd]  # a concrete command
    assert runnable, hint
    for command in runnable:
        again = run_ayon(shlex.split(command)[1:], env)
        assert again.returncode == 0, (command, again.stderr)
        assert "Hello from demo_tools!" in again.stdout


def test_a_running_server_of_the_same_data_is_reused(tmp_path):
    from ayon_launcher.localserver.embedded import start_embedded

    first = start_embedded(tmp_path / "server", port=0)  # the port is the kernel's choice
    try:
        port = int(first.url.rsplit(":", 1)[1])
        assert port != 0
        script = tmp_path / "url.py"
        script.write_text(SAY_URL)
        done = run_ayon(["--local-server", "--headless", str(script)], _env(tmp_path, port))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == first.url == f"http://127.0.0.1:{port}"
    finally:
        first.close()


def test_the_server_lives_as_long_as_the_launcher_that_started_it(tmp_path):
    """A second launcher reuses the running server (and leaves it running when it exits);
    the server stops, its port closed, when the launcher that started it exits."""
    hold = tmp_path / "hold.py"
    hold.write_text(HOLD)
    say = tmp_path / "say.py"
    say.write_text(SAY_URL)
    first = subprocess.Popen(
        [sys.executable, "-m", "ayon_launcher", "--local-server", "--headless", str(hold)],
        env=_env(tmp_path, 0), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        url = first.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), first.stderr.read() if not url else url
        port = int(url.rsplit(":", 1)[1])
        assert requests.get(f"{url}/api/info", timeout=5).status_code == 200

        # A second launcher of the same data folder and port: it reuses the running server.
        second = run_ayon(["--local-server", "--headless", str(say)], _env(tmp_path, port))
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == url
        # Its exit does not stop the server it did not start.
        assert requests.get(f"{url}/api/info", timeout=5).status_code == 200

        first.stdin.write("done\n")
        first.stdin.flush()
        assert first.wait(timeout=60) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        for stream in (first.stdin, first.stdout, first.stderr):
            stream.close()
    assert _refuses(url)  # the launcher exited: its server is gone with it


def test_a_foreign_server_on_the_port_is_not_used(tmp_path, local_server):
    port = int(local_server.url.rsplit(":", 1)[1])
    script = tmp_path / "url.py"
    script.write_text(SAY_URL)
    done = run_ayon(["--local-server", "--headless", str(script)], _env(tmp_path, port))
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("http://127.0.0.1:") and url != local_server.url
