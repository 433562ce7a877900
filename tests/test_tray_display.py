"""The tray on a real X display (Xvfb), in both of its forms and each state.

The tray on a real X display (Xvfb): the system-tray branch (with the small tray host
``trayer``) and the fallback window (without one), and the icon of each state, told by the
colour of its pixels on the screen: amber starting, green connected, grey offline, blue
restart waiting. Needs Xvfb and trayer (.ci/apt/tray.txt); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import isolated_env
from xvfb_helpers import xvfb_display

TESTS_DIR = Path(__file__).parent
EXPECTED = {"starting": "amber", "connected": "green", "offline": "grey", "update": "blue"}

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("Xvfb") is None
    or shutil.which("trayer") is None,
    reason="needs Xvfb and trayer (apt: .ci/apt/tray.txt)")


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb display; it picks a free display number itself (-displayfd)."""
    with xvfb_display() as number:
        yield number


def run_driver(tmp_path: Path, display: str) -> dict:
    env = isolated_env(tmp_path)
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", AYON_TRAY_BUNDLE_CHECK_SECONDS="0",
               PYTHONPATH=str(TESTS_DIR))
    out = tmp_path / "seen.json"
    done = subprocess.run([sys.executable, str(TESTS_DIR / "tray_icon_driver.py"), str(out),
                           str(tmp_path / "server")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def dominant(counts: dict[str, int]) -> str | None:
    if not counts:
        return None
    family, count = max(counts.items(), key=lambda item: item[1])
    return family if count >= 8 else None


def test_the_system_tray_shows_the_icon_in_the_colour_of_each_state(tmp_path, display):
    host = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype",
                             "request", "--height", "32", "--transparent", "false"],
                            env={**os.environ, "DISPLAY": display},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = run_driver(tmp_path, display)
    finally:
        host.terminate()
        host.wait(30)
    assert seen["tray_available"] and seen["icon_visible"]
    assert not seen["fallback_window"]  # the real tray branch
    assert {state: dominant(counts) for state, counts in seen["colors"].items()} == EXPECTED
    # The greeting of the demo add-on's menu item came as a notification, not a window.
    assert seen["say_hello"] == {"ok": True, "window": False,
                                 "output": "Hello from demo_tools! (demo_tools 1.0.0)"}


def test_without_a_tray_host_the_window_shows_the_colour_of_each_state(tmp_path, display):
    seen = run_driver(tmp_path, display)
    assert not seen["tray_available"] and not seen["icon_visible"]
    assert seen["fallback_window"]
    assert {state: dominant(counts) for state, counts in seen["colors"].items()} == EXPECTED
    # No system tray, no notification: the greeting comes in a window.
    assert seen["say_hello"] == {"ok": True, "window": True,
                                 "output": "Hello from demo_tools! (demo_tools 1.0.0)"}
