"""The login dialog's polish and its browser login, offscreen with real widgets.

Screenshots go to ``test-artifacts/`` (login_dialog_url_two_lines.png, login_dialog_browser.png).
The browser login is driven here by a script that plays the browser's part with plain HTTP
(load the server's login page, log in through /api/auth/login, follow the redirect with the
token); tests/test_browser_login.py does the same in a real headless Chromium.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import requests  # noqa: E402
from qtpy import QtTest, QtWidgets  # noqa: E402

from ayon_launcher.bootstrapper.connection.session import LoginPrompt  # noqa: E402
from ayon_launcher.gui.login_dialog import LoginDialog  # noqa: E402
from ayon_launcher.gui.worker import wait_for  # noqa: E402

TESTS_DIR = Path(__file__).parent


@pytest.fixture(scope="module")
def qapp():
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["tests"])
    app.setQuitOnLastWindowClosed(False)
    return app


@pytest.fixture
def dialog(qapp):
    shown = LoginDialog(LoginPrompt(None, "admin", None, False))
    shown.show()
    qapp.processEvents()
    yield shown
    shown._browser_cancel and shown._browser_cancel.set()
    shown.close()
    shown.deleteLater()


def fully_shown(label: QtWidgets.QLabel) -> bool:
    """The label is as tall as its wrapped text needs (no line cut off)."""
    return label.height() >= label.heightForWidth(label.width())


def test_url_check_never_moves_fields_while_typing(qapp, dialog, artifacts_dir):
    start_height = dialog.height()
    user_y = dialog.user_edit.mapTo(dialog, dialog.user_edit.rect().topLeft()).y()
    dialog.url_edit.setFocus()
    QtTest.QTest.keyClicks(dialog.url_edit, "http://ayon.example:80a")
    qapp.processEvents()
    assert dialog.error_text() == ""
    assert dialog.user_edit.mapTo(dialog, dialog.user_edit.rect().topLeft()).y() == user_y

    dialog.url_edit.editingFinished.emit()  # the field loses the focus
    qapp.processEvents()
    assert dialog.error_text() == "The URL is not valid: the port must be a number."

    dialog.url_edit.setText("https://ayon.example/?project=x")  # a message on two lines
    dialog.url_edit.editingFinished.emit()
    qapp.processEvents()
    assert "query" in dialog.error_text()
    assert dialog.url_error.heightForWidth(dialog.url_error.width()) > \
        dialog.url_error.fontMetrics().height() * 1.5  # it does wrap
    assert fully_shown(dialog.url_error)
    pixmap = dialog.grab()
    assert pixmap.save(str(artifacts_dir / "login_dialog_url_two_lines.png"))

    dialog.url_edit.setText("https://ayon.example")
    dialog.url_edit.editingFinished.emit()
    qapp.processEvents()
    assert dialog.error_text() == ""
    assert dialog.height() <= start_height  # not left stretched


@pytest.mark.parametrize(("url", "words"), [
    ("http://host:port", "the port must be a number"),
    ("http://host:70000", "the port must be between 1 and 65535"),
    ("http://host:0", "the port must be between 1 and 65535"),
    ("http://[::1", "the IPv6 address in [brackets] is not complete or not valid"),
])
def test_url_messages_are_in_user_words(dialog, url, words):
    dialog.url_edit.setText(url)
    assert dialog.check_url() == f"The URL is not valid: {words}."


def test_browser_login_from_the_dialog(qapp, dialog, local_server, tmp_path, monkeypatch,
                                       artifacts_dir):
    hand_over = tmp_path / "url.txt"
    monkeypatch.setenv("BROWSER", f"{sys.executable} {TESTS_DIR / 'browser_hand_over.py'} %s")
    monkeypatch.setenv("BROWSER_HAND_OVER_FILE", str(hand_over))
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read BROWSER afresh
    results: list[str] = []
    dialog.attempt_finished.connect(results.append)
    dialog.url_edit.setText(local_server.url)
    assert dialog.browser_button.isEnabled()
    dialog.browser_button.click()
    assert wait_for(hand_over.exists, 30000)
    assert dialog.login_button.text() == "Waiting for the browser..."
    assert dialog.grab().save(str(artifacts_dir / "login_dialog_browser.png"))

    # The browser's part: the login page, its login request, the redirect with the token.
    url = hand_over.read_text()
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and 'id="password"' in page.text
    redirect = parse_qs(urlsplit(url).query)["auth_redirect"][0]
    token = requests.post(f"{local_server.url}/api/auth/login", timeout=10, json={
        "name": local_server.admin_user, "password": local_server.admin_password}).json()["token"]
    back = requests.get(f"{redirect}?token={token}", timeout=10)
    assert back.status_code == 200 and "You can close this tab" in back.text

    assert wait_for(lambda: results, 30000)
    assert results == [""]
    assert dialog.session is not None and dialog.session.token == token
    assert dialog.session.username == local_server.admin_user
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted


def test_cancel_stops_waiting_for_the_browser(qapp, dialog, local_server, tmp_path,
                                              monkeypatch):
    hand_over = tmp_path / "url.txt"
    monkeypatch.setenv("BROWSER", f"{sys.executable} {TESTS_DIR / 'browser_hand_over.py'} %s")
    monkeypatch.setenv("BROWSER_HAND_OVER_FILE", str(hand_over))
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    results: list[str] = []
    dialog.attempt_finished.connect(results.append)
    dialog.url_edit.setText(local_server.url)
    dialog.browser_button.click()
    assert wait_for(hand_over.exists, 30000)
    dialog.reject()  # the Cancel button
    assert wait_for(lambda: results, 10000)
    assert results == ["cancelled"] and dialog.isVisible() and dialog.session is None
    # The listener is closed: the browser coming back late reaches nobody.
    redirect = parse_qs(urlsplit(hand_over.read_text()).query)["auth_redirect"][0]
    time.sleep(0.1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{redirect}?token=late", timeout=5)
    assert dialog.login_button.text() == "Log in" and dialog.url_edit.isEnabled()
