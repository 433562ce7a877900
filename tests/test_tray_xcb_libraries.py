"""Without Qt's X11 libraries: a one-line fix and a terminal fallback.

A stock Linux desktop without Qt's X11 libraries (libxcb-cursor0 and friends) gets a
one-line fix naming the packages and a terminal fallback (sync, then explain), never Qt's
abort (exit 134). The missing library is made real: a broken ``libxcb-cursor.so.0`` first on
``LD_LIBRARY_PATH`` fails to load for the check exactly as it would for Qt. So does a DISPLAY
where no X server answers (a session that ended, a DISPLAY kept over ssh)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ayon_launcher.gui.display import missing_libraries
from conftest import isolated_env, run_ayon
from xvfb_helpers import xvfb_display

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is Linux")


def broken_cursor_library(tmp_path: Path) -> str:
    """A folder whose ``libxcb-cursor.so.0`` is not a library: loading it fails."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "libxcb-cursor.so.0").write_bytes(b"not an ELF file")
    return str(folder)


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb display (it picks a free display number itself)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb (apt: xvfb)")
    with xvfb_display() as number:
        yield number


def test_the_check_lists_a_library_that_does_not_load():
    missing = missing_libraries({"libc.so.6": "libc6", "libayon-no-such-lib.so.7": "none"})
    assert missing == ["libayon-no-such-lib.so.7"]


def test_the_check_sees_a_broken_library_on_the_search_path(tmp_path, display):
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "LD_LIBRARY_PATH": broken_cursor_library(tmp_path)}
    code = "from ayon_launcher.gui.display import xcb_problem; print(xcb_problem())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "libxcb-cursor.so.0" in done.stdout and "apt install libxcb-cursor0" in done.stdout
    # Without the broken copy this machine has every library: no problem reported.
    env.pop("LD_LIBRARY_PATH")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "None", done.stdout


def test_the_tray_falls_back_to_the_terminal_with_the_packages_to_install(
        tmp_path, display, local_server):
    env = isolated_env(tmp_path, local_server.url)
    env.update(AYON_API_KEY=local_server.service_api_key, DISPLAY=display,
               QT_QPA_PLATFORM="xcb", LD_LIBRARY_PATH=broken_cursor_library(tmp_path))
    done = run_ayon([], env)
    # Documented: exit 0 after the sync, as any start without a tray (not 134, a core dump).
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Aborted" not in done.stderr
    assert "up to date: bundle demo_production" in done.stdout
    lines = [line for line in done.stdout.splitlines() if line.startswith("No tray:")]
    assert len(lines) == 1, done.stdout
    assert "libxcb-cursor.so.0" in lines[0] and "sudo apt install libxcb-cursor0" in lines[0]


def unused_display() -> str:
    """A display number no X server of this machine has (socket file, abstract socket or
    lock): far above the numbers Xvfb -displayfd picks (the lowest free)."""
    with open("/proc/net/unix", encoding="utf-8") as handle:
        sockets = handle.read()
    for number in range(6000, 6100):
        socket_path = f"/tmp/.X11-unix/X{number}"
        if not (os.path.exists(socket_path) or os.path.exists(f"/tmp/.X{number}-lock")
                or socket_path in sockets):
            return f":{number}"
    pytest.skip("no unused X display number")


def test_a_display_that_does_not_answer_falls_back_to_the_terminal(tmp_path, local_server):
    dead = unused_display()
    env = isolated_env(tmp_path, local_server.url)
    env.update(AYON_API_KEY=local_server.service_api_key, DISPLAY=dead)
    env.pop("QT_QPA_PLATFORM")  # Qt picks X11 itself, as on a desktop
    env.pop("WAYLAND_DISPLAY", None)
    done = run_ayon([], env)
    assert done.returncode == 0, done.stderr  # not 134: Qt never tried
    assert "Aborted" not in done.stderr and "qt.qpa" not in done.stderr, done.stderr
    assert "up to date: bundle demo_production" in done.stdout
    lines = [line for line in done.stdout.splitlines() if line.startswith("No tray:")]
    assert len(lines) == 1, done.stdout
    assert f"the display {dead} cannot be opened" in lines[0]
