"""`ayon server --demo` in a subprocess: prints its URL and answers HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import requests

from failure_helpers import error_messages


def test_server_command_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(  # port 0: the server binds a port the kernel picks, and says it
        [sys.executable, "-m", "ayon_launcher", "server", "--demo", "--port", "0",
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            if match:
                url = match.group(1)
        assert url is not None and not url.endswith(":0"), lines
        info = requests.get(f"{url}/api/info", timeout=5).json()
        assert info["version"]
        for _ in range(3):
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        assert "admin" in text and "API key" in text
        token = requests.post(f"{url}/api/auth/login", json={"name": "admin",
                              "password": "admin"}, timeout=5).json()["token"]
        bundles = requests.get(f"{url}/api/bundles", timeout=5,
                               headers={"Authorization": f"Bearer {token}"}).json()
        assert bundles["productionBundle"] == "demo_production"
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_server_command_rejects_non_loopback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ayon_launcher", "server", "--host", "0.0.0.0",
         "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr and "Traceback" not in result.stderr


def test_server_on_a_taken_port_is_one_line_and_creates_nothing(tmp_path, local_server):
    port = local_server.url.rsplit(":", 1)[1]
    data = tmp_path / "new-data"
    done = subprocess.run(
        [sys.executable, "-m", "ayon_launcher", "server", "--port", port, "--data-dir",
         str(data)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert error_messages(done.stderr.strip().splitlines()) == [
        f"ayon: error: Local server could not start on 127.0.0.1:{port}: Address already in "
        "use (is the port already in use?)"]
    assert not data.exists()
