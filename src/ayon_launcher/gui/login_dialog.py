"""Login dialog: server URL (http/https), user name, password, or the browser; errors inline.

The login request (or the wait for the browser) runs in a worker thread, so the dialog never
freezes. The URL is checked when the field loses the focus and on submit, never while the
user types, so nothing moves under the cursor. ``ask_login`` is the ``LoginAsker`` that
``login_window.py`` hands to ``connection`` when a screen is available.
"""

from __future__ import annotations

import os
import threading

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.bootstrapper.connection.login import Session
from ayon_launcher.bootstrapper.connection.session import LoginPrompt
from ayon_launcher.gui.display import LOGIN_DIALOG_TEST_HOOK_ENV
from ayon_launcher.gui.icons import logo_pixmap
from ayon_launcher.gui.style import ERROR, style_window
from ayon_launcher.gui.worker import application, destroy_now, run_in_background
from ayon_launcher.support.errors import LauncherError, error_line

# LOGIN_DIALOG_TEST_HOOK_ENV (test-only, for subprocess tests): "USER:PASSWORD" fills the
# fields and logs in, "cancel" closes the dialog.

ERROR_STYLE = f"color: {ERROR};"
BROWSER_WAIT_TEXT = "Waiting for the browser..."


class LoginDialog(QtWidgets.QDialog):
    """Asks for server URL, user name and password; ``session`` is set once logged in."""

    # Emitted when a login attempt ends: "" on success, the error text otherwise (for tests).
    attempt_finished = QtCore.Signal(str)

    def __init__(self, prompt: LoginPrompt | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        prompt = prompt or LoginPrompt()
        self.session: Session | None = None
        self._busy = False
        self._browser_cancel: threading.Event | None = None
        self._url_problem = ""  # of the URL field as it is now (see check_url)
        self.setWindowTitle("AYON - Log in")
        self.setWindowIcon(QtGui.QIcon(logo_pixmap("starting")))
        style_window(self)

        logo = QtWidgets.QLabel()
        logo.setPixmap(logo_pixmap("starting", 56))
        title = QtWidgets.QLabel("<b>Log in to AYON</b>")
        self.message_label = QtWidgets.QLabel(prompt.message or "")
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(bool(prompt.message))
        header = QtWidgets.QHBoxLayout()
        header.addWidget(logo)
        titles = QtWidgets.QVBoxLayout()
        titles.addWidget(title)
        titles.addWidget(self.message_label)
        header.addLayout(titles, 1)

        self.url_edit = QtWidgets.QLineEdit(prompt.server_url or "")
        self.url_edit.setPlaceholderText("https://ayon.studio.com")
        self.url_edit.setObjectName("server_url")
        if prompt.url_locked:
            self.url_edit.setReadOnly(True)
            self.url_edit.setToolTip("Set by the AYON_SERVER_URL environment variable")
        self.url_error = self._error_label("url_error")
        self.user_edit = QtWidgets.QLineEdit(prompt.username or "")
        self.user_edit.setObjectName("username")
        self.user_edit.setPlaceholderText("user name")
        self.password_edit = QtWidgets.QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("password")
        self.error_label = self._error_label("login_error")

        form = QtWidgets.QFormLayout()
        form.addRow("Server URL", self.url_edit)
        form.addRow("", self.url_error)
        form.addRow("User name", self.user_edit)
        form.addRow("Password", self.password_edit)

        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.login_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.login_button.setText("Log in")
        self.browser_button = self.buttons.addButton(
            "Log in with browser", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        self.browser_button.setObjectName("browser_login")
        self.browser_button.setToolTip("Log in on the AYON web page (single sign-on)")
        self.browser_button.clicked.connect(self.try_browser_login)
        self.buttons.accepted.connect(self.try_login)
        self.buttons.rejected.connect(self.reject)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        # Wide enough for the buttons' longest (busy) text: they are never squeezed.
        self.login_button.setText(BROWSER_WAIT_TEXT)
        margins = layout.contentsMargins()
        self.setMinimumWidth(max(420, self.buttons.sizeHint().width() + margins.left()
                                 + margins.right()))
        self.login_button.setText("Log in")

        self.url_edit.editingFinished.connect(self.check_url)
        for edit in (self.url_edit, self.user_edit, self.password_edit):
            edit.textChanged.connect(self._update_button)
        if self.url_edit.text().strip():
            self.check_url()
        self._update_button()
        focus = self.url_edit if not self.url_edit.text() else (
            self.user_edit if not self.user_edit.text() else self.password_edit)
        focus.setFocus()

    @staticmethod
    def _error_label(name: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel()
        label.setObjectName(name)
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.setVisible(False)
        return label

    def _show(self, label: QtWidgets.QLabel, text: str) -> None:
        if label.text() == text and label.isVisible() == bool(text):
            return
        label.setText(text)
        label.setVisible(bool(text))
        # Grow to show a wrapped message whole; shrink back once it is gone.
        self.layout().activate()
        self.adjustSize()

    def url_problem(self) -> str:
        """Why the URL field cannot be used ("" when it can)."""
        from ayon_launcher.bootstrapper.connection.urls import url_problem

        text = self.url_edit.text().strip()
        if not text:
            return "Enter the URL of your AYON server."
        reason = url_problem(text)
        return f"The URL is not valid: {reason}." if reason else ""

    def check_url(self) -> str:
        """Check the URL (focus left the field, or a submit); show why it cannot be used.
        An empty field shows no error until a submit. Returns the problem ("" when none)."""
        self._url_problem = self.url_problem()
        self._show(self.url_error, self._url_problem if self.url_edit.text().strip() else "")
        self._update_button()
        return self._url_problem

    def _update_button(self) -> None:
        has_url = bool(self.url_edit.text().strip())
        ready = (has_url and bool(self.user_edit.text().strip())
                 and bool(self.password_edit.text()) and not self._busy)
        self.login_button.setEnabled(ready)
        self.browser_button.setEnabled(has_url and not self._busy)

    def error_text(self) -> str:
        """The inline errors currently shown (URL and login), for tests and screenshots."""
        return "\n".join(label.text() for label in (self.url_error, self.error_label)
                         if label.isVisible() and label.text())

    def try_login(self) -> None:
        """Validate the fields, then log in off the UI thread."""
        problem = self.check_url()
        if problem:
            self._show(self.url_error, problem)
            self.attempt_finished.emit(problem)
            return
        username = self.user_edit.text().strip()
        password = self.password_edit.text()
        if not username or not password:
            text = "Enter your user name and password."
            self._show(self.error_label, text)
            self.attempt_finished.emit(text)
            return
        from ayon_launcher.bootstrapper.connection.login import login
        from ayon_launcher.bootstrapper.connection.urls import normalize_server_url

        url = normalize_server_url(self.url_edit.text())
        self._set_busy(True)
        self._show(self.error_label, "")
        run_in_background(lambda _report: login(url, username, password),
                          self._on_logged_in, self._on_failed)

    def try_browser_login(self) -> None:
        """Open the AYON web page in the browser and wait (off the UI thread) for the login
        it hands back; Cancel stops waiting."""
        problem = self.check_url()
        if problem:
            self._show(self.url_error, problem)
            self.attempt_finished.emit(problem)
            return
        from ayon_launcher.bootstrapper.connection.browser_login import BrowserLogin
        from ayon_launcher.bootstrapper.connection.login import check_server
        from ayon_launcher.bootstrapper.connection.urls import normalize_server_url

        url = normalize_server_url(self.url_edit.text())
        cancel = self._browser_cancel = threading.Event()
        self._set_busy(True, BROWSER_WAIT_TEXT)
        self._show(self.error_label, "")

        def run(_report) -> Session | None:
            check_server(url)
            login = BrowserLogin(url)
            if not login.open_browser():
                login.close()
                raise LauncherError("no web browser could be opened on this computer")
            return login.wait(cancel=cancel)

        run_in_background(run, self._on_browser_done, self._on_failed)

    def _on_browser_done(self, session: Session | None) -> None:
        self._browser_cancel = None
        if session is None:  # cancelled
            self._set_busy(False)
            self.attempt_finished.emit("cancelled")
            return
        self._on_logged_in(session)

    def _set_busy(self, busy: bool, text: str = "Logging in...") -> None:
        self._busy = busy
        for widget in (self.url_edit, self.user_edit, self.password_edit):
            widget.setEnabled(not busy)
        self.login_button.setText(text if busy else "Log in")
        self._update_button()

    def _on_logged_in(self, session: Session) -> None:
        self._set_busy(False)
        self.session = session
        self.attempt_finished.emit("")
        self.accept()

    def _on_failed(self, exc: BaseException, details: str) -> None:
        self._set_busy(False)
        self._browser_cancel = None
        from ayon_launcher.bootstrapper.connection.browser_login import BrowserLoginTimeout
        from ayon_launcher.bootstrapper.connection.login import LoginFailed
        from ayon_launcher.support.errors import ServerUnreachableError

        if isinstance(exc, BrowserLoginTimeout):
            text = "The browser did not come back with a login in time. Try again."
        elif isinstance(exc, LoginFailed):
            text = "Wrong user name or password."
            self.password_edit.clear()
            self.password_edit.setFocus()
        elif isinstance(exc, ServerUnreachableError):
            text = f"The server cannot be reached: {error_line(exc)}"
        elif isinstance(exc, LauncherError):
            text = error_line(exc)
        else:
            text = f"Login failed: {error_line(exc)}"
        self._show(self.error_label, text)
        self.attempt_finished.emit(text)

    def reject(self) -> None:
        if self._browser_cancel is not None:
            self._browser_cancel.set()  # stop waiting for the browser; the dialog stays
            return
        if not self._busy:
            super().reject()


def _open(prompt: LoginPrompt) -> LoginDialog:
    """Create and show the dialog in front (the test hook, when set, answers it)."""
    dialog = LoginDialog(prompt)
    hook = os.environ.get(LOGIN_DIALOG_TEST_HOOK_ENV)
    if hook:
        _install_test_hook(dialog, hook)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def _install_test_hook(dialog: LoginDialog, hook: str) -> None:
    if hook == "cancel":
        QtCore.QTimer.singleShot(0, dialog.reject)
        return
    username, _, password = hook.partition(":")

    def fill() -> None:
        dialog.user_edit.setText(username)
        dialog.password_edit.setText(password)
        dialog.try_login()

    QtCore.QTimer.singleShot(0, fill)


def ask_login(prompt: LoginPrompt) -> Session | None:
    """Show the login dialog modally (creating the QApplication if needed)."""
    application()
    dialog = _open(prompt)
    dialog.exec()
    session = dialog.session
    destroy_now(dialog)
    return session


class DialogAsker(QtCore.QObject):
    """A ``LoginAsker`` callable from any thread: the dialog opens in the UI thread while the
    calling worker waits, so a login asked for during bootstrap never freezes the UI."""

    _requested = QtCore.Signal(object, object)
    # The dialog just shown (tests drive it through this).
    dialog_opened = QtCore.Signal(object)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: list[dict] = []
        self.dialog: LoginDialog | None = None
        self._requested.connect(self._open)

    def __call__(self, prompt: LoginPrompt) -> Session | None:
        if QtCore.QThread.currentThread() is self.thread():
            return ask_login(prompt)
        import threading

        request = {"done": threading.Event(), "session": None}
        self._pending.append(request)
        self._requested.emit(prompt, request)
        request["done"].wait()
        return request["session"]

    def _open(self, prompt: LoginPrompt, request: dict) -> None:
        if request["done"].is_set():
            return  # released by cancel_all before the dialog could open: the app is quitting
        dialog = self.dialog = _open(prompt)

        def finished(_result: int) -> None:
            self._finish(request, dialog.session)
            if self.dialog is dialog:
                self.dialog = None
            dialog.deleteLater()

        dialog.finished.connect(finished)
        self.dialog_opened.emit(dialog)

    def _finish(self, request: dict, session: Session | None) -> None:
        request["session"] = session
        request["done"].set()
        if request in self._pending:
            self._pending.remove(request)

    def cancel_all(self) -> None:
        """Release every waiting caller with "cancelled" (the application is quitting)."""
        for request in list(self._pending):
            self._finish(request, None)
        if self.dialog is not None:
            self.dialog.close()
