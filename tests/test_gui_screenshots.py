"""Every launcher window in the AYON look, offscreen, with real data from the local server.

Each test opens a window as the launcher does, checks what the artist sees (the AYON dark
palette, the state colour in the logo's pixels, texts not clipped) and saves a screenshot in
``test-artifacts/``: login dialog (empty, wrong password, bad URL), progress window, tray
menu and icon states, context dialog, publish report, log window, about window, the
restart-needed and start-up failure boxes, and the windows that show a tray action's outcome.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import ayon_api
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qtpy import QtCore, QtGui, QtWidgets  # noqa: E402

from ayon_launcher.bootstrapper.connection.session import LoginPrompt
from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.gui import style  # noqa: E402
from ayon_launcher.gui.icons import logo_icon, logo_pixmap  # noqa: E402
from ayon_launcher.gui.login_dialog import LoginDialog  # noqa: E402
from ayon_launcher.gui.worker import wait_for  # noqa: E402
from ayon_launcher.support.errors import DistributionError
from test_tray import (  # noqa: E402,F401  (fixtures used by name)
    _OPEN,
    _cleanup_qt,
    launcher_dirs,
    make_tray,
    offer_new_production_bundle,
    started_tray,
    wait_ready,
)

WINDOW_COLOR = QtGui.QColor(style.WINDOW)


@pytest.fixture(scope="module")
def qapp():
    """The test application with the look ``run_tray`` gives the launcher's own application
    (``worker.application``); put back afterwards for the other test modules."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["tests"])
    app.setQuitOnLastWindowClosed(False)
    saved = (app.style().name(), QtGui.QPalette(app.palette()), app.styleSheet())
    style.apply_to_application(app)
    yield app
    app.setProperty("ayon_launcher_style", None)
    app.setStyleSheet(saved[2])
    app.setPalette(saved[1])
    if saved[0]:
        app.setStyle(saved[0])


# --------------------------------------------------------------------------- helpers
def settle(widget: QtWidgets.QWidget) -> None:
    widget.show()
    if widget.layout() is not None:
        widget.layout().activate()
    for _ in range(3):
        QtWidgets.QApplication.processEvents()


def screenshot(widget: QtWidgets.QWidget, artifacts_dir: Path, name: str) -> QtGui.QImage:
    """Save the widget as the artist sees it; the image, for pixel checks."""
    settle(widget)
    pixmap = widget.grab()
    assert not pixmap.isNull() and pixmap.width() > 50 and pixmap.height() > 20
    path = artifacts_dir / name
    assert pixmap.save(str(path)) and path.stat().st_size > 0
    return pixmap.toImage()


def assert_dark_window(widget: QtWidgets.QWidget, image: QtGui.QImage) -> None:
    """The window has the AYON palette and its background really is the AYON dark colour."""
    assert widget.palette().color(QtGui.QPalette.ColorRole.Window) == WINDOW_COLOR
    corner = QtGui.QColor(image.pixel(image.width() - 3, image.height() - 3))
    assert corner.name() == style.WINDOW, f"background {corner.name()}, not {style.WINDOW}"


def assert_not_clipped(window: QtWidgets.QWidget) -> None:
    """Every visible label and button has room for its text and lies inside the window."""
    rect = window.rect()
    children = [*window.findChildren(QtWidgets.QLabel),
                *window.findChildren(QtWidgets.QAbstractButton)]
    for child in children:
        if not child.isVisibleTo(window) or child.window() is not window:
            continue
        name = child.objectName() or getattr(child, "text", lambda: "")()[:40]
        hint = child.minimumSizeHint()
        assert child.width() >= hint.width() and child.height() >= hint.height(), \
            f"{name!r} is clipped: {child.size()} < {hint}"
        if isinstance(child, QtWidgets.QLabel) and child.wordWrap() and child.text():
            needed = child.heightForWidth(child.width())
            assert child.height() >= needed, f"{name!r} needs {needed} px, has {child.height()}"
        top_left = child.mapTo(window, QtCore.QPoint(0, 0))
        assert rect.contains(QtCore.QRect(top_left, child.size())), f"{name!r} leaves the window"


def has_color(image: QtGui.QImage, color: str, tolerance: int = 24) -> bool:
    """Whether some pixel of ``image`` is ``color`` (anti-aliased text: within a tolerance)."""
    target = QtGui.QColor(color)
    for y in range(0, image.height()):
        for x in range(0, image.width()):
            pixel = QtGui.QColor(image.pixel(x, y))
            if (abs(pixel.red() - target.red()) + abs(pixel.green() - target.green())
                    + abs(pixel.blue() - target.blue())) <= tolerance:
                return True
    return False


def dominant_color(pixmap: QtGui.QPixmap) -> str:
    """The commonest opaque colour of an icon."""
    image = pixmap.toImage().convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    counts: dict[int, int] = {}
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixel(x, y)
            if (pixel >> 24) == 0xFF:
                counts[pixel & 0xFFFFFF] = counts.get(pixel & 0xFFFFFF, 0) + 1
    best = max(counts, key=counts.get)
    return f"#{best:06x}"


def color_family(color: str) -> str:
    """What a person would call ``color``: grey, red, amber, green or blue."""
    qcolor = QtGui.QColor(color)
    hue, saturation = qcolor.hslHue(), qcolor.hslSaturation()
    if saturation < 40:
        return "grey"
    for name, low, high in (("red", 0, 15), ("amber", 25, 50), ("green", 130, 175),
                            ("blue", 185, 225), ("red", 345, 360)):
        if low <= hue <= high:
            return name
    return f"hue {hue}"


# The colours the issue asks for, by state.
FAMILIES = {"connected": "green", "starting": "amber", "offline": "grey", "update": "blue",
            "error": "red"}


def icon_family(pixmap: QtGui.QPixmap) -> str:
    return color_family(dominant_color(pixmap))


# --------------------------------------------------------------------------- the look itself
def test_the_launcher_application_has_the_ayon_look_and_a_host_keeps_its_own():
    """``application()`` styles the application the launcher creates; a launcher window in
    a host's application (ayon-core asking for a login) brings the look for itself only."""
    script = textwrap.dedent("""
        import json, sys
        from qtpy import QtGui, QtWidgets
        from ayon_launcher.gui import style
        from ayon_launcher.gui.worker import application
        Window = QtGui.QPalette.ColorRole.Window
        if sys.argv[1] == "launcher":
            app = application()
            out = {"window": app.palette().color(Window).name(),
                   "sheet": app.styleSheet() == style.STYLESHEET}
            application()  # a second call: the same application, styled once
            out["same"] = QtWidgets.QApplication.instance() is app
        else:
            app = QtWidgets.QApplication(["host"])
            app.setStyleSheet("QWidget { background: #ff0000; }")
            from ayon_launcher.gui.login_dialog import LoginDialog
            dialog = LoginDialog()
            host = QtWidgets.QWidget()
            out = {"dialog": dialog.palette().color(Window).name(),
                   "dialog_sheet": dialog.styleSheet() == style.STYLESHEET,
                   "host_sheet": app.styleSheet(), "host": host.styleSheet()}
        print(json.dumps(out))
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    launcher = json.loads(subprocess.run([sys.executable, "-c", script, "launcher"], env=env,
                                         capture_output=True, text=True, check=True).stdout)
    assert launcher == {"window": style.WINDOW, "sheet": True, "same": True}
    host = json.loads(subprocess.run([sys.executable, "-c", script, "host"], env=env,
                                     capture_output=True, text=True, check=True).stdout)
    assert host == {"dialog": style.WINDOW, "dialog_sheet": True,
                    "host_sheet": "QWidget { background: #ff0000; }", "host": ""}


def test_the_logo_has_the_colour_of_each_state(qapp, artifacts_dir):
    assert style.STATE_COLORS["connected"] == style.SUCCESS  # AYON green
    states = list(FAMILIES)
    strip = QtGui.QPixmap(len(states) * 72, 72)
    strip.fill(WINDOW_COLOR)
    painter = QtGui.QPainter(strip)
    for i, state in enumerate(states):
        painter.drawPixmap(i * 72 + 4, 4, logo_pixmap(state, 64))
    painter.end()  # before any assert: an active painter left to the collector crashes
    for state in states:
        for size in (16, 22, 64):  # the tray's sizes and a window's
            pixmap = logo_icon(state).pixmap(size, size)
            assert dominant_color(pixmap) == style.STATE_COLORS[state], (state, size)
            assert icon_family(pixmap) == FAMILIES[state], (state, size)
    assert strip.save(str(artifacts_dir / "tray_icon_states.png"))
    # The desktop entry's icon (``ayon init``, tests/test_init.py) is the same logo.
    icon_svg = style.logo_svg("connected")
    renderer = QtGui.QImage.fromData(icon_svg.encode(), "SVG")
    if not renderer.isNull():  # Qt's SVG plug-in is optional
        assert dominant_color(QtGui.QPixmap.fromImage(renderer)) == style.SUCCESS
    assert f'fill="{style.SUCCESS}"' in icon_svg


# --------------------------------------------------------------------------- login dialog
@pytest.mark.usefixtures("launcher_dirs")
def test_login_dialog_empty_wrong_password_and_bad_url(qapp, local_server,
                                                       artifacts_dir):
    dialog = LoginDialog(LoginPrompt())
    _OPEN.append(dialog)
    image = screenshot(dialog, artifacts_dir, "login_dialog_empty.png")
    assert_dark_window(dialog, image)
    assert_not_clipped(dialog)
    assert dialog.error_text() == "" and not dialog.login_button.isEnabled()

    dialog.url_edit.setText(local_server.url)
    dialog.check_url()
    dialog.user_edit.setText("admin")
    dialog.password_edit.setText("not-the-password")
    results: list[str] = []
    dialog.attempt_finished.connect(results.append)
    dialog.login_button.click()
    assert wait_for(lambda: results, 30000)
    assert results == ["Wrong user name or password."]
    image = screenshot(dialog, artifacts_dir, "login_dialog_wrong_password.png")
    assert_dark_window(dialog, image)
    assert_not_clipped(dialog)
    label = dialog.error_label
    assert has_color(label.grab().toImage(), style.ERROR), "the error is not in the error colour"

    dialog.url_edit.setText("https://ayon.example.com:port")
    dialog.check_url()
    image = screenshot(dialog, artifacts_dir, "login_dialog_url_error.png")
    assert "port must be a number" in dialog.url_error.text()
    assert_not_clipped(dialog)
    assert has_color(dialog.url_error.grab().toImage(), style.ERROR)


@pytest.mark.usefixtures("launcher_dirs")
def test_login_dialog_waiting_for_the_browser(qapp, local_server, artifacts_dir, tmp_path,
                                              monkeypatch):
    """The busy buttons keep their whole text (the dialog is wide enough from the start)."""
    import webbrowser

    hand_over = tmp_path / "url.txt"
    script = Path(__file__).parent / "browser_hand_over.py"
    monkeypatch.setenv("BROWSER", f"{sys.executable} {script} %s")
    monkeypatch.setenv("BROWSER_HAND_OVER_FILE", str(hand_over))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read BROWSER afresh
    dialog = LoginDialog(LoginPrompt(local_server.url, "admin", None, False))
    _OPEN.append(dialog)
    settle(dialog)
    width = dialog.width()
    results: list[str] = []
    dialog.attempt_finished.connect(results.append)
    dialog.browser_button.click()
    assert wait_for(hand_over.exists, 30000)
    assert dialog.login_button.text() == "Waiting for the browser..."
    image = screenshot(dialog, artifacts_dir, "login_dialog_browser_wait.png")
    assert_dark_window(dialog, image)
    assert_not_clipped(dialog)
    assert dialog.width() == width  # nothing moved
    dialog.reject()  # Cancel: stop waiting
    assert wait_for(lambda: results == ["cancelled"], 10000)


# --------------------------------------------------------------------------- the tray
@pytest.mark.usefixtures("launcher_dirs")
def test_tray_windows_connected(qapp, local_server, artifacts_dir, monkeypatch):
    """Progress, menu, log and about of a tray started against the local server."""
    tray, _ = started_tray(local_server, monkeypatch)
    assert icon_family(tray.tray_icon.icon().pixmap(22, 22)) == "green"

    # Offscreen there is no system tray: the menu is in a small window, with the logo.
    fallback = tray.fallback_window
    assert fallback is not None
    image = screenshot(fallback, artifacts_dir, "tray_window_no_system_tray.png")
    assert_dark_window(fallback, image)
    assert_not_clipped(fallback)
    assert has_color(image, style.STATE_COLORS["connected"], tolerance=0)
    assert fallback.findChild(QtWidgets.QLabel, "state").text() == "Connected"

    # The progress window as the bootstrap left it (real items, real sizes).
    progress = tray.progress_window
    progress.set_status("Connected: bundle demo_production")
    image = screenshot(progress, artifacts_dir, "progress_window.png")
    assert_dark_window(progress, image)
    assert_not_clipped(progress)
    states = progress.item_states()
    assert any("demo_tools" in item for item in states)
    assert set(states.values()) <= {"Installed", "Up to date"}
    assert progress.overall.value() == progress.overall.maximum() > 0
    progress.hide()

    tray.menu.popup(QtCore.QPoint(10, 10))
    assert wait_for(tray.menu.isVisible, 5000)
    image = screenshot(tray.menu, artifacts_dir, "tray_menu_connected.png")
    # The menu is dark: its background (inside the border) is the AYON input colour.
    assert QtGui.QColor(image.pixel(image.width() - 4, image.height() - 3)).name() == style.BASE
    assert "Say hello" in tray.menu_texts()
    tray.menu.hide()

    log_window = tray.show_log()
    image = screenshot(log_window, artifacts_dir, "log_window.png")
    assert_dark_window(log_window, image)
    assert "tray ready" in log_window.view.toPlainText()
    assert log_window.view.palette().color(QtGui.QPalette.ColorRole.Base).name() == style.BASE

    about = tray.show_about()
    image = screenshot(about, artifacts_dir, "about.png")
    assert_dark_window(about, image)
    assert_not_clipped(about)
    assert ("Server", local_server.url) in about.rows
    assert has_color(image, style.SUCCESS, tolerance=0), "no green logo in the about window"


@pytest.mark.usefixtures("launcher_dirs")
def test_tray_restart_needed_box_and_menu(qapp, fresh_server, artifacts_dir,
                                          monkeypatch):
    tray, _ = started_tray(fresh_server, monkeypatch)
    offer_new_production_bundle(tray, fresh_server)
    assert tray.state == "update"
    assert icon_family(tray.tray_icon.icon().pixmap(22, 22)) == "blue"
    box = tray.restart_box
    image = screenshot(box, artifacts_dir, "restart_needed_box.png")
    assert_dark_window(box, image)
    assert_not_clipped(box)
    assert "demo_production_2" in box.text()

    tray.menu.popup(QtCore.QPoint(10, 10))
    assert wait_for(tray.menu.isVisible, 5000)
    screenshot(tray.menu, artifacts_dir, "tray_menu_update.png")
    assert "Restart to apply bundle demo_production_2" in tray.menu_texts()
    apply_action = tray.apply_bundle_action  # stands out: bold, with the blue logo
    assert apply_action.font().bold() and icon_family(apply_action.icon().pixmap(16, 16)) == "blue"
    tray.menu.hide()


@pytest.mark.usefixtures("launcher_dirs")
def test_tray_start_up_failure_box(qapp, local_server, artifacts_dir,
                                   monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    monkeypatch.setenv("AYON_API_KEY", local_server.service_api_key)

    def failing_prepare(ctx, progress, offline, cancel):
        raise DistributionError("demo_tools 1.0.0: every source failed (connection refused)")

    tray, _ = make_tray(LauncherContext(), prepare=failing_prepare)
    tray.start()
    assert icon_family(tray.tray_icon.icon().pixmap(22, 22)) == "amber"  # starting
    assert wait_for(lambda: tray.error_box is not None, 30000)
    assert tray.state == "error"
    assert icon_family(tray.tray_icon.icon().pixmap(22, 22)) == "red"
    box = tray.error_box
    image = screenshot(box, artifacts_dir, "startup_failure_box.png")
    assert_dark_window(box, image)
    assert_not_clipped(box)
    assert "every source failed (connection refused)" in box.text()


# --------------------------------------------------------------------------- tray actions
TRAY_TOOLS = """
    import sys

    from ayon_launcher.pipeline.addons import AYONAddon, TrayAction


    class TrayToolsAddon(AYONAddon):
        name = "tray_tools"
        version = "1.0.0"

        def tray_actions(self):
            return [TrayAction("Check licenses", self.check),
                    TrayAction("Sync caches", self.sync),
                    TrayAction("Leave early", lambda: sys.exit(3))]

        def check(self):
            print("nuke: 3 of 10 licenses free")
            print("houdini: 1 of 4 licenses free")
            return "all license servers answered"

        def sync(self):
            print("syncing /mnt/cache ...")
            raise RuntimeError("the cache folder /mnt/cache is not mounted")
"""


def tray_tools_package(tmp_path: Path) -> Path:
    """A real add-on package (as a studio would upload it) with three tray actions."""
    client = io.BytesIO()
    with zipfile.ZipFile(client, "w") as zf:
        zf.writestr("tray_tools_client/__init__.py", textwrap.dedent(TRAY_TOOLS))
    path = tmp_path / "tray_tools-1.0.0.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("package.py", 'name = "tray_tools"\nversion = "1.0.0"\n')
        zf.writestr("private/client.zip", client.getvalue())
    return path


def trigger(tray, label: str) -> None:
    """Click the menu entry as the artist would."""
    before = len(tray.action_outcomes)
    tray.addon_actions[label].trigger()
    assert wait_for(lambda: len(tray.action_outcomes) > before, 10000)


@pytest.mark.usefixtures("launcher_dirs")
def test_tray_actions_show_their_outcome(qapp, fresh_server, artifacts_dir,
                                         tmp_path, monkeypatch, capfd):
    fresh_server.add_addon_zip(tray_tools_package(tmp_path))
    fresh_server.create_bundle("tools", {"demo_tools": "1.0.0", "tray_tools": "1.0.0"})
    monkeypatch.setenv("AYON_SERVER_URL", fresh_server.url)
    monkeypatch.setenv("AYON_API_KEY", fresh_server.service_api_key)
    tray, _ = make_tray(LauncherContext(bundle_name="tools"))
    tray.start()
    wait_ready(tray)
    assert {"Say hello", "Check licenses", "Sync caches", "Leave early"} <= set(
        tray.menu_texts())

    # The demo add-on prints its greeting: the artist sees it (no system tray offscreen, so
    # no notification: a window), and the terminal still gets it.
    trigger(tray, "Say hello")
    window = tray.action_window
    assert window is not None and window.isVisible()
    assert window.output_view.toPlainText() == "Hello from demo_tools! (demo_tools 1.0.0)"
    assert "Say hello: done." in window.headline.text()
    assert "Hello from demo_tools!" in capfd.readouterr().out
    image = screenshot(window, artifacts_dir, "tray_action_hello.png")
    assert_dark_window(window, image)
    assert_not_clipped(window)

    # What an action prints and returns, in that order.
    trigger(tray, "Check licenses")
    window = tray.action_window
    assert window.outcome.ok and window.details_view is None
    assert window.output_view.toPlainText() == (
        "nuke: 3 of 10 licenses free\nhoudini: 1 of 4 licenses free\n"
        "all license servers answered")
    image = screenshot(window, artifacts_dir, "tray_action_success.png")
    assert has_color(image, style.SUCCESS, tolerance=0)  # the green logo and headline
    assert not has_color(image, style.ERROR, tolerance=0)

    # A failure: the reason in words, what it printed before, the traceback under details.
    trigger(tray, "Sync caches")
    window = tray.action_window
    assert not window.outcome.ok
    assert ("Sync caches did not work: the cache folder /mnt/cache is not mounted"
            in window.headline.text())
    assert "RuntimeError" not in window.headline.text()
    assert window.output_view.toPlainText() == "syncing /mnt/cache ..."
    assert not window.details_view.isVisible()
    toggle = next(b for b in window.findChildren(QtWidgets.QPushButton)
                  if b.text() == "Show details")
    toggle.click()
    assert window.details_view.isVisible()
    assert "RuntimeError: the cache folder" in window.details_view.toPlainText()
    image = screenshot(window, artifacts_dir, "tray_action_failure.png")
    assert_dark_window(window, image)
    assert_not_clipped(window)
    assert has_color(image, style.ERROR, tolerance=0)  # the red logo and headline
    assert tray.action_errors == [
        "tray_tools: Sync caches failed: the cache folder /mnt/cache is not mounted"]

    # sys.exit in an action ends the action, not the tray.
    trigger(tray, "Leave early")
    assert "the add-on stopped it (exit code 3)" in tray.action_window.headline.text()
    assert tray.state == "connected" and tray.result is not None
    assert "Sync caches failed" in tray.log_buffer.text()


# --------------------------------------------------------------------------- context, publish
def test_context_dialog(qapp, local_server, artifacts_dir):
    from ayon_launcher.gui.context_dialog import ContextDialog
    from ayon_launcher.pipeline.environment.entities import ServerContextSource

    source = ServerContextSource(ayon_api.ServerAPI(local_server.url,
                                                    token=local_server.service_api_key))
    dialog = ContextDialog(source, project="demo_Commercial")
    try:
        dialog.show()
        assert dialog.wait_idle(), "data did not load"
        assert dialog.select_folder("/assets/props/chair")
        assert dialog.wait_idle()
        assert dialog.select_task("modeling")
        image = screenshot(dialog, artifacts_dir, "context_dialog.png")
        assert_dark_window(dialog, image)
        assert_not_clipped(dialog)
        assert dialog.selected_context()["task"] == "modeling"
        view = dialog.folder_view
        assert view.palette().color(QtGui.QPalette.ColorRole.Base).name() == style.BASE
    finally:
        dialog.close()
        dialog.wait_idle()
        dialog.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def test_publish_report(qapp, local_server, tmp_path, artifacts_dir, monkeypatch):
    from ayon_launcher.gui.publish_report import PublishWindow
    from ayon_launcher.localserver.seed import DEMO_ADDONS_DIR
    from ayon_launcher.pipeline.publish.engine import effective_targets, run_publish
    from ayon_launcher.pipeline.publish.metadata import load_metadata

    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    plugins = DEMO_ADDONS_DIR / "demo_tools/client/ayon_demo_tools/plugins/publish"
    api = ayon_api.ServerAPI(local_server.url, token=local_server.service_api_key)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "chair.abc").write_text("chair")
    job_path = tmp_path / "job.json"
    job_path.write_text(json.dumps({
        "project": "demo_Commercial", "folder": "/assets/props/chair", "task": "modeling",
        "instances": [{"productName": "modelLook", "productType": "model",
                       "files": ["out/chair.abc"]}]}))
    job = load_metadata(job_path)
    window = PublishWindow(job, effective_targets(["farm"]))
    try:
        window.show()
        window.start(lambda on_result: run_publish(job, api, [plugins], ["farm"],
                                                   on_result=on_result))
        assert wait_for(lambda: window.done_publishing, 60000)
        assert window.report.success
        image = screenshot(window, artifacts_dir, "publish_report.png")
        assert_dark_window(window, image)
        assert_not_clipped(window)
        assert window.status.text().startswith("Published: modelLook v")
        assert has_color(window.status.grab().toImage(), style.SUCCESS)
    finally:
        window.close()
        window.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
