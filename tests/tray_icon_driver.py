"""Run the real tray on an X display (Xvfb) and report, per state, the colour of its icon.

Run as ``python tray_icon_driver.py OUT.json DATA_DIR``: a subprocess, because a test process
already holds an offscreen QApplication. It starts its own local server, drives the tray
through starting (amber), connected (green), offline (grey, server stopped) and update
(blue, server back with a new production bundle), grabs the icon's pixels from the
screen in each and writes what it saw.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from qtpy import QtGui, QtWidgets


def hue_class(color: QtGui.QColor) -> str | None:
    """The colour family of one pixel: amber, green, blue, grey, or None (dark, background)."""
    hue, sat, val = color.hsvHueF(), color.hsvSaturationF(), color.valueF()
    if sat < 0.12 and 0.5 <= val <= 0.75:
        return "grey"
    if sat < 0.4 or val < 0.4:
        return None
    degrees = hue * 360
    if 20 <= degrees <= 60:
        return "amber"
    if 120 <= degrees <= 175:
        return "green"
    if 190 <= degrees <= 235:
        return "blue"
    return None


def pump(app: QtWidgets.QApplication, until, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(0.02)
    return False


def main(out: Path, data_dir: Path) -> None:
    import os

    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.gui.tray import TrayApp
    from ayon_launcher.localserver.testing import start_test_server
    from ayon_launcher.pipeline.commands.tray import _prepare

    app = QtWidgets.QApplication(["tray-icon-driver"])
    app.setQuitOnLastWindowClosed(False)
    # trayer takes a moment to claim the tray selection after it starts
    available = pump(app, QtWidgets.QSystemTrayIcon.isSystemTrayAvailable, 20)
    report: dict = {"tray_available": available, "colors": {}}
    with start_test_server(data_dir, demo=True) as server:
        os.environ["AYON_SERVER_URL"] = server.url
        os.environ["AYON_API_KEY"] = server.service_api_key
        gate = threading.Event()

        def prepare(ctx, progress, offline, cancel):
            gate.wait(60)  # held in "starting" until its icon is seen
            return _prepare(ctx, progress, offline, cancel)

        tray = TrayApp(LauncherContext(), prepare, restart=lambda: None)

        shown: list[str | None] = [None]

        def seen() -> dict[str, int]:
            if tray.fallback_window is None:
                rect = tray.tray_icon.geometry()
            else:
                label = tray._fallback_logo
                rect = label.rect().translated(label.mapToGlobal(label.rect().topLeft()))
            # The tray host repaints in its own time (trayer can take over a second on a
            # loaded machine): grab until the icon shows a colour other than the last
            # state's, or give up after 15 s and report what is there.
            deadline = time.monotonic() + 15
            while True:
                pump(app, lambda: False, 0.3)
                image = app.primaryScreen().grabWindow(0, rect.x(), rect.y(), rect.width(),
                                                       rect.height()).toImage()
                counts: dict[str, int] = {}
                for x in range(image.width()):
                    for y in range(image.height()):
                        family = hue_class(QtGui.QColor(image.pixel(x, y)))
                        if family:
                            counts[family] = counts.get(family, 0) + 1
                family, count = max(counts.items(), key=lambda item: item[1],
                                    default=(None, 0))
                if (count >= 8 and family != shown[0]) or time.monotonic() > deadline:
                    shown[0] = family
                    return counts

        tray.start()
        pump(app, lambda: tray.tray_icon.geometry().width() > 0
             or tray.fallback_window is not None, 20)
        report["icon_visible"] = tray.tray_icon.isVisible()
        report["fallback_window"] = tray.fallback_window is not None
        report["colors"]["starting"] = seen()
        gate.set()
        pump(app, lambda: tray.result is not None or tray.error_box is not None, 120)
        report["colors"][tray.state] = seen()
        # An add-on's menu item: a short output is a notification where there is a system
        # tray, a window where there is none.
        tray.addon_actions["Say hello"].trigger()
        pump(app, lambda: False, 0.3)
        outcome = tray.action_outcomes[-1]
        report["say_hello"] = {"ok": outcome.ok, "output": outcome.output,
                               "window": tray.action_window is not None
                               and tray.action_window.isVisible()}
        server.stop()
        tray.check_bundle()
        pump(app, lambda: tray.state == "offline", 60)
        report["colors"][tray.state] = seen()
        server.start()
        production = next(b for b in server.bundles() if b["name"] == "demo_production")
        server.create_bundle("demo_production_2", production["addons"],
                             production.get("dependencyPackages") or {}, is_production=True)
        tray.check_bundle()
        pump(app, lambda: tray.state == "update", 60)
        report["colors"][tray.state] = seen()
        tray.quit()
    out.write_text(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
