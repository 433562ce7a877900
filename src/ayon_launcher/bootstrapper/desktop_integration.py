"""``ayon init``: desktop integration of this launcher for the current user, and its undoing.

What it registers: the stable ``ayon`` entry point, the ``ayon-launcher://`` scheme, a desktop
entry with the AYON icon (given by the caller) and, when asked, autostart of the tray;
``--remove`` undoes it.

Linux follows the XDG specifications (``$XDG_DATA_HOME/applications``, ``xdg-mime``,
``$XDG_CONFIG_HOME/autostart``); Windows writes the per-user registry keys
(``HKCU\\Software\\Classes\\ayon-launcher``, ``...\\CurrentVersion\\Run``); macOS gets the
entry point and a LaunchAgent (its URL schemes belong to app bundles: see README).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ayon_launcher.bootstrapper.selfupdate import registry
from ayon_launcher.support.atomicfile import write_bytes_atomic
from ayon_launcher.support.errors import LauncherError

SCHEME = "ayon-launcher"
DESKTOP_ID = "ayon-launcher.desktop"
MIME = f"x-scheme-handler/{SCHEME}"


def _xdg(name: str, default: str) -> Path:
    value = os.environ.get(name)
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def entry_point_path() -> Path:
    """The stable entry point: starts the launcher version the registry names."""
    name = "ayon.cmd" if os.name == "nt" else "ayon"
    return registry.launcher_dir() / "bin" / name


def _entry_point_text() -> str:
    current = registry.current_path()
    if os.name == "nt":
        return ("@echo off\r\n"
                f'set /p AYON_PY=<"{current}"\r\n'
                f'if not exist "%AYON_PY%" set "AYON_PY={sys.executable}"\r\n'
                '"%AYON_PY%" -m ayon_launcher %*\r\n')
    return ("#!/bin/sh\n"
            "# AYON launcher: runs the version the launcher registry names (`ayon init`).\n"
            f"py=$(cat '{current}' 2>/dev/null)\n"
            f"[ -x \"$py\" ] || py='{sys.executable}'\n"
            'exec "$py" -m ayon_launcher "$@"\n')


def _write(path: Path, text: str, done: list[str], what: str, mode: int | None = None) -> None:
    data = text.encode("utf-8")
    try:
        same = path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        write_bytes_atomic(path, data)
        done.append(f"wrote {what}: {path}")
    if mode is not None and (path.stat().st_mode & 0o777) != mode:
        path.chmod(mode)


def _remove(path: Path, done: list[str], what: str) -> None:
    if path.exists():
        path.unlink()
        done.append(f"removed {what}: {path}")


def install(icon_svg: str, autostart: bool = False) -> list[str]:
    """Register everything for the current user, with ``icon_svg`` as the icon (the caller
    gives the AYON logo: the windows own it); the changes made (none when all was there)."""
    done: list[str] = []
    if registry.current() is None:
        registry.record_running(_own_version())
        registry.set_current(sys.executable)
    shim = entry_point_path()
    _write(shim, _entry_point_text(), done, "entry point", None if os.name == "nt" else 0o755)
    if sys.platform.startswith("linux"):
        _linux_install(shim, icon_svg, autostart, done)
    elif os.name == "nt":
        _windows_install(shim, icon_svg, autostart, done)
    elif sys.platform == "darwin":
        _macos_install(shim, autostart, done)
    return done


def remove() -> list[str]:
    """Undo ``install``; the changes made."""
    done: list[str] = []
    if sys.platform.startswith("linux"):
        _linux_remove(done)
    elif os.name == "nt":
        _windows_remove(done)
    elif sys.platform == "darwin":
        _macos_remove(done)
    shim = entry_point_path()
    _remove(shim, done, "entry point")
    return done


def _own_version() -> str:
    from ayon_launcher import __version__

    return __version__


# -- Linux (XDG) -------------------------------------------------------------------------------
def _linux_paths() -> dict[str, Path]:
    data = _xdg("XDG_DATA_HOME", ".local/share")
    config = _xdg("XDG_CONFIG_HOME", ".config")
    return {
        "desktop": data / "applications" / DESKTOP_ID,
        "icon": data / "icons" / "hicolor" / "scalable" / "apps" / "ayon-launcher.svg",
        "autostart": config / "autostart" / DESKTOP_ID,
        "mimeapps": config / "mimeapps.list",
    }


def _desktop_entry(shim: Path, icon: Path, command: str, name: str) -> str:
    return ("[Desktop Entry]\n"
            "Type=Application\n"
            f"Name={name}\n"
            "GenericName=AYON launcher\n"
            "Comment=Keeps the workstation in step with the studio's AYON server\n"
            f'TryExec={shim}\nExec="{shim}" {command}\n'
            f"Icon={icon}\n"
            "Terminal=false\n"
            + (f"MimeType={MIME};\n" if "%u" in command else "")
            + "Categories=Graphics;Utility;\nKeywords=AYON;\n")


def _linux_install(shim: Path, icon_svg: str, autostart: bool, done: list[str]) -> None:
    paths = _linux_paths()
    _write(paths["icon"], icon_svg, done, "icon")
    _write(paths["desktop"], _desktop_entry(shim, paths["icon"], "%u", "AYON"), done,
           "desktop entry")
    if autostart:
        _write(paths["autostart"], _desktop_entry(shim, paths["icon"], "tray", "AYON tray"),
               done, "autostart entry")
    else:
        _remove(paths["autostart"], done, "autostart entry")
    if _mime_default(paths["mimeapps"]) != DESKTOP_ID:
        _run(["xdg-mime", "default", DESKTOP_ID, MIME], "xdg-mime")
        done.append(f"made {DESKTOP_ID} the handler of {SCHEME}:// links (xdg-mime)")
    if shutil.which("update-desktop-database"):
        subprocess.run(["update-desktop-database", str(paths["desktop"].parent)],
                       capture_output=True)


def _mime_default(mimeapps: Path) -> str | None:
    """Our scheme's default handler in ``mimeapps.list`` (what ``xdg-mime default`` writes)."""
    try:
        lines = mimeapps.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    section = None
    for line in lines:
        if line.startswith("["):
            section = line.strip()
        elif section == "[Default Applications]" and line.startswith(MIME + "="):
            return line.split("=", 1)[1].split(";")[0].strip() or None
    return None


def _linux_remove(done: list[str]) -> None:
    paths = _linux_paths()
    for key, what in (("desktop", "desktop entry"), ("autostart", "autostart entry"),
                      ("icon", "icon")):
        _remove(paths[key], done, what)
    mimeapps = paths["mimeapps"]
    try:
        lines = mimeapps.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return
    kept = [line for line in lines
            if not (line.startswith(MIME + "=") and DESKTOP_ID in line)]
    if kept != lines:
        write_bytes_atomic(mimeapps, "".join(kept).encode("utf-8"))
        done.append(f"removed the {SCHEME}:// handler from {mimeapps}")


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise LauncherError(f"{what} is not installed (install xdg-utils), so the "
                            f"{SCHEME}:// scheme cannot be registered") from None
    if result.returncode != 0:
        raise LauncherError(f"{what} failed: {(result.stderr or result.stdout).strip()}")


# -- Windows (per-user registry; not testable on this platform's CI) --------------------------
_WIN_CLASSES = rf"Software\Classes\{SCHEME}"
_WIN_RUN = r"Software\Microsoft\Windows\CurrentVersion\Run"
_WIN_RUN_VALUE = "AYON launcher"


def _windows_install(shim: Path, icon_svg: str, autostart: bool,
                     done: list[str]) -> None:
    import winreg  # type: ignore[import-not-found]

    icon = registry.launcher_dir() / "ayon.svg"
    _write(icon, icon_svg, done, "icon")
    values = {
        _WIN_CLASSES: [("", "URL:AYON launcher"), ("URL Protocol", "")],
        _WIN_CLASSES + r"\DefaultIcon": [("", str(icon))],
        _WIN_CLASSES + r"\shell\open\command": [("", f'"{shim}" "%1"')],
    }
    for key_path, pairs in values.items():
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key_path, 0,
                                winreg.KEY_WRITE) as key:
            for name, value in pairs:
                winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)
    done.append(f"registered the {SCHEME}:// scheme in HKCU\\{_WIN_CLASSES}")
    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, _WIN_RUN, 0, winreg.KEY_WRITE) as key:
        if autostart:
            winreg.SetValueEx(key, _WIN_RUN_VALUE, 0, winreg.REG_SZ, f'"{shim}" tray')
            done.append("the tray starts at login")
        else:
            try:
                winreg.DeleteValue(key, _WIN_RUN_VALUE)
            except FileNotFoundError:
                pass


def _windows_remove(done: list[str]) -> None:
    import winreg  # type: ignore[import-not-found]

    for sub in (r"\shell\open\command", r"\shell\open", r"\shell", r"\DefaultIcon", ""):
        try:
            winreg.DeleteKey(winreg.HKEY_CURRENT_USER, _WIN_CLASSES + sub)
        except FileNotFoundError:
            continue
        if not sub:
            done.append(f"removed HKCU\\{_WIN_CLASSES}")
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _WIN_RUN, 0, winreg.KEY_WRITE) as key:
            winreg.DeleteValue(key, _WIN_RUN_VALUE)
            done.append("the tray no longer starts at login")
    except FileNotFoundError:
        pass
    _remove(registry.launcher_dir() / "ayon.svg", done, "icon")


# -- macOS -------------------------------------------------------------------------------------
def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / "io.ynput.ayon-launcher.plist"


def _macos_install(shim: Path, autostart: bool, done: list[str]) -> None:
    if autostart:
        _write(_launch_agent(), (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
            '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            '<plist version="1.0"><dict>\n'
            "<key>Label</key><string>io.ynput.ayon-launcher</string>\n"
            f"<key>ProgramArguments</key><array><string>{shim}</string>"
            "<string>tray</string></array>\n"
            "<key>RunAtLoad</key><true/>\n</dict></plist>\n"), done, "LaunchAgent")
    else:
        _remove(_launch_agent(), done, "LaunchAgent")
    done.append(f"macOS: {SCHEME}:// links need an app bundle declaring the scheme "
                "(see README, 'Desktop integration')")


def _macos_remove(done: list[str]) -> None:
    _remove(_launch_agent(), done, "LaunchAgent")
