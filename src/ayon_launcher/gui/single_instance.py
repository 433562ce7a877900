"""One tray per user: a local socket named after the user and the local folder."""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Callable

from qtpy import QtCore, QtNetwork

from ayon_launcher.support.paths import local_dir

# What a second tray sends to the running one: bring your window forward.
_SHOW = b"show\n"


def socket_name() -> str:
    """The tray's socket name: one per user and local folder (launchers of one user that keep
    their files apart, as the tests do, do not see each other)."""
    key = f"{getpass.getuser()}\0{local_dir().resolve()}"
    return "ayon-launcher-tray-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def ask_running_tray(timeout_ms: int = 1000) -> bool:
    """True when a tray of this user runs and was asked to bring its window forward."""
    client = QtNetwork.QLocalSocket()
    client.connectToServer(socket_name())
    if not client.waitForConnected(timeout_ms):
        return False
    client.write(_SHOW)
    client.flush()
    client.waitForBytesWritten(timeout_ms)
    client.disconnectFromServer()
    return True


class TrayServer(QtCore.QObject):
    """Listens for second trays; ``on_show`` runs (UI thread) each time one knocks."""

    def __init__(self, on_show: Callable[[], None]) -> None:
        super().__init__()
        self._on_show = on_show
        self.other_tray = False  # set by listen: another tray runs and has the name
        self._lock: QtCore.QLockFile | None = None
        self.server = QtNetwork.QLocalServer(self)
        self.server.setSocketOptions(QtNetwork.QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Start listening; False when another tray has the name or it cannot be had.

        The name is taken under a lock file held while the tray runs (a lock of a process
        that died is stale at once): Qt's listen replaces a socket file that is there, so two
        trays started at the same time (a double click on the icon), each having asked before
        the other listened, would both listen. The one without the lock asks the other to come
        forward and sets ``other_tray``.
        """
        import tempfile

        self.other_tray = False
        name = socket_name()
        self._lock = QtCore.QLockFile(f"{tempfile.gettempdir()}/{name}.lock")
        self._lock.setStaleLockTime(0)
        if not self._lock.tryLock(0):
            for _ in range(50):  # the other tray may be about to listen
                if ask_running_tray():
                    break
                QtCore.QThread.msleep(100)
            self.other_tray = True
            return False
        QtNetwork.QLocalServer.removeServer(name)  # left by a tray that died
        return self.server.listen(name)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(connection.deleteLater)
            if connection.bytesAvailable():
                self._read(connection)

    def _read(self, connection: QtNetwork.QLocalSocket) -> None:
        if bytes(connection.readAll().data()).startswith(_SHOW.strip()):
            self._on_show()

    def close(self) -> None:
        self.server.close()
        if self._lock is not None:
            self._lock.unlock()
