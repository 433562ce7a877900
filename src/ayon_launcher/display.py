"""Whether a window can be shown here, without importing Qt."""

from __future__ import annotations

import os
import sys

# Test-only hooks, each driving one window offscreen in the subprocess tests (the window's
# module says how). Named here, without Qt, for the commands that check them before Qt loads.
TRAY_TEST_HOOK_ENV = "AYON_LAUNCHER_TEST_TRAY"
LOGIN_DIALOG_TEST_HOOK_ENV = "AYON_LAUNCHER_TEST_LOGIN_DIALOG"
CONTEXT_DIALOG_TEST_HOOK_ENV = "AYON_LAUNCHER_TEST_CONTEXT_DIALOG"

# Qt platform plugins that need no display server.
_NO_SERVER_PLATFORMS = {"offscreen", "minimal", "vnc", "eglfs", "linuxfb"}


def _qt_platform() -> str:
    """The Qt platform plugin asked for (``QT_QPA_PLATFORM`` without its options)."""
    return os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]


def has_display() -> bool:
    """True when Qt can open windows: any non-Linux desktop, X11/Wayland, or a serverless
    Qt platform plugin (``QT_QPA_PLATFORM=offscreen`` in tests)."""
    if not sys.platform.startswith("linux") or _qt_platform() in _NO_SERVER_PLATFORMS:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def seen_by_a_person() -> bool:
    """False for Qt platforms that draw into memory only (offscreen, minimal): a dialog shown
    there would wait for an answer nobody can give (farms often set QT_QPA_PLATFORM)."""
    return _qt_platform() not in ("offscreen", "minimal")


def display_problem(headless: bool, what: str, alternative: str = "",
                    test_hook_env: str | None = None) -> str | None:
    """Why ``what`` (a command showing windows) cannot run here; None when it can.

    A window nobody would see (offscreen Qt) counts as impossible too, unless the window's
    test hook (the variable ``test_hook_env``) is set to drive it.
    """
    tail = f"; {alternative}" if alternative else ""
    if headless:
        return f"{what} shows a window and cannot run in headless mode{tail}"
    if not has_display():
        return f"{what} needs a display (DISPLAY/WAYLAND_DISPLAY is not set){tail}"
    if not seen_by_a_person() and not (test_hook_env and os.environ.get(test_hook_env)):
        return f"{what} would not be visible (QT_QPA_PLATFORM={_qt_platform()}){tail}"
    return None
