"""The tray's start-up failure dialog: what happened and every way forward, in artist words."""

from __future__ import annotations

import html

from qtpy import QtGui, QtWidgets

from ayon_launcher.gui.style import style_window
from ayon_launcher.support.errors import (
    AuthenticationRequired,
    DistributionError,
    ServerUnreachableError,
    error_line,
)
from ayon_launcher.support.log import redact

RETRY = "Retry"
CHANGE_SERVER = "Change server / log in again"
START_OFFLINE = "Start offline"
QUIT = "Quit"


def what_happened(exc: BaseException) -> str:
    """One sentence for an artist: what went wrong, without the technical detail."""
    if isinstance(exc, ServerUnreachableError):
        return "AYON could not connect to the AYON server."
    if isinstance(exc, AuthenticationRequired):
        return "AYON could not log you in to the AYON server."
    if isinstance(exc, DistributionError):
        return "AYON could not install the tools your studio uses."
    return "AYON could not start."


def reason(exc: BaseException) -> str:
    """The launcher's one-line reason, without what it adds for a terminal user: an error
    that extends the one it replaced (the offline start's "...; so the launcher cannot start
    offline (connect once, or use --skip-bootstrap)") is shown as the original one; this
    dialog says itself whether an offline start is possible."""
    original = exc.__context__
    if (isinstance(original, type(exc)) and str(original)
            and str(exc).startswith(str(original))):
        return error_line(original)
    return error_line(exc)


def choices_text(offline: bool) -> str:
    """What each button does (the buttons the dialog shows)."""
    lines = [f"<b>{RETRY}</b>: try again now, for example once the network is back.",
             f"<b>{CHANGE_SERVER}</b>: enter another server address, or log in again "
             "(as yourself or another user)."]
    if offline:
        lines.append(f"<b>{START_OFFLINE}</b>: work with the tools installed the last time, "
                     "without the server.")
    else:
        lines.append("Starting offline is not possible: nothing has been installed on this "
                     "computer yet.")
    lines.append(f"<b>{QUIT}</b>: close AYON.")
    lines.append("If this keeps happening, send the log file to your support team.")
    return "<br>".join(lines)


class StartFailureBox(QtWidgets.QMessageBox):
    """Retry / Change server / Start offline (when a bundle is installed) / Quit.

    ``text()`` holds what happened and the reason (one line of the launcher's own words),
    the details the traceback (secrets redacted), for support.
    """

    def __init__(self, exc: BaseException, details: str, *, offline: bool,
                 log_path: str | None = None) -> None:
        super().__init__()
        style_window(self)
        self.setWindowTitle("AYON - Start-up failed")
        self.setIcon(QtWidgets.QMessageBox.Icon.Warning)
        self.setText(f"{what_happened(exc)}\n\nReason: {reason(exc)}")
        info = choices_text(offline)
        if log_path:
            info += f"<br>Log file: {html.escape(log_path)}"
        self.setInformativeText(info)
        self.setDetailedText(redact(details))
        role = QtWidgets.QMessageBox.ButtonRole
        self.retry_button = self.addButton(RETRY, role.AcceptRole)
        self.change_button = self.addButton(CHANGE_SERVER, role.ActionRole)
        self.offline_button = self.addButton(START_OFFLINE, role.ActionRole) if offline else None
        self.quit_button = self.addButton(QUIT, role.RejectRole)
        self.setDefaultButton(self.retry_button)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 - Qt's name
        # Qt sizes its own "Show Details..." button before the AYON stylesheet's padding
        # applies: give every button the room its styled text needs.
        for button in self.findChildren(QtWidgets.QPushButton):
            button.ensurePolished()
            button.setMinimumWidth(button.minimumSizeHint().width())
        super().showEvent(event)

    def button_labels(self) -> list[str]:
        """The ways forward offered, in order (not Qt's own "Show Details..." button)."""
        return [button.text() for button in (self.retry_button, self.change_button,
                                             self.offline_button, self.quit_button)
                if button is not None]
