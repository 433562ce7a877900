"""The tray's start-up failure dialog never traps a desktop user.

The tray's start-up failure dialog never traps a desktop user: a dead stored server leads,
through "Change server / log in again", to a connected tray. Offscreen, real buttons, the real
local server; screenshots of the dialog go to ``test-artifacts/``.
"""

from __future__ import annotations

import html
import logging
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qtpy import QtGui  # noqa: E402

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.gui import style  # noqa: E402
from ayon_launcher.gui.failure_dialog import CHANGE_SERVER, StartFailureBox  # noqa: E402
from ayon_launcher.gui.worker import wait_for  # noqa: E402
from ayon_launcher.support import log as launcher_log
from ayon_launcher.support.errors import DistributionError
from conftest import dead_url  # noqa: E402
from test_tray import (  # noqa: E402, F401 - fixtures used by name
    _cleanup_qt,
    _prepare,
    launcher_dirs,
    make_tray,
    qapp,
    save_grab,
    wait_ready,
)


def click(box: StartFailureBox, label: str) -> None:
    next(b for b in box.buttons() if b.text() == label).click()


def assert_artist_words(box: StartFailureBox) -> None:
    """What happened and what each button does, no command-line advice."""
    shown = f"{box.text()}\n{box.informativeText()}"
    assert "`" not in shown and "ayon login" not in shown and "--" not in shown, shown
    assert "AYON_API_KEY" not in shown, shown
    for label in box.button_labels():
        assert label in box.informativeText()  # every button is explained


def assert_ayon_look(box: StartFailureBox) -> None:
    """The dialog brings the AYON dark look itself (this test application has none, as a
    host's would not): its palette, and its background on screen."""
    assert box.palette().color(QtGui.QPalette.ColorRole.Window).name() == style.WINDOW
    image = box.grab().toImage()
    corner = QtGui.QColor(image.pixel(image.width() - 3, image.height() - 3))
    assert corner.name() == style.WINDOW, f"background {corner.name()}, not {style.WINDOW}"


@pytest.mark.parametrize("where", ["stored", "environment"])
def test_dead_server_then_change_server_logs_in_and_connects(  # noqa: F811 - fixtures
        qapp, local_server, launcher_dirs, artifacts_dir, monkeypatch, where):  # noqa: F811
    from ayon_launcher.bootstrapper.connection.credentials import StoredLogin, credential_store

    dead = dead_url()
    if where == "stored":  # the last server of this computer is gone, its login kept
        credential_store().save(StoredLogin(dead, "stale-token-of-a-dead-server", "admin"))
    else:  # the studio's AYON_SERVER_URL names a server that is down
        monkeypatch.setenv("AYON_SERVER_URL", dead)
    tray, _ = make_tray(LauncherContext())
    dialogs: list[tuple[str, str, bool]] = []
    answers = ["cancel", "login"]

    def answer(dialog) -> None:
        dialogs.append((dialog.url_edit.text(), dialog.user_edit.text(),
                        dialog.url_edit.isReadOnly()))
        if answers.pop(0) == "cancel":
            dialog.reject()
            return
        save_grab(dialog, artifacts_dir / "tray_change_server_login.png")
        dialog.url_edit.setText(local_server.url)
        dialog.user_edit.setText("admin")
        dialog.password_edit.setText(local_server.admin_password)
        dialog.login_button.click()

    tray.asker.dialog_opened.connect(answer)
    tray.start()
    assert wait_for(lambda: tray.error_box is not None, 60000), "no failure dialog"
    box = tray.error_box
    assert tray.state == "error" and dialogs == []
    assert "could not connect to the AYON server" in box.text()
    assert "connection refused" in box.text()
    # Nothing is installed yet: no offline start, and the dialog says why.
    assert sorted(box.button_labels()) == sorted(["Retry", CHANGE_SERVER, "Quit"])
    assert "not possible" in box.informativeText()
    assert_artist_words(box)
    assert_ayon_look(box)
    save_grab(box, artifacts_dir / f"tray_start_failed_{where}.png")

    # Change server, then close the login dialog: the failure dialog comes back.
    click(box, CHANGE_SERVER)
    assert wait_for(lambda: tray.error_box is not None and tray.error_box is not box, 30000)
    assert dialogs == [(dead, "admin" if where == "stored" else "", False)]

    # Change server again, log in to the live server: the tray starts with it.
    click(tray.error_box, CHANGE_SERVER)
    wait_ready(tray)
    assert len(dialogs) == 2 and tray.error_box is None
    assert tray.state == "connected" and not tray.result.offline
    assert tray.result.server_url == local_server.url
    assert tray.menu_texts()[0] == f"admin @ {local_server.url}"
    assert "Say hello" in tray.menu_texts()
    # The new server is this computer's server from now on.
    assert credential_store().server_url() == local_server.url


def test_failure_with_an_installed_bundle_offers_offline_and_change_server(
        qapp, local_server, launcher_dirs, artifacts_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    monkeypatch.setenv("AYON_API_KEY", local_server.service_api_key)
    first, _ = make_tray(LauncherContext())
    first.start()
    wait_ready(first)  # a bundle is now installed here
    first.quit()

    def failing_prepare(ctx, progress, offline, cancel):
        if not offline:
            raise DistributionError("demo_tools 1.0.0: every source failed (test)")
        return _prepare(ctx, progress, offline, cancel)

    tray, _ = make_tray(LauncherContext(), prepare=failing_prepare)
    tray.start()
    assert wait_for(lambda: tray.error_box is not None, 60000)
    box = tray.error_box
    assert sorted(box.button_labels()) == sorted(["Retry", CHANGE_SERVER, "Start offline",
                                                "Quit"])
    assert "could not install the tools" in box.text() and "every source failed" in box.text()
    assert_artist_words(box)
    assert_ayon_look(box)
    save_grab(box, artifacts_dir / "tray_start_failed_offline_possible.png")
    click(box, "Start offline")
    wait_ready(tray)
    assert tray.state == "offline" and tray.result.offline


def test_the_dialog_names_the_log_file_that_holds_the_failure(  # noqa: F811 - fixtures
        qapp, launcher_dirs, monkeypatch):  # noqa: F811
    """As every error line, the dialog ends with where the log is, and that file has the
    reason and the details for support."""
    dead = dead_url()
    monkeypatch.setenv("AYON_SERVER_URL", dead)
    path = launcher_dirs / "local" / "logs" / "ayon.log"
    loggers = [logging.getLogger(name) for name in (launcher_log.LOGGER_NAME,
                                                     *launcher_log.LIBRARY_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.propagate, lg.level) for lg in loggers]
    launcher_log.close_log_file()
    launcher_log.setup_logging(logging.INFO)  # as `ayon tray` does: the run's log file opens
    try:
        tray, _ = make_tray(LauncherContext())
        tray.start()
        assert wait_for(lambda: tray.error_box is not None, 60000), "no failure dialog"
        box = tray.error_box
        assert box.informativeText().endswith(f"<br>Log file: {html.escape(str(path))}")
        logged = path.read_text()
        assert (f"ERROR ayon_launcher.tray: start-up failed: AYON server {dead} cannot be "
                "reached (connection refused)") in logged
    finally:
        launcher_log.close_log_file()
        for lg, handlers, propagate, level in saved:  # this process's other tests log as before
            lg.handlers[:] = handlers
            lg.propagate, lg.level = propagate, level
