"""Runs an add-on's tray action and shows its outcome to the artist.

What it returned or printed, or why it failed: a tray notification or a small window, never
only a hidden stdout.
"""

from __future__ import annotations

import contextlib
import html
import io
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.icons import logo_pixmap
from ayon_launcher.gui.style import ERROR, SUCCESS, TEXT_DIM, style_window
from ayon_launcher.support.log import redact

# An output longer than this (characters or lines) is shown in a window, not a notification.
NOTIFY_MAX_CHARS = 200
NOTIFY_MAX_LINES = 3
# What a window shows of an action's output at most (the log has it all).
MAX_OUTPUT_CHARS = 20000


@dataclass
class ActionOutcome:
    """How one run of a tray action ended."""

    addon: str
    label: str
    ok: bool
    # One line for people: what failed and why ("" on success).
    message: str = ""
    # What the action returned and printed (secrets redacted).
    output: str = ""
    # The traceback of a failure (secrets redacted).
    details: str = ""

    @property
    def headline(self) -> str:
        if self.ok:
            return f"{self.label}: done."
        return f"{self.label} did not work: {self.message}"

    @property
    def fits_a_notification(self) -> bool:
        """Short enough for a tray notification (failures always get a window)."""
        return (self.ok and len(self.output) <= NOTIFY_MAX_CHARS
                and self.output.count("\n") < NOTIFY_MAX_LINES)


class _Tee(io.TextIOBase):
    """Keeps what is written and passes it on to the stream it replaces (a terminal, when the
    launcher was started from one)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.stream = stream
        self.buffer_ = io.StringIO()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.buffer_.write(text)
        if self.stream is not None:
            with contextlib.suppress(Exception):  # a closed terminal must not fail the action
                self.stream.write(text)
        return len(text)

    def flush(self) -> None:
        if self.stream is not None:
            with contextlib.suppress(Exception):
                self.stream.flush()


def reason_in_words(exc: BaseException) -> str:
    """Why an add-on's code failed, in words: its message, not its exception class."""
    if isinstance(exc, SystemExit):
        return f"the add-on stopped it (exit code {exc.code})"
    text = " ".join(redact(str(exc)).split())
    return text or f"an unexpected error in the add-on ({type(exc).__name__})"


def run_action(addon: str, label: str, callback: Callable[[], Any]) -> ActionOutcome:
    """Call ``callback`` (in this, the UI thread: actions open windows) and collect what it
    returns and prints; an exception or ``sys.exit`` becomes a failed outcome."""
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    value: Any = None
    failure: BaseException | None = None
    details = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            value = callback()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - add-on code
            failure = exc
            # From the add-on's frame on (this function's own frame says nothing).
            tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
            details = "".join(traceback.format_exception(type(exc), exc, tb))
    parts = [out.buffer_.getvalue().strip(), err.buffer_.getvalue().strip()]
    if value is not None and failure is None:
        parts.append(str(value).strip())
    output = redact("\n".join(p for p in parts if p))
    if len(output) > MAX_OUTPUT_CHARS:
        output = output[:MAX_OUTPUT_CHARS] + "\n... (the log has the rest)"
    if failure is None:
        return ActionOutcome(addon, label, True, output=output)
    return ActionOutcome(addon, label, False, message=reason_in_words(failure), output=output,
                         details=redact(details))


class ActionResultWindow(QtWidgets.QDialog):
    """The outcome of a tray action: the headline in colour, the output, the details of a
    failure. Not modal: the tray keeps working."""

    def __init__(self, outcome: ActionOutcome, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.outcome = outcome
        state = "connected" if outcome.ok else "error"
        self.setWindowTitle(f"AYON - {outcome.label}")
        self.setWindowIcon(QtGui.QIcon(logo_pixmap(state)))
        style_window(self)
        self.setMinimumWidth(440)
        logo = QtWidgets.QLabel()
        logo.setPixmap(logo_pixmap(state, 40))
        logo.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        self.headline = QtWidgets.QLabel(
            f"<b style='color:{SUCCESS if outcome.ok else ERROR}'>"
            f"{html.escape(outcome.headline)}</b><br>"
            f"<span style='color:{TEXT_DIM}'>{html.escape(outcome.addon)} add-on</span>")
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        header = QtWidgets.QHBoxLayout()
        header.addWidget(logo)
        header.addWidget(self.headline, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(header)
        self.output_view: QtWidgets.QPlainTextEdit | None = None
        if outcome.output:
            self.output_view = self._text_view("output", outcome.output)
            layout.addWidget(QtWidgets.QLabel("What it said:"))
            layout.addWidget(self.output_view, 1)
        self.details_view: QtWidgets.QPlainTextEdit | None = None
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        if outcome.details:
            self.details_view = self._text_view("details", outcome.details)
            self.details_view.setVisible(False)
            layout.addWidget(self.details_view, 1)
            toggle = buttons.addButton("Show details",
                                       QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
            toggle.clicked.connect(lambda: self._toggle_details(toggle))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(self.sizeHint().expandedTo(QtCore.QSize(480, 0)))

    @staticmethod
    def _text_view(name: str, text: str) -> QtWidgets.QPlainTextEdit:
        view = QtWidgets.QPlainTextEdit(text)
        view.setObjectName(name)
        view.setReadOnly(True)
        view.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        # As high as the text (a few lines: no empty box), at most 12 lines (then it scrolls).
        lines = min(max(text.count("\n") + 1, 2), 12)
        margins = 2 * (view.frameWidth() + int(view.document().documentMargin())) + 6
        view.setMaximumHeight(view.fontMetrics().lineSpacing() * lines + margins)
        view.setMinimumHeight(view.fontMetrics().lineSpacing() * min(lines, 4) + margins)
        return view

    def _toggle_details(self, button: QtWidgets.QAbstractButton) -> None:
        assert self.details_view is not None
        shown = not self.details_view.isVisible()
        self.details_view.setVisible(shown)
        button.setText("Hide details" if shown else "Show details")
        self.adjustSize()
