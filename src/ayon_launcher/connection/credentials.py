"""Where the server URL and tokens live: the system keyring, or a private file without one.

The keyring service is ``AYON launcher`` for the last server URL and ``AYON launcher <url>``
per server for the token and the user name. Where no keyring backend works (a headless Linux
box, a farm node), the same values go to ``credentials.json`` in the user's config folder,
readable only by the user (mode 0600).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths
from ..log import get_logger, register_secret

log = get_logger("connection")

SERVICE = "AYON launcher"
FALLBACK_FILE = "credentials.json"


@dataclass
class StoredLogin:
    """What is remembered for one server."""

    server_url: str
    token: str | None = None
    username: str | None = None


def _server_service(url: str) -> str:
    return f"{SERVICE} {url}"


class _KeyringBackend:
    def __init__(self) -> None:
        import keyring

        self._keyring = keyring

    def get(self, service: str, key: str) -> str | None:
        return self._keyring.get_password(service, key)

    def set(self, service: str, key: str, value: str | None) -> None:
        if value is None:
            try:
                self._keyring.delete_password(service, key)
            except self._keyring.errors.PasswordDeleteError:
                pass
        else:
            self._keyring.set_password(service, key, value)


class _FileBackend:
    """``{service: {key: value}}`` in one JSON file, created with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, service: str, key: str) -> str | None:
        value = (self._read().get(service) or {}).get(key)
        return value if isinstance(value, str) else None

    def set(self, service: str, key: str, value: str | None) -> None:
        data = self._read()
        section = data.setdefault(service, {})
        if value is None:
            section.pop(key, None)
            if not section:
                data.pop(service, None)
        else:
            section[key] = value
        self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
            os.chmod(tmp, 0o600)  # the umask may have taken bits away, never added any
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class CredentialStore:
    """Server URL, token and user name per server; keyring first, private file otherwise."""

    def __init__(self) -> None:
        self._backend: _KeyringBackend | _FileBackend | None = None
        self._lock = threading.Lock()

    def _get_backend(self) -> _KeyringBackend | _FileBackend:
        with self._lock:
            if self._backend is None:
                self._backend = self._choose_backend()
            return self._backend

    @staticmethod
    def _choose_backend() -> _KeyringBackend | _FileBackend:
        try:
            backend = _KeyringBackend()
            if type(backend._keyring.get_keyring()).__module__ == "keyring.backends.null":
                raise RuntimeError("the null keyring keeps nothing")
            backend.get(SERVICE, "server_url")  # raises when no backend works
            return backend
        except Exception as exc:  # noqa: BLE001 - any keyring failure means: use the file
            path = paths.config_dir() / FALLBACK_FILE
            log.debug("no usable keyring (%s); credentials are kept in %s (mode 0600)",
                      type(exc).__name__, path)
            return _FileBackend(path)

    @property
    def uses_keyring(self) -> bool:
        return isinstance(self._get_backend(), _KeyringBackend)

    def server_url(self) -> str | None:
        return self._get_backend().get(SERVICE, "server_url")

    def load(self, server_url: str) -> StoredLogin:
        backend = self._get_backend()
        service = _server_service(server_url)
        token = backend.get(service, "token")
        register_secret(token)
        return StoredLogin(server_url, token, backend.get(service, "username"))

    def save(self, login: StoredLogin) -> None:
        """Remember the URL (as the last one used), the token and the user name."""
        register_secret(login.token)
        backend = self._get_backend()
        service = _server_service(login.server_url)
        backend.set(SERVICE, "server_url", login.server_url)
        backend.set(service, "token", login.token)
        if login.username:
            backend.set(service, "username", login.username)

    def forget_server(self, server_url: str) -> None:
        """Drop everything kept for ``server_url``, and the last-URL entry when it is this one."""
        backend = self._get_backend()
        service = _server_service(server_url)
        backend.set(service, "token", None)
        backend.set(service, "username", None)
        if backend.get(SERVICE, "server_url") == server_url:
            backend.set(SERVICE, "server_url", None)

    def forget_token(self, server_url: str) -> None:
        """Drop the token of ``server_url``; the URL and user name stay for the next login."""
        self._get_backend().set(_server_service(server_url), "token", None)


_STORE: CredentialStore | None = None


def credential_store() -> CredentialStore:
    global _STORE
    if _STORE is None:
        _STORE = CredentialStore()
    return _STORE
