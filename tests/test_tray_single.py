"""A second ``ayon`` while a tray runs brings that tray forward instead of starting one.

One tray per user: a second ``ayon`` while a tray runs does not start another tray; the
running one is asked to come forward and the second says so in one line (exit 0). Two real
``ayon`` processes, Qt offscreen, driven by the tray's "second:" test hook."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from ayon_launcher.gui.display import TRAY_TEST_HOOK_ENV
from conftest import isolated_env, run_ayon
from test_tray import qapp  # noqa: F401 - fixture used by name


def read_lines(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_second_tray_brings_the_running_one_forward(tmp_path, local_server):
    env = isolated_env(tmp_path, local_server.url)
    env["AYON_API_KEY"] = local_server.service_api_key
    env["AYON_TRAY_BUNDLE_CHECK_SECONDS"] = "0"
    record = tmp_path / "first.jsonl"
    first = subprocess.Popen([sys.executable, "-m", "ayon_launcher"],
                             env={**env, TRAY_TEST_HOOK_ENV: f"second:{record}"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Polls the first tray's own record (no time asserted: the loop waits for readiness).
        for _ in range(1200):
            if read_lines(record) or first.poll() is not None:
                break
            time.sleep(0.1)
        assert read_lines(record) and read_lines(record)[0]["ready"], first.stderr
        # The second would write a snapshot if it started a tray of its own.
        snapshot = tmp_path / "second.json"
        second = run_ayon([], {**env, TRAY_TEST_HOOK_ENV: f"snapshot:{snapshot}"})
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip().splitlines() == [
            "AYON is already running: its window was brought forward."]
        assert not snapshot.exists()
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        lines = read_lines(record)
        assert [line.get("brought_forward") for line in lines] == [None, True]
        assert {line["pid"] for line in lines} == {first.pid}
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)


def test_after_the_tray_exits_a_new_one_starts(tmp_path, local_server):
    env = isolated_env(tmp_path, local_server.url)
    env["AYON_API_KEY"] = local_server.service_api_key
    for round_ in range(2):
        snapshot = tmp_path / f"tray{round_}.json"
        done = run_ayon([], {**env, TRAY_TEST_HOOK_ENV: f"snapshot:{snapshot}"})
        assert done.returncode == 0, done.stderr
        assert json.loads(snapshot.read_text())["state"] == "connected"


def test_two_trays_started_at_once_leave_one(qapp, tmp_path, monkeypatch):  # noqa: F811
    """Both asked before either listened (a double click on the icon): the one that listens
    second finds the name taken by a tray that answers, asks it to come forward and does not
    take the name from it."""
    from ayon_launcher.gui.single_instance import TrayServer
    from ayon_launcher.gui.worker import wait_for

    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    knocks: list[str] = []
    first = TrayServer(lambda: knocks.append("first"))
    second = TrayServer(lambda: knocks.append("second"))
    try:
        assert first.listen() and not first.other_tray
        assert not second.listen() and second.other_tray
        assert wait_for(lambda: knocks == ["first"], 10000)
        assert first.server.isListening() and not second.server.isListening()
    finally:
        first.close()
        second.close()
    # Once that tray is gone, its name is free for the next one.
    third = TrayServer(knocks.append)
    try:
        assert third.listen() and not third.other_tray
    finally:
        third.close()


def test_a_tray_killed_leaves_the_name_free(qapp, tmp_path, monkeypatch):  # noqa: F811
    """A tray that died without closing (SIGKILL) leaves its lock and socket files: the next
    tray takes the name, not refused by them."""
    from ayon_launcher.gui.single_instance import TrayServer

    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    holder = subprocess.Popen(
        [sys.executable, "-c", "from ayon_launcher.gui.single_instance import TrayServer\n"
         "import sys, time\nserver = TrayServer(lambda: None)\n"
         "print(server.listen(), flush=True)\ntime.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        busy = TrayServer(lambda: None)
        assert not busy.listen() and busy.other_tray  # alive: it has the name
        busy.close()
    finally:
        holder.kill()
        holder.wait(30)
    after = TrayServer(lambda: None)
    try:
        assert after.listen() and not after.other_tray
    finally:
        after.close()
