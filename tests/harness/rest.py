"""Admin calls both test servers answer through the same public REST routes (the shared part)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import requests

SERVICE_USER = "service"
DEV_BUNDLE = "demo_dev"
DEV_USER = "admin"


class RestAdmin:
    """Mixin: bundle, dependency package, settings and session calls over HTTP as the admin.

    The class using it provides ``url``, ``admin_user`` and ``admin_password``.
    """

    url: str
    admin_user: str
    admin_password: str
    _admin_token: str | None = None
    _passwords: dict[str, str]

    def _token(self) -> str:
        if self._admin_token is None:
            self._admin_token = self.login_token(self.admin_user)
        return self._admin_token

    def request(self, method: str, path: str, *, token: str | None = None,
                expect: tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> requests.Response:
        """An admin REST call; raises with the server's answer when the status is unexpected."""
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or self._token()}")
        response = requests.request(method, self.url + path, headers=headers,
                                    timeout=kwargs.pop("timeout", 60), **kwargs)
        if response.status_code == 401 and token is None and self._admin_token:
            self._admin_token = None  # the server restarted or forgot the session: log in again
            headers["Authorization"] = f"Bearer {self._token()}"
            response = requests.request(method, self.url + path, headers=headers, timeout=60,
                                        **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def admin_api(self) -> Any:
        """A new ``ayon_api.ServerAPI`` logged in as the admin."""
        import ayon_api

        api = ayon_api.ServerAPI(self.url)
        api.login(self.admin_user, self.admin_password)
        return api

    def password_of(self, user: str) -> str:
        if user == self.admin_user:
            return self.admin_password
        return getattr(self, "_passwords", {})[user]

    def login_token(self, user: str | None = None, password: str | None = None) -> str:
        """A session token from a real ``POST /api/auth/login``."""
        user = user or self.admin_user
        password = self.password_of(user) if password is None else password
        response = requests.post(self.url + "/api/auth/login",
                                 json={"name": user, "password": password}, timeout=30)
        if response.status_code != 200 or not response.json().get("token"):
            raise RuntimeError(f"login of {user} failed: {response.status_code}")
        return response.json()["token"]

    def revoke_token(self, token: str) -> None:
        """End a session as a logout does."""
        requests.post(self.url + "/api/auth/logout",
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def token_is_valid(self, token: str) -> bool:
        response = requests.get(self.url + "/api/users/me",
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
        return response.status_code == 200

    def _remember_password(self, name: str, password: str) -> None:
        if not hasattr(self, "_passwords"):
            self._passwords = {}
        self._passwords[name] = password

    def create_hierarchy(self, project: str,
                         hierarchy: dict[str, tuple[str, list[tuple[str, str]]]]
                         ) -> dict[str, str]:
        """Folders (parents first: ``"a/b": (folder_type, [(task, task_type), ...])``) and
        their tasks over REST; returns each path's folder id."""
        ids: dict[str, str] = {}
        for path, (folder_type, tasks) in hierarchy.items():
            parent, _, folder_name = path.rpartition("/")
            body: dict[str, Any] = {"name": folder_name, "folderType": folder_type}
            if parent:
                body["parentId"] = ids[parent]
            ids[path] = self.request("POST", f"/api/projects/{project}/folders",
                                     json=body).json()["id"]
            for task_name, task_type in tasks:
                self.request("POST", f"/api/projects/{project}/tasks",
                             json={"name": task_name, "taskType": task_type,
                                   "folderId": ids[path]})
        return ids

    def upload_dependency_package(self, zip_path: str | Path, *, platform: str | None = None,
                                  source_addons: dict[str, str] | None = None,
                                  python_modules: dict[str, str] | None = None,
                                  installer_version: str | None = None) -> dict[str, Any]:
        """Register a dependency package (md5 checksum, as ynput's tools send) and upload it."""
        from ayon_launcher import __version__
        from ayon_launcher.localserver.seed import platform_name

        zip_path = Path(zip_path)
        data = zip_path.read_bytes()
        record = {
            "filename": zip_path.name,
            "platform": platform or platform_name(),
            "size": len(data),
            "checksum": hashlib.md5(data).hexdigest(),
            "checksumAlgorithm": "md5",
            "installerVersion": installer_version or __version__,
            "sourceAddons": source_addons or {},
            "pythonModules": python_modules or {},
            "sources": [{"type": "server", "filename": zip_path.name}],
        }
        self.request("POST", "/api/desktop/dependencyPackages?force=true", json=record)
        self.request("PUT", f"/api/desktop/dependencyPackages/{zip_path.name}", data=data,
                     headers={"Content-Type": "application/octet-stream"})
        return record

    def create_bundle(self, name: str, addons: dict[str, str],
                      dependency_packages: dict[str, str] | None = None, *,
                      is_production: bool = False, is_staging: bool = False,
                      is_dev: bool = False, active_user: str | None = None,
                      installer_version: str | None = None,
                      addon_development: dict[str, Any] | None = None) -> dict[str, Any]:
        from ayon_launcher.bootstrapper.selfupdate.identity import installer_version as running

        body: dict[str, Any] = {
            "name": name, "addons": addons, "dependencyPackages": dependency_packages or {},
            # The running launcher's own installer version: no switch, no contract check.
            "installerVersion": installer_version or running(),
            "isProduction": is_production, "isStaging": is_staging, "isDev": is_dev,
        }
        if active_user is not None:
            body["activeUser"] = active_user
        if addon_development is not None:
            body["addonDevelopment"] = addon_development
        self.request("POST", "/api/bundles?force=true", json=body)
        return self.bundle(name)

    def bundles(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/bundles").json().get("bundles", [])

    def bundle(self, name: str) -> dict[str, Any]:
        for bundle in self.bundles():
            if bundle.get("name") == name:
                return bundle
        raise KeyError(name)

    def update_bundle(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change a bundle; keys as the REST API names them (isProduction, addons, ...)."""
        self.request("PATCH", f"/api/bundles/{name}?force=true", json=changes)
        return self.bundle(name)

    def delete_bundle(self, name: str) -> bool:
        response = self.request("DELETE", f"/api/bundles/{name}", expect=(200, 204, 404))
        return response.status_code != 404

    def set_addon_settings(self, name: str, version: str, values: dict[str, Any], *,
                           project: str | None = None, variant: str = "production") -> None:
        path = f"/api/addons/{name}/{version}/settings"
        if project:
            path += f"/{project}"
        self.request("POST", f"{path}?variant={variant}", json=values)

    def addon_settings(self, name: str, version: str, *, project: str | None = None,
                       variant: str = "production") -> dict[str, Any]:
        path = f"/api/addons/{name}/{version}/settings"
        if project:
            path += f"/{project}"
        return self.request("GET", f"{path}?variant={variant}").json()
