"""Start a local server for tests (and scripts): ``with start_test_server(tmp) as server: ...``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ayon_launcher.localserver.server import LocalServer
from ayon_launcher.localserver.store import Store


class TestServer:
    """A running local server with its credentials and helpers to change data directly."""

    __test__ = False  # not a pytest test class

    def __init__(self, server: LocalServer, admin_user: str, admin_password: str,
                 service_api_key: str) -> None:
        self._server = server
        self.admin_user = admin_user
        self.admin_password = admin_password
        self.service_api_key = service_api_key

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def data_dir(self) -> Path:
        return self._server.data_dir

    @property
    def store(self) -> Store:
        return self._server.store

    def set_token_lifetime(self, seconds: float) -> None:
        """Lifetime of session tokens issued from now on."""
        self.store.token_lifetime = float(seconds)

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def is_running(self) -> bool:
        return self._server.is_running()

    def revoke_api_key(self, key: str) -> bool:
        return self.store.revoke_api_key(key)

    def create_api_key(self, user: str) -> str:
        return self.store.create_api_key(user)

    def login_token(self, user: str | None = None, lifetime: float | None = None) -> str:
        """A session token for ``user`` (admin by default) without an HTTP login."""
        return self.store.issue_token(user or self.admin_user, lifetime)

    def add_addon_zip(self, path: str | Path) -> dict[str, Any]:
        """Install an add-on package zip as if uploaded; returns ``{"name", "version"}``."""
        from ayon_launcher.localserver.addon_packages import install_addon_package

        return install_addon_package(self.store, Path(path).read_bytes())

    def create_bundle(self, name: str, addons: dict[str, str],
                      dependency_packages: dict[str, str] | None = None, *,
                      is_production: bool = False, is_staging: bool = False,
                      is_dev: bool = False, active_user: str | None = None,
                      installer_version: str | None = None) -> dict[str, Any]:
        from ayon_launcher.localserver.bundles import create_bundle

        return create_bundle(self.store, {
            "name": name,
            "addons": addons,
            "dependencyPackages": dependency_packages or {},
            "isProduction": is_production,
            "isStaging": is_staging,
            "isDev": is_dev,
            "activeUser": active_user,
            "installerVersion": installer_version,
        })

    def update_bundle(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change a bundle; keys as the REST API names them (isProduction, addons, ...)."""
        from ayon_launcher.localserver.bundles import update_bundle

        return update_bundle(self.store, name, changes)

    def delete_bundle(self, name: str) -> bool:
        return self.store.delete("bundle", name)

    def bundles(self) -> list[dict[str, Any]]:
        return self.store.list("bundle")


@contextmanager
def start_test_server(data_dir: str | Path, demo: bool = True,
                      token_lifetime: float | None = None) -> Iterator[TestServer]:
    """Seed (demo data or just the users) and run a local server on a free loopback port."""
    from ayon_launcher.localserver.seed import ADMIN_PASSWORD, ADMIN_USER, ensure_users, seed_demo

    server = LocalServer(Path(data_dir), token_lifetime=token_lifetime)
    credentials = seed_demo(server.store) if demo else ensure_users(server.store)
    server.start()
    try:
        yield TestServer(server, ADMIN_USER, ADMIN_PASSWORD, credentials["service_api_key"])
    finally:
        server.close()
