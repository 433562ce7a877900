"""The launcher's log in a window, followed as it grows.

It shows this run's part of the support log file (or, without a file, a bounded in-memory
buffer fed by a logging handler).
"""

from __future__ import annotations

import collections
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import BinaryIO

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.icons import logo_pixmap
from ayon_launcher.gui.style import style_window
from ayon_launcher.support.log import LOGGER_NAME, RedactingFilter

MAX_LINES = 5000
# The file's share of one run: a whole 5 MB log file is about 50000 lines.
FILE_MAX_LINES = 100000
# How often the window looks for new lines in the file (milliseconds).
FOLLOW_MS = 500
# A record's first line in the file: "2026-01-31 12:00:00,123 PID LEVEL name: message".
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\d+) ")


class RunLogReader:
    """This process's records in the support log file, from where its run started (install
    lines, library warnings and all), read as the file grows; other processes' lines that
    share the file are left out.

    The reader holds the file open, so it follows the file this process writes to even when
    another process renames it (rotation); when this process's own log moves on to a new
    file (``stream_inode`` changes), the rest of the old one is read, then the new one.
    """

    def __init__(self, path: str, inode: int, offset: int, pid: int | None = None,
                 stream_inode: Callable[[], int | None] | None = None) -> None:
        self.path = path
        self.pid = pid if pid is not None else os.getpid()
        self._stream_inode = stream_inode or (lambda: _inode(path))
        self._partial = ""
        self._mine = False  # whether the record being read is this process's
        self._handle = _open_inode(path, inode)
        if self._handle is not None:
            self._handle.seek(offset)

    def read_new(self) -> str:
        """The text of this process's records added since the last call ("" when none)."""
        data = b""
        target = self._stream_inode()
        if self._handle is not None:
            data += self._handle.read()
            if target is None or target == os.fstat(self._handle.fileno()).st_ino:
                return self._own_lines(data)
        # The log moved on to another file (or the start could not be found): follow it.
        if target is not None:
            handle = _open_inode(self.path, target)
            if handle is not None:
                if self._handle is not None:
                    self._handle.close()
                self._handle = handle
                data += handle.read()
        return self._own_lines(data)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _own_lines(self, data: bytes) -> str:
        text = self._partial + data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()  # an unfinished last line waits for the rest
        kept = []
        for line in lines:
            record = _RECORD.match(line)
            if record is not None:
                self._mine = int(record.group(1)) == self.pid
            if self._mine:
                kept.append(line)
        return "\n".join(kept)


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _open_inode(path: str, inode: int) -> BinaryIO | None:
    """The log file (or one of its rotated copies, ``ayon.log.1`` ...) that is ``inode``."""
    for candidate in (path, *(f"{path}.{index}" for index in range(1, 10))):
        try:
            handle = open(candidate, "rb")  # noqa: SIM115 - held open by the reader
        except OSError:
            continue
        if os.fstat(handle.fileno()).st_ino == inode:
            return handle
        handle.close()
    return None


def run_log_reader() -> RunLogReader | None:
    """A reader of this run's part of the support log file; None when there is no file."""
    from ayon_launcher.support.log import run_log_start, run_log_stream_inode

    start = run_log_start()
    if start is None:
        return None
    return RunLogReader(*start, stream_inode=run_log_stream_inode)


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
    """Read-only view of this run's log that follows new lines: the support log file when
    there is one (``reader``), else the in-memory buffer."""

    def __init__(self, buffer: LogBuffer, parent: QtWidgets.QWidget | None = None, *,
                 reader: RunLogReader | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("AYON - Log")
        self.setWindowIcon(QtGui.QIcon(logo_pixmap()))
        style_window(self)
        self.resize(800, 420)
        self.reader = reader
        self.view = QtWidgets.QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(FILE_MAX_LINES if reader is not None else MAX_LINES)
        self.view.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        copy = QtWidgets.QPushButton("Copy all")
        copy.clicked.connect(lambda: QtWidgets.QApplication.clipboard().setText(
            self.view.toPlainText()))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        row = QtWidgets.QHBoxLayout()
        self.file_label = QtWidgets.QLabel(f"Log file: {reader.path}" if reader else "")
        self.file_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.file_label, 1)
        row.addWidget(copy)
        layout.addLayout(row)
        if reader is None:
            self.view.setPlainText(buffer.text())
            buffer.relay.line.connect(self.view.appendPlainText)
            return
        self.view.setPlainText(reader.read_new())
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.follow)
        self._timer.start(FOLLOW_MS)

    def follow(self) -> None:
        """Append what the file gained (called every FOLLOW_MS)."""
        if self.reader is None:
            return
        text = self.reader.read_new()
        if text:
            self.view.appendPlainText(text)
