"""The tray and the login dialog, offscreen with real widgets against the real local server.

Screenshots of the login dialog and of the tray menu go to ``test-artifacts/``.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import stat
import sys
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qtpy import QtCore, QtGui, QtWidgets  # noqa: E402

from ayon_launcher.bootstrapper.connection.session import LoginPrompt  # noqa: E402
from ayon_launcher.bootstrapper.context import LauncherContext  # noqa: E402
from ayon_launcher.bootstrapper.distribution.sync import SyncCancelled  # noqa: E402
from ayon_launcher.gui import style  # noqa: E402
from ayon_launcher.gui.display import TRAY_TEST_HOOK_ENV  # noqa: E402
from ayon_launcher.gui.login_dialog import LoginDialog  # noqa: E402
from ayon_launcher.gui.tray import TrayApp  # noqa: E402
from ayon_launcher.gui.worker import wait_for  # noqa: E402
from ayon_launcher.pipeline.commands.tray import _prepare  # noqa: E402
from ayon_launcher.support.errors import DistributionError  # noqa: E402
from conftest import dead_url, isolated_env, run_ayon, start_tray_logging_in  # noqa: E402

ADDON_MODULES = ("ayon_demo_tools", "ayon_applications_demo")


@pytest.fixture(scope="module")
def qapp():
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["tests"])
    app.setQuitOnLastWindowClosed(False)
    return app


@pytest.fixture
def launcher_dirs(tmp_path, monkeypatch):
    """Own store, config and credentials file; no keyring; nothing left in os.environ."""
    from ayon_launcher.bootstrapper.connection import credentials

    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    for key in list(os.environ):
        if key.startswith(("AYON_", "OPENPYPE_", "USE_AYON")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("AYON_LAUNCHER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("AYON_TRAY_BUNDLE_CHECK_SECONDS", "0")
    monkeypatch.setattr(credentials, "_STORE", None)
    from ayon_launcher.support.log import close_log_file

    close_log_file()  # no log file an earlier in-process test opened elsewhere
    logger = logging.getLogger("ayon_launcher")
    level = logger.level
    logger.setLevel(logging.DEBUG)  # as `--verbose debug` would: the log window shows it all
    yield tmp_path
    logger.setLevel(level)
    os.environ.clear()
    os.environ.update(saved_env)
    sys.path[:] = saved_path
    for name in list(sys.modules):
        if name.split(".")[0] in ADDON_MODULES:
            del sys.modules[name]


_OPEN: list[QtCore.QObject] = []


@pytest.fixture(autouse=True)
def _cleanup_qt():
    yield
    while _OPEN:
        obj = _OPEN.pop()
        if isinstance(obj, TrayApp):
            obj.quit()
        else:
            obj.close()
            obj.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    gc.collect()


class Restarts:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def make_tray(ctx: LauncherContext, prepare=_prepare, **kwargs) -> tuple[TrayApp, Restarts]:
    restarts = Restarts()
    tray = TrayApp(ctx, prepare, restart=restarts, **kwargs)
    _OPEN.append(tray)
    return tray, restarts


def wait_ready(tray: TrayApp, timeout_ms: int = 120000) -> None:
    assert wait_for(lambda: tray.result is not None or tray.error_box is not None,
                    timeout_ms), "the tray did not start"
    if tray.error_box is not None:
        pytest.fail(f"start-up failed: {tray.error_box.text()}\n{tray.error_box.detailedText()}")


def offer_new_production_bundle(tray: TrayApp, server, name: str = "demo_production_2") -> None:
    """A new production bundle like the demo one on ``server``; the tray's next check offers
    to restart into it."""
    production = next(b for b in server.bundles() if b["name"] == "demo_production")
    server.create_bundle(name, production["addons"], production.get("dependencyPackages") or {},
                         is_production=True)
    offered: list[str] = []
    tray.restart_offered.connect(offered.append)
    tray.check_bundle()
    assert wait_for(lambda: offered == [name])


def started_tray(server, monkeypatch) -> tuple[TrayApp, Restarts]:
    """A tray started as the service user of ``server`` (no login dialog), once ready."""
    monkeypatch.setenv("AYON_SERVER_URL", server.url)
    monkeypatch.setenv("AYON_API_KEY", server.service_api_key)
    tray, restarts = make_tray(LauncherContext())
    tray.start()
    wait_ready(tray)
    return tray, restarts


def login_with(tray: TrayApp, username: str, password: str, seen: list) -> None:
    """Answer the login dialog the tray opens like a user would."""

    def fill(dialog: LoginDialog) -> None:
        seen.append(dialog.url_edit.text())  # the URL the dialog came up with
        dialog.user_edit.setText(username)
        dialog.password_edit.setText(password)
        dialog.login_button.click()

    tray.asker.dialog_opened.connect(fill)


def save_grab(widget: QtWidgets.QWidget, path) -> None:
    pixmap = widget.grab()
    assert not pixmap.isNull() and pixmap.width() > 50 and pixmap.height() > 50
    assert pixmap.save(str(path))


# --------------------------------------------------------------------------- login dialog
def test_login_dialog_validates_url_and_shows_errors_inline(qapp, local_server, launcher_dirs,
                                                            artifacts_dir):
    dialog = LoginDialog(LoginPrompt(None, "admin", None, False))
    _OPEN.append(dialog)
    dialog.show()
    results: list[str] = []
    dialog.attempt_finished.connect(results.append)

    dialog.url_edit.setText("ftp://ayon.example")
    dialog.password_edit.setText("whatever")
    assert dialog.error_text() == ""  # not while typing: checked when the field is left
    dialog.check_url()
    assert "http://" in dialog.error_text()
    dialog.try_login()  # nothing is sent
    assert results and "http://" in results[-1] and dialog.session is None

    dialog.url_edit.setText("http://[::1")  # malformed: explained inline, no exception
    dialog.check_url()
    assert "IPv6 address in [brackets]" in dialog.error_text()

    dialog.url_edit.setText(local_server.url + "/")
    dialog.check_url()
    assert dialog.error_text() == "" and dialog.login_button.isEnabled()
    dialog.password_edit.setText("not-the-password")
    dialog.login_button.click()
    assert wait_for(lambda: len(results) == 2)
    assert results[-1] == "Wrong user name or password."
    assert dialog.error_text() == "Wrong user name or password."
    assert dialog.password_edit.text() == "" and dialog.isVisible()
    save_grab(dialog, artifacts_dir / "login_dialog_error.png")

    dialog.url_edit.setText(dead_url())
    dialog.password_edit.setText("admin")
    dialog.login_button.click()
    assert wait_for(lambda: len(results) == 3)
    assert "cannot be reached" in results[-1]

    dialog.url_edit.setText(local_server.url)
    dialog.password_edit.setText(local_server.admin_password)
    save_grab(dialog, artifacts_dir / "login_dialog.png")
    dialog.login_button.click()
    assert wait_for(lambda: len(results) == 4)
    assert results[-1] == ""
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    session = dialog.session
    assert session.server_url == local_server.url and session.username == "admin"
    assert session.token and not session.is_service


def test_login_dialog_keeps_a_url_set_by_the_environment(qapp):
    dialog = LoginDialog(LoginPrompt("https://ayon.example", "ann", "Your login has expired.",
                                     True))
    _OPEN.append(dialog)
    assert dialog.url_edit.isReadOnly()
    assert dialog.user_edit.text() == "ann"
    assert "expired" in dialog.message_label.text()
    assert dialog.password_edit.echoMode() == QtWidgets.QLineEdit.EchoMode.Password


# --------------------------------------------------------------------------- tray
def test_first_start_logs_in_and_builds_the_menu_of_the_addons(qapp, local_server,
                                                                launcher_dirs, artifacts_dir,
                                                                monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    tray, restarts = make_tray(LauncherContext())
    dialogs: list = []
    login_with(tray, "admin", local_server.admin_password, dialogs)
    states: list[str] = []
    tray.state_changed.connect(states.append)
    tray.start()
    assert tray.state == "starting"
    wait_ready(tray)

    assert len(dialogs) == 1  # first run: the login dialog came up once
    assert tray.state == "connected" and states[-1] == "connected"
    texts = tray.menu_texts()
    assert texts[0] == f"admin @ {local_server.url}"
    assert texts[1] == "Bundle: demo_production"
    for entry in ("Say hello", "Show log", "About AYON...", "Log in as other user...",
                  "Logout", "Restart", "Exit"):
        assert entry in texts
    assert texts.index("Say hello") < texts.index("Restart") < texts.index("Exit")
    assert "Restart to apply the new bundle" not in texts  # hidden until a bundle changes

    # The bootstrap reported per-item progress to the window.
    states_shown = tray.progress_window.item_states()
    assert any("demo_tools" in item for item in states_shown)
    assert set(states_shown.values()) <= {"Installed", "Up to date"}
    assert not tray.progress_window.isVisible()

    # The token is remembered in the private file (no keyring here), never in the log.
    stored = launcher_dirs / "config" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    token = os.environ["AYON_API_KEY"]
    assert token in stored.read_text()
    log_text = tray.log_buffer.text()
    assert "tray ready" in log_text and token not in log_text

    # An add-on's tray action runs.
    addon = next(a for a in tray.result.addons if a.name == "demo_tools")
    tray.addon_actions["Say hello"].trigger()
    assert addon.greet_count == 1 and not tray.action_errors

    # Screenshot of the menu as it pops up.
    tray.menu.popup(QtCore.QPoint(10, 10))
    assert wait_for(tray.menu.isVisible, 5000)
    save_grab(tray.menu, artifacts_dir / "tray_menu.png")
    tray.menu.hide()

    about = tray.show_about()
    assert ("Add-on demo_tools", addon.version) in about.rows
    log_window = tray.show_log()
    assert "tray ready" in log_window.view.toPlainText()

    # Second start: the stored token is reused, no dialog.
    tray.quit()
    again, _ = make_tray(LauncherContext())
    more_dialogs: list = []
    login_with(again, "admin", local_server.admin_password, more_dialogs)
    again.start()
    wait_ready(again)
    assert more_dialogs == [] and again.state == "connected"
    assert restarts.count == 0


def test_an_addon_action_that_fails_is_reported_not_raised(qapp, local_server, launcher_dirs,
                                                           monkeypatch):
    from ayon_launcher.pipeline.addons import TrayAction

    tray, _ = started_tray(local_server, monkeypatch)
    addon = tray.result.addons[0]

    def broken() -> None:
        raise RuntimeError("boom")

    tray.run_addon_action(addon, TrayAction("Broken", broken))
    assert tray.action_errors and "boom" in tray.action_errors[0]
    # The service user of AYON_API_KEY has no session to log out of, and a restart keeps
    # the key: a login as another user would be stored but never used.
    assert not tray.logout_action.isEnabled()
    assert not tray.other_user_action.isEnabled()


def test_bundle_change_is_detected_and_a_restart_offered(qapp, fresh_server, launcher_dirs,
                                                         monkeypatch):
    tray, restarts = started_tray(fresh_server, monkeypatch)
    assert tray.result.bundle_name == "demo_production"

    checks: list[str] = []
    tray.bundle_checked.connect(checks.append)
    tray.check_bundle()
    assert wait_for(lambda: checks == ["demo_production"])
    assert tray.pending_bundle is None and tray.restart_box is None

    offer_new_production_bundle(tray, fresh_server)
    assert tray.state == "update"
    assert "Restart to apply bundle demo_production_2" in tray.menu_texts()
    box = tray.restart_box
    assert box is not None and "demo_production_2" in box.text()
    # The box and the window of a desktop without a system tray (offscreen) bring the AYON
    # look themselves: this test application has none.
    for window in (box, tray.fallback_window):
        assert window.palette().color(QtGui.QPalette.ColorRole.Window).name() == style.WINDOW
    restart_now = next(b for b in box.buttons() if b.text() == "Restart now")
    restart_now.click()
    assert wait_for(lambda: restarts.count == 1)


def test_periodic_check_uses_the_configured_interval(qapp, local_server, launcher_dirs,
                                                     monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    monkeypatch.setenv("AYON_API_KEY", local_server.service_api_key)
    monkeypatch.setenv("AYON_TRAY_BUNDLE_CHECK_SECONDS", "0.2")
    tray, _ = make_tray(LauncherContext())
    checks: list[str] = []
    tray.bundle_checked.connect(checks.append)
    tray.start()
    wait_ready(tray)
    assert wait_for(lambda: len(checks) >= 2, 20000)
    assert set(checks) == {"demo_production"} and tray.pending_bundle is None


def test_startup_error_dialog_offers_start_offline(qapp, local_server, launcher_dirs,
                                                   monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    monkeypatch.setenv("AYON_API_KEY", local_server.service_api_key)
    first, _ = make_tray(LauncherContext())
    first.start()
    wait_ready(first)  # a bundle is now fully installed here
    first.quit()

    calls: list[bool] = []

    def failing_prepare(ctx, progress, offline, cancel):
        calls.append(offline)
        if not offline:
            raise DistributionError("demo_tools 1.0.0: every source failed (test)")
        return _prepare(ctx, progress, offline, cancel)

    tray, _ = make_tray(LauncherContext(), prepare=failing_prepare)
    tray.start()
    assert wait_for(lambda: tray.error_box is not None)
    box = tray.error_box
    assert tray.state == "error"
    assert "every source failed" in box.text()
    assert "DistributionError" in box.detailedText()  # the details hold the traceback
    labels = [b.text() for b in box.buttons()]
    assert "Retry" in labels and "Start offline" in labels and "Quit" in labels
    next(b for b in box.buttons() if b.text() == "Start offline").click()
    wait_ready(tray)
    assert calls == [False, True]
    assert tray.state == "offline" and tray.result.offline
    assert "Bundle: demo_production - OFFLINE" in tray.menu_texts()
    assert "Say hello" in tray.menu_texts()


def test_error_dialog_without_installed_bundle_has_no_offline_choice(qapp, launcher_dirs,
                                                                     monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", dead_url())
    tray, _ = make_tray(LauncherContext())
    tray.start()
    assert wait_for(lambda: tray.error_box is not None, 60000)
    labels = [b.text() for b in tray.error_box.buttons()]
    assert "Start offline" not in labels and "Retry" in labels
    assert "Change server / log in again" in labels  # the way out of a dead server
    assert "Starting offline is not possible" in tray.error_box.informativeText()


def test_unreachable_server_starts_offline_then_offers_reconnect(qapp, fresh_server,
                                                                 launcher_dirs, monkeypatch):
    first, _ = started_tray(fresh_server, monkeypatch)
    first.quit()

    fresh_server.stop()
    tray, restarts = make_tray(LauncherContext())
    tray.start()
    wait_ready(tray)
    assert tray.state == "offline" and tray.result.offline
    checks: list[str] = []
    tray.bundle_checked.connect(checks.append)
    tray.check_bundle()
    assert wait_for(lambda: checks == [""])
    assert tray.pending_bundle is None  # still down: nothing offered

    fresh_server.start()
    offered: list[str] = []
    tray.restart_offered.connect(offered.append)
    tray.check_bundle()
    assert wait_for(lambda: offered == [""])
    assert "Restart to reconnect" in tray.menu_texts()


def test_exit_during_the_sync_cancels_it(qapp, launcher_dirs):
    started = threading.Event()
    seen: list[bool] = []

    def syncing(ctx, progress, offline, cancel):
        started.set()
        seen.append(cancel.wait(60))  # a long download, that only the cancel event ends
        raise SyncCancelled("the add-on sync was cancelled")

    tray, _ = make_tray(LauncherContext(), prepare=syncing)
    tray.start()
    assert started.wait(10)
    tray.quit()
    assert seen == [True]  # the cancel reached the sync before quit stopped waiting for it
    assert tray.error_box is None  # quitting: the cancelled start-up is no error to show


def test_the_tray_prepare_hands_the_cancel_event_to_the_sync(local_server, launcher_dirs,
                                                            monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    monkeypatch.setenv("AYON_API_KEY", local_server.service_api_key)
    cancel = threading.Event()
    cancel.set()  # the tray is quitting before the sync starts: nothing is downloaded
    with pytest.raises(SyncCancelled):
        _prepare(LauncherContext(), None, False, cancel)
    assert not (launcher_dirs / "local" / "addons" / "demo_tools_1.0.0").exists()


def test_skip_bootstrap_offers_no_restart(qapp, local_server, launcher_dirs, monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    tray, restarts = make_tray(LauncherContext(skip_bootstrap=True))
    tray.start()
    wait_ready(tray)
    assert tray.result.bundle_name is None and not tray.result.offline
    offered: list[str] = []
    tray.restart_offered.connect(offered.append)
    checked: list[str] = []
    tray.bundle_checked.connect(checked.append)
    tray.check_bundle()  # no bundle was chosen: there is nothing to compare with the server's
    assert not wait_for(lambda: bool(offered or checked), 2000)
    assert tray.pending_bundle is None and tray.restart_box is None
    assert "Restart to reconnect" not in tray.menu_texts()
    assert restarts.count == 0


def test_logout_forgets_the_token_and_restarts(qapp, local_server, launcher_dirs, monkeypatch):
    from ayon_launcher.bootstrapper.connection.credentials import credential_store

    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    tray, restarts = make_tray(LauncherContext())
    login_with(tray, "admin", local_server.admin_password, [])
    tray.start()
    wait_ready(tray)
    assert credential_store().load(local_server.url).token
    tray.logout_action.trigger()
    assert wait_for(lambda: restarts.count == 1)
    stored = credential_store().load(local_server.url)
    assert stored.token is None and stored.username == "admin"
    assert credential_store().server_url() == local_server.url  # the URL is remembered


OTHER_USER, OTHER_PASSWORD = "other", "0ther-Passw0rd"


def tray_of_admin_with_another_user(server, monkeypatch) -> tuple[TrayApp, Restarts]:
    """A tray started and logged in as admin, on a server that has another user too."""
    if server.store.get("user", OTHER_USER) is None:
        server.store.create_user(OTHER_USER, OTHER_PASSWORD, full_name="Other")
    monkeypatch.setenv("AYON_SERVER_URL", server.url)
    tray, restarts = make_tray(LauncherContext())
    login_with(tray, "admin", server.admin_password, [])
    tray.start()
    wait_ready(tray)
    tray.asker.dialog_opened.disconnect()
    return tray, restarts


def test_login_as_other_user_stores_the_new_login_and_restarts(qapp, local_server,
                                                               launcher_dirs, monkeypatch):
    from ayon_launcher.bootstrapper.connection.credentials import credential_store

    tray, restarts = tray_of_admin_with_another_user(local_server, monkeypatch)
    seen: list = []
    login_with(tray, OTHER_USER, OTHER_PASSWORD, seen)
    tray.other_user_action.trigger()
    assert wait_for(lambda: restarts.count == 1)
    assert seen == [local_server.url]
    assert credential_store().load(local_server.url).username == "other"


def test_cancelled_login_as_other_user_is_no_error(qapp, local_server, launcher_dirs,
                                                   monkeypatch):
    from ayon_launcher.bootstrapper.connection.session import LoginCancelled, resolve_session
    from ayon_launcher.support.errors import AuthenticationRequired

    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    with pytest.raises(LoginCancelled) as info:  # the login UI closed without a login
        resolve_session(LauncherContext(), ask=lambda _prompt: None)
    assert isinstance(info.value, AuthenticationRequired)

    tray, restarts = make_tray(LauncherContext())
    login_with(tray, "admin", local_server.admin_password, [])
    tray.start()
    wait_ready(tray)
    tray.asker.dialog_opened.disconnect()
    opened: list = []

    def close(dialog: LoginDialog) -> None:
        opened.append(dialog)
        QtCore.QTimer.singleShot(0, dialog.reject)

    tray.asker.dialog_opened.connect(close)
    tray.other_user_action.trigger()
    assert wait_for(lambda: bool(opened) and tray.pool.activeThreadCount() == 0)
    QtWidgets.QApplication.processEvents()
    assert restarts.count == 0
    assert "Log in as another user failed" not in tray.log_buffer.text()
    assert tray.notice_box is None  # a cancel is no failure to show


def test_login_as_other_user_that_cannot_be_kept_is_shown_to_the_artist(
        qapp, local_server, launcher_dirs, monkeypatch, tmp_path, artifacts_dir):
    """Storing is the point of this action: when the new login cannot be saved, the artist
    is told in a window (no notifications on this desktop), not only the log."""
    tray, restarts = tray_of_admin_with_another_user(local_server, monkeypatch)
    config = tmp_path / "config"  # where the first login was kept (launcher_dirs)
    config.rename(tmp_path / "config-moved")
    config.write_text("a file where the configuration folder was\n")
    login_with(tray, OTHER_USER, OTHER_PASSWORD, [])
    tray.other_user_action.trigger()
    assert wait_for(lambda: tray.notice_box is not None and tray.notice_box.isVisible(), 30000)
    text = tray.notice_box.text()
    assert text.startswith("Log in as another user failed: cannot save the login in "), text
    assert "Traceback" not in text and "Error" not in text
    assert restarts.count == 0
    assert text in tray.log_buffer.text()
    qapp.processEvents()
    image = tray.notice_box.grab().toImage()
    assert image.save(str(artifacts_dir / "tray_notice_failed_action.png"))
    corner = QtGui.QColor(image.pixel(image.width() - 3, image.height() - 3))
    assert corner.name() == style.WINDOW, f"background {corner.name()}, not the AYON look"


# --------------------------------------------------------------------------- the CLI
def test_headless_brings_the_workstation_up_to_date_and_says_what_to_do(tmp_path,
                                                                         local_server):
    env = isolated_env(tmp_path, local_server.url)
    env["AYON_API_KEY"] = local_server.service_api_key
    headless = run_ayon(["--headless"], env)
    assert headless.returncode == 0, headless.stderr
    assert "Traceback" not in headless.stderr
    assert "up to date: bundle demo_production" in headless.stdout
    assert "demo_tools 1.0.0" in headless.stdout
    assert "cannot run in headless mode" in headless.stdout and "ayon --help" in headless.stdout
    assert (tmp_path / "local" / "addons" / "demo_tools_1.0.0").is_dir()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland check")
def test_no_display_prints_a_clear_message(tmp_path):
    env = isolated_env(tmp_path)
    for key in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(key, None)
    env["QT_QPA_PLATFORM"] = "xcb"
    done = run_ayon(["--skip-bootstrap", "tray"], env)
    assert done.returncode == 0, done.stderr
    assert "needs a display" in done.stdout and "Nothing was synchronised" in done.stdout
    # Without credentials and without a terminal: one clear line, no dialog, no crash.
    no_login = run_ayon([], env)
    assert no_login.returncode == 4
    lines = no_login.stderr.strip().splitlines()
    assert len(lines) == 1 and "AYON_API_KEY" in lines[0]


def test_ayon_without_command_starts_the_tray(tmp_path, local_server):
    data = start_tray_logging_in(tmp_path, isolated_env(tmp_path, local_server.url),
                                 local_server)
    assert data["bundle"] == "demo_production"
    assert "Say hello" in data["menu"] and "Exit" in data["menu"]


def test_retry_in_the_error_dialog_starts_once_the_fault_is_cleared(qapp, fresh_server,
                                                                    launcher_dirs,
                                                                    monkeypatch):
    monkeypatch.setenv("AYON_SERVER_URL", fresh_server.url)
    monkeypatch.setenv("AYON_API_KEY", fresh_server.service_api_key)
    fresh_server.stop()  # the fault: the server is down, and nothing is installed yet
    tray, _ = make_tray(LauncherContext())
    tray.start()
    assert wait_for(lambda: tray.error_box is not None, 60000)
    assert tray.state == "error" and "Start offline" not in [
        b.text() for b in tray.error_box.buttons()]

    fresh_server.start()  # the fault is cleared
    next(b for b in tray.error_box.buttons() if b.text() == "Retry").click()
    wait_ready(tray)
    assert tray.error_box is None
    assert tray.state == "connected" and not tray.result.offline
    assert tray.result.bundle_name == "demo_production"
    assert "Say hello" in tray.menu_texts()


def test_a_real_restart_starts_the_same_command_for_the_new_bundle(tmp_path, fresh_server):
    """The tray restarts itself as a new process: same arguments, the environment it was
    started with (not what the bootstrap added), and the bundle change it restarted for."""
    import subprocess

    production = next(b for b in fresh_server.bundles() if b["name"] == "demo_production")
    addons, packages = production["addons"], production.get("dependencyPackages") or {}
    fresh_server.create_bundle("tests_staging_1", addons, packages, is_staging=True)
    record = tmp_path / "runs.jsonl"
    env = isolated_env(tmp_path, fresh_server.url)
    env.update(AYON_API_KEY=fresh_server.service_api_key, AYON_TRAY_BUNDLE_CHECK_SECONDS="0.3")
    env[TRAY_TEST_HOOK_ENV] = f"restart:{record}"
    args = ["--use-staging", "--verbose", "info", "tray"]
    first = subprocess.Popen([sys.executable, "-m", "ayon_launcher", *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def runs() -> list[dict]:
        return [json.loads(line) for line in record.read_text().splitlines()
                ] if record.exists() else []

    try:
        assert wait_for(lambda: len(runs()) == 1 or first.poll() is not None, 120000)
        assert runs(), first.stderr.read() if first.poll() is not None else "no record"
        assert runs()[0]["bundle"] == "tests_staging_1"
        fresh_server.create_bundle("tests_staging_2", addons, packages, is_staging=True)
        assert first.wait(timeout=120) == 0  # it restarted for the new bundle, then quit
        assert wait_for(lambda: len(runs()) == 2, 120000), "the new process did not start"
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
        for run in runs()[1:]:
            try:
                os.kill(run["pid"], 9)
            except ProcessLookupError:
                pass
    old, new = runs()
    assert new["pid"] != old["pid"]
    assert old["argv"] == new["argv"] == args
    assert new["env"] == old["env"]  # digests: the same variables with the same values
    assert "AYON_BUNDLE_NAME" not in new["env"]
    assert new["bundle"] == "tests_staging_2"
