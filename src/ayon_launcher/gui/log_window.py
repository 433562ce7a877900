"""The launcher's log in a window: a bounded in-memory buffer fed by a logging handler."""

from __future__ import annotations

import collections
import logging
import threading

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.icons import logo_pixmap
from ayon_launcher.gui.style import style_window
from ayon_launcher.support.log import LOGGER_NAME, RedactingFilter

MAX_LINES = 5000


class _Relay(QtCore.QObject):
    line = QtCore.Signal(str)


class LogBuffer(logging.Handler):
    """Keeps the last ``MAX_LINES`` formatted records (secrets redacted) and relays new ones
    to the UI thread. Installed on the launcher's logger when the tray starts."""

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._lines_lock = threading.Lock()
        # Parented to the application: never deleted by a garbage collection in another thread.
        self.relay = _Relay(QtCore.QCoreApplication.instance())
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                            "%H:%M:%S"))
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a broken record must not break the app
            self.handleError(record)
            return
        with self._lines_lock:
            self.lines.append(text)
        self.relay.line.emit(text)

    def text(self) -> str:
        with self._lines_lock:
            return "\n".join(self.lines)

    def install(self) -> LogBuffer:
        logger = logging.getLogger(LOGGER_NAME)
        if self not in logger.handlers:
            logger.addHandler(self)
        return self

    def uninstall(self) -> None:
        logging.getLogger(LOGGER_NAME).removeHandler(self)


class LogWindow(QtWidgets.QWidget):
    """Read-only view of the buffer that follows new lines."""

    def __init__(self, buffer: LogBuffer, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("AYON - Log")
        self.setWindowIcon(QtGui.QIcon(logo_pixmap()))
        style_window(self)
        self.resize(800, 420)
        self.view = QtWidgets.QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.view.setPlainText(buffer.text())
        copy = QtWidgets.QPushButton("Copy all")
        copy.clicked.connect(lambda: QtWidgets.QApplication.clipboard().setText(
            self.view.toPlainText()))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        row.addWidget(copy)
        layout.addLayout(row)
        buffer.relay.line.connect(self.view.appendPlainText)
