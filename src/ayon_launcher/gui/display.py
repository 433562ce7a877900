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


# The system libraries Qt 6.5+'s X11 (xcb) platform plugin loads (``ldd`` of PySide6's
# ``platforms/libqxcb.so``) that a stock desktop may lack, each with its Debian/Ubuntu package.
# Without one, Qt aborts the whole process (exit 134, a core dump) when it creates the
# application: checked before, so the user reads a one-line fix instead.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def will_use_xcb() -> bool:
    """True when Qt will pick its X11 platform: Linux with DISPLAY set and QT_QPA_PLATFORM
    unset or ``xcb`` (Wayland sessions choose xcb too unless QT_QPA_PLATFORM says wayland)."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return False
    return _qt_platform() in ("", "xcb")


def missing_libraries(sonames: dict[str, str] | None = None) -> list[str]:
    """The sonames of ``sonames`` (default: :data:`XCB_LIBRARIES`) that cannot be loaded."""
    import ctypes

    missing = []
    for soname in (XCB_LIBRARIES if sonames is None else sonames):
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(soname)
    return missing


def x_display_opens() -> bool:
    """Whether the X display ``DISPLAY`` names lets this process in (libxcb's own connect, as
    Qt's X11 platform does it); True when libxcb itself cannot be loaded (not this check's
    to say)."""
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = (ctypes.c_char_p, ctypes.c_void_p)
    xcb.xcb_connection_has_error.argtypes = (ctypes.c_void_p,)
    xcb.xcb_disconnect.argtypes = (ctypes.c_void_p,)
    connection = xcb.xcb_connect(None, None)  # None: the display DISPLAY names
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)  # also safe for libxcb's failed-connection object


def xcb_problem() -> str | None:
    """Why Qt's X11 platform would abort here (missing system libraries, with the packages to
    install, or a display that cannot be opened); None when it will not be used or can start."""
    if not will_use_xcb():
        return None
    missing = missing_libraries()
    if missing:
        packages = " ".join(dict.fromkeys(XCB_LIBRARIES[name] for name in missing))
        return (f"Qt cannot open windows on X11: missing system libraries "
                f"{', '.join(missing)} (install them: sudo apt install {packages})")
    # A DISPLAY left from another session (ssh, a desktop that ended) aborts Qt the same way.
    if not x_display_opens():
        return (f"Qt cannot open windows on X11: the display {os.environ['DISPLAY']} cannot be "
                "opened (no desktop session answers there, or it does not let this user in)")
    return None


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
    xcb = xcb_problem()
    if xcb:
        return f"{what} cannot start: {xcb}{tail}"
    return None
