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
