"""Run the local server with uvicorn in a background thread (CLI and tests share this)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ayon_launcher.localserver.store import Store
from ayon_launcher.support.errors import LauncherError

LOOPBACK = "127.0.0.1"


def ensure_port_free(host: str, port: int) -> None:
    """A taken port as one clear LauncherError, before uvicorn logs its own about it."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LauncherError(f"Local server could not start on {host}:{port}: "
                                f"{exc.strerror or exc} (is the port already in use?)") from None


class LocalServer:
    """The local AYON-compatible server bound to ``host:port`` (port 0 picks a free one)."""

    def __init__(self, data_dir: Path, host: str = LOOPBACK, port: int = 0,
                 token_lifetime: float | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.store = Store(self.data_dir)
        if token_lifetime is not None:
            self.store.token_lifetime = float(token_lifetime)
        self._server = None
        self._thread: threading.Thread | None = None
        self._app = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Start serving in a daemon thread and wait until the socket listens."""
        import uvicorn

        from ayon_launcher.localserver.app import create_app

        if self._thread is not None and self._thread.is_alive():
            return
        if self.port:
            ensure_port_free(self.host, self.port)
        if self._app is None:
            self._app = create_app(self.store)
        # Quiet: no access log (URLs may carry names), warnings only.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.WARNING)
        config = uvicorn.Config(
            self._app, host=self.host, port=self.port, log_level="warning",
            access_log=False, lifespan="off", server_header=False, timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(target=server.run, name="ayon-local-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                raise LauncherError(
                    f"Local server could not start on {self.host}:{self.port}"
                    " (is the port already in use?)"
                )
            if time.monotonic() > deadline:
                raise LauncherError("Local server did not start in time")
            time.sleep(0.01)
        sockets = [s for srv in (server.servers or []) for s in (srv.sockets or [])]
        if sockets:
            self.port = sockets[0].getsockname()[1]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; the same port is reused by a later :meth:`start`."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        self._server = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C stops it)."""
        try:
            while self.is_running():
                self._thread.join(0.5)  # type: ignore[union-attr]
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def close(self) -> None:
        self.stop()
        self.store.close()
