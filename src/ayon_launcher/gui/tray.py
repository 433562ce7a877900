"""The AYON tray: login, bootstrap with progress, the tray menu, bundle-change checks.

Everything slow (login requests, add-on sync, bundle checks) runs in worker threads; the UI
thread only shows windows. ``TrayApp`` takes its ``prepare`` and ``restart`` functions from
the caller, so tests drive the real thing against the local server.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.action_result import ActionOutcome, ActionResultWindow, run_action
from ayon_launcher.gui.display import TRAY_TEST_HOOK_ENV
from ayon_launcher.gui.icons import logo_icon, logo_pixmap
from ayon_launcher.gui.log_window import LogBuffer, LogWindow
from ayon_launcher.gui.login_dialog import DialogAsker
from ayon_launcher.gui.progress_window import ProgressWindow
from ayon_launcher.gui.style import style_window
from ayon_launcher.gui.worker import application, destroy_now, run_in_background
from ayon_launcher.pipeline.addons.base import failure_reason
from ayon_launcher.support.envconfig import env_number
from ayon_launcher.support.errors import UsageError, error_line
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult, ProgressCallback
    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.pipeline.addons.base import AYONAddon, TrayAction

log = get_logger("tray")

# The state in words, beside the logo in the window of a desktop without a system tray.
STATE_WORDS = {"starting": "Starting...", "connected": "Connected", "offline": "Offline",
               "update": "Restart needed", "error": "Start-up failed"}

# Seconds between two checks of the production/staging bundle on the server; 0 disables.
BUNDLE_CHECK_ENV = "AYON_TRAY_BUNDLE_CHECK_SECONDS"
DEFAULT_BUNDLE_CHECK_SECONDS = 300.0
# TRAY_TEST_HOOK_ENV (test-only, for subprocess tests): "snapshot:PATH" writes the menu as
# JSON once the tray is ready, then quits. "restart:PATH" appends a JSON line once ready (pid,
# arguments, digests of the environment the tray started with, bundle); the first process of
# PATH then accepts the first restart offered, the next one quits. "second:PATH" appends a
# JSON line once ready and another when a second tray asks it to come forward, then quits.

# (ctx, progress callback, offline, cancel) -> bootstrap result with the add-ons loaded;
# ``cancel`` is set when the tray quits: a sync still running stops.
Prepare = Callable[["LauncherContext", "ProgressCallback | None", bool, threading.Event],
                   "BootstrapResult"]
Restart = Callable[[], None]


def bundle_check_seconds() -> float:
    try:
        return env_number(BUNDLE_CHECK_ENV, DEFAULT_BUNDLE_CHECK_SECONDS, minimum=0)
    except UsageError as exc:  # the tray keeps running: say so, check at the default pace
        log.warning("%s: checking every %g s", exc, DEFAULT_BUNDLE_CHECK_SECONDS)
        return DEFAULT_BUNDLE_CHECK_SECONDS


def restart_command() -> list[str]:
    """The command that starts this launcher again with the same arguments."""
    args = sys.argv[1:]
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "ayon_launcher", *args]


def spawn_restart(env: dict[str, str] | None = None) -> None:
    """Start a new launcher process (detached), with the environment the tray started with."""
    import subprocess

    kwargs: dict[str, Any] = {"env": env if env is not None else dict(os.environ)}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    subprocess.Popen(restart_command(), close_fds=True, **kwargs)


class TrayApp(QtCore.QObject):
    """The tray application of one launcher run."""

    # "starting", "connected", "offline", "update" (a new bundle waits), "error"
    state_changed = QtCore.Signal(str)
    # Name of the bundle the server now wants (a restart applies it); "" for "server is back".
    restart_offered = QtCore.Signal(str)
    # A finished bundle check (the bundle name the server wants, or "" when unknown).
    bundle_checked = QtCore.Signal(str)

    def __init__(self, ctx: LauncherContext, prepare: Prepare, *,
                 restart: Restart | None = None) -> None:
        super().__init__()
        from ayon_launcher.bootstrapper.connection.session import use_login_asker

        self.ctx = ctx
        self._prepare = prepare
        self._restart = restart or spawn_restart
        self._start_env = dict(os.environ)  # before the bootstrap adds to it (test hook)
        # Set by quit: the bootstrap running in the pool stops its sync instead of finishing.
        self._cancel = threading.Event()
        self.log_buffer = LogBuffer().install()
        self.check_seconds = bundle_check_seconds()
        self.asker = DialogAsker(self)
        use_login_asker(self.asker)
        self.pool = QtCore.QThreadPool(self)
        self.pool.setMaxThreadCount(2)

        self.state = "starting"
        self.result: BootstrapResult | None = None
        self.pending_bundle: str | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        self.restart_box: QtWidgets.QMessageBox | None = None
        self.notice_box: QtWidgets.QMessageBox | None = None  # a failed menu action's words
        self.action_errors: list[str] = []
        # Every tray action run and how it ended; the window showing the last one (if any).
        self.action_outcomes: list[ActionOutcome] = []
        self.action_window: QtWidgets.QDialog | None = None
        self._checking = False
        self._quitting = False
        self._windows: dict[str, QtWidgets.QWidget] = {}

        self.progress_window = ProgressWindow()
        self.menu = QtWidgets.QMenu()
        self.menu.setObjectName("ayon_tray_menu")
        style_window(self.menu)
        self.tray_icon = QtWidgets.QSystemTrayIcon(logo_icon("starting"), self)
        self.tray_icon.setContextMenu(self.menu)
        self.tray_icon.activated.connect(self._on_activated)
        self.fallback_window: QtWidgets.QWidget | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.check_bundle)
        self._build_menu()

    # ----------------------------------------------------------------- start-up
    def start(self) -> None:
        """Show the progress window and the (amber) icon, then log in and bootstrap."""
        self._set_state("starting")
        self.tray_icon.setToolTip("AYON - starting")
        if QtWidgets.QSystemTrayIcon.isSystemTrayAvailable():
            self.tray_icon.show()
        else:
            log.warning("no system tray on this desktop: the AYON menu is shown in a window")
            self._show_fallback_window()
        self.progress_window.show()
        self._run_bootstrap(offline=False)

    def _run_bootstrap(self, offline: bool) -> None:
        self.progress_window.set_status(
            "Starting from the last installed bundle..." if offline
            else "Connecting to the AYON server...")
        self.progress_window.show()
        cancel = self._cancel
        run_in_background(lambda report: self._prepare(self.ctx, report, offline, cancel),
                          self._on_ready, self._on_failed, self.progress_window.report,
                          pool=self.pool)

    def _on_ready(self, result: BootstrapResult) -> None:
        if self._quitting:
            return
        self.result = result
        self.progress_window.hide()
        self._build_menu()
        if result.offline:
            self._set_state("offline")
            self._notify("AYON is offline",
                         f"The server cannot be reached: running bundle {result.bundle_name} "
                         "as last installed.")
        else:
            self._set_state("connected")
        self.tray_icon.setToolTip(f"AYON - {self._bundle_text()}")
        for name, reason in sorted(result.load_errors.items()):
            self._notify("Add-on not loaded", f"{name}: {reason}")
        if self.check_seconds > 0:
            self._timer.start(int(self.check_seconds * 1000))
        log.info("tray ready: %s", self._bundle_text())
        self._run_test_hook()

    def _on_failed(self, exc: BaseException, details: str) -> None:
        if self._quitting:
            return
        from ayon_launcher.gui.failure_dialog import StartFailureBox
        from ayon_launcher.support.log import log_file

        self.progress_window.hide()
        self._set_state("error")
        log.error("start-up failed: %s", error_line(exc))
        box = StartFailureBox(exc, details, offline=self.offline_bundle_available(),
                              log_path=log_file())

        def clicked(button: QtWidgets.QAbstractButton) -> None:
            self.error_box = None
            box.deleteLater()
            if button is box.quit_button:
                QtCore.QTimer.singleShot(0, self.quit)
            elif button is box.retry_button:
                self._set_state("starting")
                self._run_bootstrap(offline=False)
            elif button is box.change_button:
                self.change_server(exc, details)
            elif box.offline_button is not None and button is box.offline_button:
                self._set_state("starting")
                self._run_bootstrap(offline=True)

        box.buttonClicked.connect(clicked)
        self.error_box = box
        box.show()

    def change_server(self, exc: BaseException, details: str) -> None:
        """"Change server / log in again" after a failed start: the login dialog (prefilled
        with the stored server, the address can be changed), then start with that login;
        closing the dialog brings the failure back."""
        from ayon_launcher.bootstrapper.connection.session import LoginCancelled, login_again

        self._set_state("starting")
        message = ("AYON could not start with this server. Check the address or enter "
                   "another one, then log in.")

        def done(_session: Any) -> None:
            if not self._quitting:
                self._run_bootstrap(offline=False)

        def failed(new_exc: BaseException, new_details: str) -> None:
            if isinstance(new_exc, LoginCancelled):
                self._on_failed(exc, details)
            else:
                self._on_failed(new_exc, new_details)

        run_in_background(lambda _r: login_again(self.ctx, self.asker, message), done, failed,
                          pool=self.pool)

    def offline_bundle_available(self) -> bool:
        """Whether a fully installed bundle can be started without the server."""
        from ayon_launcher.bootstrapper.bootstrap import offline_bundle

        return offline_bundle(self.ctx) is not None

    # ----------------------------------------------------------------- menu
    def _server_url(self) -> str | None:
        """The server this run is connected to (or was, offline); None before the start."""
        return self.result.server_url if self.result is not None else None

    def _user_text(self) -> str:
        user = self.ctx.extra.get("username") or "not logged in"
        return f"{user} @ {self._server_url() or 'no server'}"

    def _bundle_text(self) -> str:
        if self.result is None:
            return "starting..."
        name = self.result.bundle_name or "no bundle (--skip-bootstrap)"
        variant = " (staging)" if self.ctx.use_staging else " (dev)" if self.ctx.use_dev else ""
        offline = " - OFFLINE" if self.result.offline else ""
        return f"Bundle: {name}{variant}{offline}"

    def _build_menu(self) -> None:
        menu = self.menu
        menu.clear()
        self._info_action(self._user_text())
        self._info_action(self._bundle_text())
        menu.addSeparator()
        self.addon_actions: dict[str, QtGui.QAction] = {}
        for addon in self.result.addons if self.result else []:
            for tray_action in self._tray_actions_of(addon):
                action = menu.addAction(tray_action.label)
                action.setData(addon.name)
                action.triggered.connect(
                    lambda _checked=False, a=addon, t=tray_action: self.run_addon_action(a, t))
                self.addon_actions[tray_action.label] = action
        if self.addon_actions:
            menu.addSeparator()
        self.apply_bundle_action = menu.addAction("Restart to apply the new bundle")
        self.apply_bundle_action.setVisible(self.pending_bundle is not None)
        font = self.apply_bundle_action.font()
        font.setBold(True)
        self.apply_bundle_action.setFont(font)
        if self.pending_bundle is not None:
            self._mark_apply_action()
        self.apply_bundle_action.triggered.connect(self._later(self.restart))
        menu.addAction("Show log").triggered.connect(self.show_log)
        menu.addAction("About AYON...").triggered.connect(self.show_about)
        menu.addSeparator()
        self.other_user_action = menu.addAction("Log in as other user...")
        self.other_user_action.triggered.connect(self.login_as_other_user)
        self.logout_action = menu.addAction("Logout")
        self.logout_action.triggered.connect(self._later(self.logout))
        # A service session (AYON_API_KEY) has no login to end, and a restart keeps the key,
        # which wins over any stored login.
        personal = self.result is not None and not self.ctx.extra.get("is_service")
        self.other_user_action.setEnabled(personal)
        self.logout_action.setEnabled(personal)
        menu.addAction("Restart").triggered.connect(self._later(self.restart))
        menu.addAction("Exit").triggered.connect(self._later(self.quit))

    def _mark_apply_action(self) -> None:
        """The blue logo of "restart needed" beside the menu item that restarts (set only
        when shown: an icon makes the menu indent every item)."""
        self.apply_bundle_action.setIcon(logo_icon("update"))

    @staticmethod
    def _later(call: Callable[[], None]) -> Callable[..., None]:
        """A slot that runs ``call`` from the event loop, outside the menu's own handler
        (``call`` deletes the menu)."""
        return lambda *_args: QtCore.QTimer.singleShot(0, call)

    def _info_action(self, text: str) -> QtGui.QAction:
        action = self.menu.addAction(text)
        action.setEnabled(False)
        return action

    def _tray_actions_of(self, addon: AYONAddon) -> list[TrayAction]:
        try:
            return list(addon.tray_actions())
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a broken add-on must not
            log.warning("add-on %s: tray items failed: %s", addon.name,  # break the menu
                        failure_reason(exc))
            return []

    def menu_texts(self) -> list[str]:
        """Visible menu entries, in order ("-" for separators): for tests and the hook."""
        return ["-" if a.isSeparator() else a.text() for a in self.menu.actions()
                if a.isVisible()]

    def run_addon_action(self, addon: AYONAddon, action: TrayAction) -> ActionOutcome:
        """Run an add-on's tray callback and show the artist how it went: what it returned or
        printed, or why it failed (logged too); never a crash."""
        log.info("running tray action %r of add-on %s", action.label, addon.name)
        outcome = run_action(addon.name, action.label, action.callback)
        self.action_outcomes.append(outcome)
        if outcome.output:
            log.info("%s: %s", action.label, outcome.output)
        if not outcome.ok:
            text = f"{addon.name}: {action.label} failed: {outcome.message}"
            self.action_errors.append(text)
            log.error("%s", text)
            log.debug("%s", outcome.details)
        self._show_outcome(outcome)
        return outcome

    def _show_outcome(self, outcome: ActionOutcome) -> None:
        """A notification when the tray can show one and it says it all; a window otherwise
        (a failure, a long output, no system tray). Nothing returned or printed: a "done"
        notification at most (the action shows its own windows)."""
        if outcome.ok and (not outcome.output or outcome.fits_a_notification):
            shown = self._notify(outcome.label, outcome.output or outcome.headline)
            if shown or not outcome.output:
                return
        old = self.action_window
        window = self.action_window = ActionResultWindow(outcome)
        window.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(lambda *_: self._forget_action_window(window))
        if old is not None:
            old.close()
        window.show()
        window.raise_()
        window.activateWindow()

    def _forget_action_window(self, window: QtWidgets.QDialog) -> None:
        if self.action_window is window:
            self.action_window = None

    # ----------------------------------------------------------------- windows
    def show_log(self) -> QtWidgets.QWidget:
        from ayon_launcher.gui.log_window import run_log_reader

        return self._show_window("log", lambda: LogWindow(self.log_buffer,
                                                          reader=run_log_reader()))

    def show_about(self) -> QtWidgets.QWidget:
        from ayon_launcher.gui.about import AboutDialog

        info = {
            "Server": self._server_url() or "",
            "User": str(self.ctx.extra.get("username") or ""),
            "Bundle": self._bundle_text().removeprefix("Bundle: "),
        }
        addons = [(a.name, a.version) for a in (self.result.addons if self.result else [])]
        return self._show_window("about", lambda: AboutDialog(info, addons))

    def _show_window(self, key: str, create: Callable[[], QtWidgets.QWidget]) -> QtWidgets.QWidget:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = create()
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def bring_forward(self) -> None:
        """Another ``ayon`` tray was started: show this one's windows instead."""
        log.info("a second AYON tray was started: showing this one")
        shown = [w for w in (self.fallback_window, self.progress_window,
                             *self._windows.values()) if w is not None and w.isVisible()]
        for window in shown:
            window.raise_()
            window.activateWindow()
        if not shown:
            self._notify("AYON is already running", f"AYON - {self._bundle_text()}")
        if os.environ.get(TRAY_TEST_HOOK_ENV, "").startswith("second:"):
            path = os.environ[TRAY_TEST_HOOK_ENV].partition(":")[2]
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"pid": os.getpid(), "brought_forward": True}) + "\n")
            QtCore.QTimer.singleShot(0, self.quit)

    def _show_fallback_window(self) -> None:
        window = QtWidgets.QWidget(None, QtCore.Qt.WindowType.Window)
        style_window(window)
        window.setWindowTitle("AYON")
        window.setWindowIcon(logo_icon(self.state))
        self._fallback_logo = QtWidgets.QLabel()
        self._fallback_logo.setPixmap(logo_pixmap(self.state, 48))
        self._fallback_state = QtWidgets.QLabel(STATE_WORDS.get(self.state, ""))
        self._fallback_state.setObjectName("state")
        metrics = self._fallback_state.fontMetrics()  # room for every state: nothing moves
        self._fallback_state.setMinimumWidth(
            max(metrics.horizontalAdvance(words) for words in STATE_WORDS.values()) + 4)
        button = QtWidgets.QPushButton("AYON menu")
        button.setMenu(self.menu)
        layout = QtWidgets.QHBoxLayout(window)
        layout.addWidget(self._fallback_logo)
        layout.addWidget(self._fallback_state, 1)
        layout.addWidget(button)
        self.fallback_window = window
        window.show()

    def _on_activated(self, reason: QtWidgets.QSystemTrayIcon.ActivationReason) -> None:
        if reason == QtWidgets.QSystemTrayIcon.ActivationReason.DoubleClick:
            self.show_about()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.tray_icon.setIcon(logo_icon(state))
        if self.fallback_window is not None:
            self.fallback_window.setWindowIcon(logo_icon(state))
            self._fallback_logo.setPixmap(logo_pixmap(state, 48))
            self._fallback_state.setText(STATE_WORDS.get(state, ""))
        self.state_changed.emit(state)

    def _notify(self, title: str, text: str,
                icon: QtWidgets.QSystemTrayIcon.MessageIcon =
                QtWidgets.QSystemTrayIcon.MessageIcon.Information) -> bool:
        """A tray notification; False when this desktop cannot show one."""
        if self.tray_icon.isVisible() and QtWidgets.QSystemTrayIcon.supportsMessages():
            self.tray_icon.showMessage(title, text, icon, 8000)
            return True
        return False

    # ----------------------------------------------------------------- bundle checks
    def check_bundle(self) -> None:
        """Ask the server (in a worker) which bundle it wants now; offer a restart on change."""
        if (self._checking or self.result is None or self.ctx.bundle_name
                or self.ctx.skip_bootstrap):
            return  # a named bundle (--bundle) never changes under us; no bundle, no check
        self._checking = True
        run_in_background(lambda _report: self._wanted_bundle(), self._on_bundle_checked,
                          self._on_check_failed, pool=self.pool)

    def _wanted_bundle(self) -> str | None:
        """Bundle name the server wants now; None when the server cannot be reached."""
        from ayon_launcher.bootstrapper.distribution.distribute import fetch_bundle
        from ayon_launcher.support.errors import ServerUnreachableError

        result = self.result
        assert result is not None
        try:
            if result.offline:  # is the server back?
                from ayon_launcher.bootstrapper.connection.login import check_server

                if result.server_url:
                    check_server(result.server_url)
                    return ""
                return None
            assert result.api is not None  # online, bootstrapped (check_bundle's condition)
            bundle = fetch_bundle(result.api, bundle_name=None,
                                  use_staging=self.ctx.use_staging, use_dev=self.ctx.use_dev)
        except ServerUnreachableError:
            return None
        return bundle.name

    def _on_bundle_checked(self, wanted: str | None) -> None:
        self._checking = False
        if self._quitting:
            return
        self.bundle_checked.emit(wanted or "")
        if self.result is None or self.pending_bundle is not None:
            return
        if wanted is None:
            if self.state == "connected":
                log.warning("the AYON server cannot be reached")
                self._set_state("offline")
            return
        if self.result.offline:
            self._offer_restart("", "The AYON server can be reached again. Restart to "
                                    "reconnect and update?")
        elif wanted != self.result.bundle_name:
            self._offer_restart(wanted, f"The server now uses bundle {wanted} (this launcher "
                                        f"runs {self.result.bundle_name}). Restart to apply it?")
        elif self.state == "offline":
            self._set_state("connected")

    def _on_check_failed(self, exc: BaseException, details: str) -> None:
        self._checking = False
        log.warning("bundle check failed: %s", error_line(exc))
        log.debug("%s", details)

    def _offer_restart(self, bundle: str, text: str) -> None:
        self.pending_bundle = bundle
        log.info("%s", text)
        self._set_state("update")
        self.apply_bundle_action.setText(
            f"Restart to apply bundle {bundle}" if bundle else "Restart to reconnect")
        self.apply_bundle_action.setVisible(True)
        self._mark_apply_action()
        self._notify("AYON update", text)
        box = QtWidgets.QMessageBox()
        style_window(box)
        box.setWindowTitle("AYON - Restart?")
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setText(text)
        restart_now = box.addButton("Restart now", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Later", QtWidgets.QMessageBox.ButtonRole.RejectRole)

        def clicked(button: QtWidgets.QAbstractButton) -> None:
            self.restart_box = None
            box.deleteLater()
            if button is restart_now:
                QtCore.QTimer.singleShot(0, self.restart)

        box.buttonClicked.connect(clicked)
        self.restart_box = box
        box.show()
        self.restart_offered.emit(bundle)

    def _tell_failure(self, text: str) -> None:
        """Say that a menu action failed: in the log, and to the artist in a notification,
        or in a small window where the desktop shows none (the log is not where they look)."""
        log.error("%s", text)
        if self._notify("AYON", text, QtWidgets.QSystemTrayIcon.MessageIcon.Warning):
            return
        if self.notice_box is not None:
            self.notice_box.close()
        box = self.notice_box = QtWidgets.QMessageBox()
        style_window(box)
        box.setWindowTitle("AYON")
        box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
        box.setText(text)
        box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
        box.show()

    # ----------------------------------------------------------------- session actions
    def login_as_other_user(self) -> None:
        """Ask for another user's login (in the dialog); on success restart as that user."""
        from ayon_launcher.bootstrapper.connection.session import LoginCancelled, resolve_session

        def done(_session: Any) -> None:
            self.restart()

        def failed(exc: BaseException, details: str) -> None:
            if not isinstance(exc, LoginCancelled):
                log.debug("%s", details)
                self._tell_failure(f"Log in as another user failed: {error_line(exc)}")

        run_in_background(lambda _r: resolve_session(self.ctx, ask=self.asker,
                                                     force_login=True),
                          done, failed, pool=self.pool)

    def logout(self) -> None:
        """Forget the token (the URL stays) and restart: the login dialog comes up.

        Ending the session on the server is a request: it runs in the pool.
        """
        from ayon_launcher.bootstrapper.connection.session import forget_login

        ctx = self.ctx
        self.logout_action.setEnabled(False)

        def done(url: str | None) -> None:
            if self._quitting:
                return
            log.info("logged out of %s", url or self._server_url())
            self.restart()

        def failed(exc: BaseException, details: str) -> None:
            if self._quitting:
                return
            log.debug("%s", details)
            self.logout_action.setEnabled(True)
            self._tell_failure(f"Logout failed: {error_line(exc)}")

        run_in_background(lambda _report: forget_login(ctx), done, failed, pool=self.pool)

    def restart(self) -> None:
        log.info("restarting the launcher")
        self._restart()
        self.quit()

    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        from ayon_launcher.bootstrapper.connection.session import use_login_asker

        self._timer.stop()
        self._cancel.set()  # a sync still running stops instead of downloading to the end
        self.asker.cancel_all()
        use_login_asker(None)
        self.tray_icon.hide()
        self.pool.waitForDone(15000)
        # Deleted now, in the UI thread (``quit`` is never called from inside a handler of
        # these widgets: menu and buttons defer it to the event loop).
        from qtpy.compat import isalive

        widgets = [self.progress_window, self.fallback_window, self.error_box,
                   self.restart_box, self.notice_box, self.action_window, self.menu,
                   *self._windows.values()]
        for widget in widgets:
            if widget is not None and isalive(widget):
                widget.close()
        destroy_now(*widgets)
        self._windows.clear()
        self.error_box = self.restart_box = self.fallback_window = self.action_window = None
        self.notice_box = None
        self.log_buffer.uninstall()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.quit()

    # ----------------------------------------------------------------- test hook
    def _run_test_hook(self) -> None:
        hook = os.environ.get(TRAY_TEST_HOOK_ENV, "")
        if hook.startswith("second:"):
            # Stays running until a second tray knocks (bring_forward records it and quits).
            with open(hook.partition(":")[2], "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"pid": os.getpid(), "ready": True}) + "\n")
            return
        if hook.startswith("restart:"):
            self._record_for_restart_test(hook.partition(":")[2])
            return
        if not hook.startswith("snapshot:"):
            return
        path = hook.partition(":")[2]
        snapshot = {"state": self.state, "menu": self.menu_texts(),
                    "bundle": self.result.bundle_name if self.result else None,
                    "user": self.ctx.extra.get("username")}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle)
        QtCore.QTimer.singleShot(0, self.quit)

    def _record_for_restart_test(self, path: str) -> None:
        import hashlib

        first = not os.path.exists(path)
        record = {"pid": os.getpid(), "argv": sys.argv[1:],
                  "bundle": self.result.bundle_name if self.result else None,
                  "env": {key: hashlib.sha256(value.encode()).hexdigest()
                          for key, value in self._start_env.items()}}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if not first:
            QtCore.QTimer.singleShot(0, self.quit)
            return

        def accept(_bundle: str) -> None:
            box = self.restart_box
            if box is not None:
                button = next(b for b in box.buttons() if b.text() == "Restart now")
                QtCore.QTimer.singleShot(0, button.click)

        self.restart_offered.connect(accept)


def run_tray(ctx: LauncherContext, prepare: Prepare, restart: Restart | None = None) -> int:
    """Create the QApplication, start the tray and run the event loop; the exit code."""
    from ayon_launcher.gui.single_instance import TrayServer, ask_running_tray

    app = application()
    if ask_running_tray():
        # One tray per user: the running one brings its window forward.
        print("AYON is already running: its window was brought forward.", flush=True)
        return 0
    app.setQuitOnLastWindowClosed(False)
    app.setApplicationName("AYON")
    app.setWindowIcon(logo_icon("connected"))
    trays: list[TrayApp] = []
    server = TrayServer(lambda: trays[0].bring_forward() if trays else None)
    if not server.listen():
        if server.other_tray:  # started at the same time as this one, and listening first
            print("AYON is already running: its window was brought forward.", flush=True)
            return 0
        log.warning("cannot listen for a second AYON tray: %s", server.server.errorString())

    def restart_alone() -> None:
        # The new tray must not find this one still listening (it would defer to it).
        server.close()
        (restart or spawn_restart)()

    tray = TrayApp(ctx, prepare, restart=restart_alone)
    trays.append(tray)
    QtCore.QTimer.singleShot(0, tray.start)
    code = app.exec()
    server.close()
    tray.quit()
    return int(code)
