"""``ayon contextselection`` through the real CLI (offscreen Qt, test hook drives the dialog)."""

from __future__ import annotations

import json
import sys

import pytest

from ayon_launcher.gui.display import CONTEXT_DIALOG_TEST_HOOK_ENV as TEST_HOOK_ENV
from conftest import isolated_env, run_ayon

PROJECT = "demo_Commercial"


@pytest.fixture
def env(tmp_path, local_server):
    environment = isolated_env(tmp_path, local_server.url)
    environment["AYON_API_KEY"] = local_server.service_api_key
    return environment


def _last_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.strip()][-1]


def test_accept_writes_the_context(tmp_path, env):
    out = tmp_path / "out" / "context.json"
    env[TEST_HOOK_ENV] = "accept:rigging"  # test-only: select the task and press OK
    result = run_ayon(["contextselection", str(out), "--project", PROJECT,
                       "--asset", "robot", "--strict"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == {
        "project": PROJECT, "asset": "robot", "folder_path": "/assets/characters/robot",
        "task": "rigging",
    }


def test_cancel_writes_nothing_and_exits_1(tmp_path, env):
    out = tmp_path / "context.json"
    env[TEST_HOOK_ENV] = "reject"
    result = run_ayon(["contextselection", str(out)], env)
    assert result.returncode == 1
    assert "cancelled" in _last_line(result.stderr)
    assert not out.exists()


def test_asset_without_project_is_usage_error(tmp_path):
    out = tmp_path / "context.json"
    result = run_ayon(["contextselection", str(out), "--asset", "robot"], isolated_env(tmp_path))
    assert result.returncode == 2
    assert "--asset needs --project" in _last_line(result.stderr)
    assert not out.exists()


def test_unknown_project_is_one_line_error(tmp_path, env):
    out = tmp_path / "context.json"
    env[TEST_HOOK_ENV] = "reject"
    result = run_ayon(["contextselection", str(out), "--project", "demo_comercial"], env)
    assert result.returncode == 2
    assert "did you mean: demo_Commercial" in _last_line(result.stderr)


def test_headless_is_one_line_error(tmp_path):
    result = run_ayon(["--headless", "contextselection", str(tmp_path / "c.json")],
                      isolated_env(tmp_path))
    assert result.returncode == 2
    assert "headless" in _last_line(result.stderr)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland check")
def test_no_display_is_one_line_error(tmp_path):
    environment = isolated_env(tmp_path)
    for key in ("DISPLAY", "WAYLAND_DISPLAY"):
        environment.pop(key, None)
    environment["QT_QPA_PLATFORM"] = "xcb"
    result = run_ayon(["contextselection", str(tmp_path / "c.json")], environment)
    assert result.returncode == 2
    assert "needs a display" in _last_line(result.stderr)


def test_offscreen_without_its_driver_is_one_line_error(tmp_path):
    # A dialog on an offscreen Qt platform would wait forever for a person.
    result = run_ayon(["contextselection", str(tmp_path / "c.json")], isolated_env(tmp_path))
    assert result.returncode == 2
    assert "would not be visible (QT_QPA_PLATFORM=offscreen)" in _last_line(result.stderr)


def test_unwritable_output_is_refused_before_the_dialog(tmp_path, env):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env[TEST_HOOK_ENV] = "accept:modeling"
    result = run_ayon(["contextselection", str(blocker / "c.json"), "--project",
                       "demo_Commercial", "--asset", "robot"], env)
    assert result.returncode == 2
    assert "is not a folder" in _last_line(result.stderr)
