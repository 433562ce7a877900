"""The embedded default: start (or reuse) the local demo server for ``ayon --local-server``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.localserver.server import LocalServer

log = get_logger("localserver")

PORT_ENV = "AYON_LOCAL_SERVER_PORT"
DEFAULT_PORT = 5000


@dataclass
class EmbeddedServer:
    """Where the launcher connects: the URL and the demo service user's API key."""

    url: str
    api_key: str
    server: LocalServer | None  # the one this process runs, None when one was reused

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def _port() -> int:
    from ayon_launcher.support.envconfig import env_int

    return env_int(PORT_ENV, DEFAULT_PORT, minimum=0, maximum=65535)


def _serves_this_data(url: str, api_key: str) -> bool:
    """Whether ``url`` is a server of this data folder: it knows our service key."""
    import requests

    try:
        response = requests.get(f"{url}/api/users/me", headers={"X-Api-Key": api_key},
                                timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200


def start_embedded(data_dir: Path | None = None, port: int | None = None) -> EmbeddedServer:
    """A demo-seeded local server on ``127.0.0.1:5000`` (``AYON_LOCAL_SERVER_PORT``).

    When that port already serves this data folder (another launcher, or ``ayon server``),
    it is reused; when the port is taken by something else, a free port is used.
    """
    from ayon_launcher.localserver.seed import seed_demo
    from ayon_launcher.localserver.server import LOOPBACK, LocalServer
    from ayon_launcher.support import paths
    from ayon_launcher.support.errors import LauncherError

    data_dir = data_dir or paths.local_server_dir()
    port = _port() if port is None else port
    server = LocalServer(data_dir, port=port)
    credentials = seed_demo(server.store)
    url = f"http://{LOOPBACK}:{port}"
    try:
        server.start()
    except LauncherError:
        if port and _serves_this_data(url, credentials["service_api_key"]):
            server.store.close()
            log.debug("reusing the local server already running at %s", url)
            return EmbeddedServer(url, credentials["service_api_key"], None)
        server = LocalServer(data_dir, port=0)
        server.start()
    log.info("embedded local AYON server at %s (data in %s)", server.url, data_dir)
    return EmbeddedServer(server.url, credentials["service_api_key"], server)
