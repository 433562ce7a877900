"""The embedded server behind the same test interface as the real one (``RealServer``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ayon_launcher.localserver.testing import TestServer, start_test_server

from .rest import DEV_BUNDLE, DEV_USER, RestAdmin


class EmbeddedServer(RestAdmin):
    """A demo-seeded embedded server; REST wherever the embedded server offers the route."""

    kind = "embedded"

    def __init__(self, server: TestServer) -> None:
        self.test_server = server
        self.admin_user = server.admin_user
        self.admin_password = server.admin_password
        self.service_api_key = server.service_api_key
        self.projects_root = server.store.projects_dir
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return self.test_server.url

    @property
    def store(self) -> Any:
        return self.test_server.store

    def seed_dev_bundle(self) -> None:
        """The dev bundle the real harness seeds too (the embedded demo seed has none)."""
        from ayon_launcher.localserver import seed

        staging = self.bundle(seed.STAGING_BUNDLE)
        self.create_bundle(DEV_BUNDLE, staging["addons"], staging.get("dependencyPackages"),
                           is_dev=True, active_user=DEV_USER)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.test_server.start()

    def stop(self) -> None:
        self.test_server.stop()

    def restart(self) -> None:
        self.test_server.stop()
        self.test_server.start()

    def is_running(self) -> bool:
        return self.test_server.is_running()

    def stop_database(self) -> None:
        raise NotImplementedError("the embedded server has no separate database")

    def start_database(self) -> None:
        raise NotImplementedError("the embedded server has no separate database")

    # -- what the embedded server has no REST route for -------------------------------------

    def create_user(self, name: str, password: str | None, *, is_admin: bool = False,
                    is_service: bool = False) -> None:
        self.store.create_user(name, password, is_admin=is_admin, is_service=is_service,
                               full_name=name)
        if password is not None:
            self._remember_password(name, password)

    def create_api_key(self, user: str) -> str:
        return self.test_server.create_api_key(user)

    def expire_token(self, token: str) -> None:
        """Let a session run out (its expiry set in the past, so that no test waits)."""
        from ayon_launcher.localserver.store import secret_digest

        digest = secret_digest(token)
        self.store.put("token", digest, {**self.store.get("token", digest), "expires": 0})

    def install_addon_zip(self, path: str | Path) -> dict[str, Any]:
        """Upload an add-on package through ``POST /api/addons/install``."""
        from ayon_launcher.localserver.addon_packages import open_zip, read_package_info

        data = Path(path).read_bytes()
        self.request("POST", "/api/addons/install", data=data,
                     headers={"Content-Type": "application/octet-stream"})
        with open_zip(data) as archive:
            info = read_package_info(archive.read("package.py").decode("utf-8"))
        return {"name": info["name"], "version": info["version"]}

    def create_project(self, name: str, code: str,
                       hierarchy: dict[str, tuple[str, list[tuple[str, str]]]] | None = None,
                       *, attrib: dict[str, Any] | None = None) -> dict[str, str]:
        """A project with the demo anatomy, then its folders and tasks over REST."""
        from ayon_launcher.localserver.seed import create_project

        create_project(self.store, name, code, self.projects_root)
        if attrib:  # the real server's PATCH /api/projects/{name}; the embedded one has none
            raise NotImplementedError("project attributes need the real server")
        return self.create_hierarchy(name, hierarchy or {})


@contextlib.contextmanager
def start_embedded_server(workdir: Path) -> Iterator[EmbeddedServer]:
    """A demo-seeded embedded server with the same seed as the real harness."""
    with start_test_server(workdir, demo=True) as server:
        handle = EmbeddedServer(server)
        handle.seed_dev_bundle()
        yield handle
