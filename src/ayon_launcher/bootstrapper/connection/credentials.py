"""Where the server URL and tokens live: the system keyring, or a private file without one.

The keyring service is ``AYON launcher`` for the last server URL and ``AYON launcher <url>``
per server for the token and the user name. Where no keyring backend works (a headless Linux
box, a farm node), or where the keyring reads but refuses to save (a locked keychain), the
same values go to ``credentials.json`` in the user's config folder, readable only by the user
(mode 0600). A value in that file wins over the keyring's: it is only there because the
keyring refused it, and a later keyring save removes it from the file.

Until this launcher has saved a login of its own, it also reads what ynput's official
launcher keeps, so that a studio swapping launchers does not make every artist log in again:
its token in the keyring (service ``AYON/{url}``, key ``username``: the key name is fixed,
the value is the token) and its last server and user names in ``used_servers.json`` of the
local folder (``last_server``, ``urls[url].username``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ayon_launcher.support import paths
from ayon_launcher.support.atomicfile import write_bytes_atomic, write_json_atomic
from ayon_launcher.support.errors import LauncherError
from ayon_launcher.support.log import get_logger, register_secret
from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger("connection")

SERVICE = "AYON launcher"
FALLBACK_FILE = "credentials.json"
BACKUP_SUFFIX = ".bad"
# Set once this launcher saved a login: from then on the official launcher's entries are
# not read any more (a logout here must not bring its token back).
OWN_LOGIN_MARKER = "has_own_login"
OFFICIAL_SERVICE = "AYON/{url}"
OFFICIAL_TOKEN_KEY = "username"
OFFICIAL_SERVERS_FILE = "used_servers.json"


class CredentialsNotSaved(LauncherError):
    """The login could not be written (config folder not writable, not a folder, ...)."""


class StoredLogin(Record):
    """What is remembered for one server."""

    _fields = ("server_url", "token", "username", "from_official")

    def __init__(self, server_url: str, token: str | None = None, username: str | None = None,
                 from_official: bool = False) -> None:
        self.server_url = server_url
        self.token = token
        self.username = username
        self.from_official = from_official  # read from the official launcher's entries


def _server_service(url: str) -> str:
    return f"{SERVICE} {url}"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


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
    """``{service: {key: value}}`` in one JSON file, created with mode 0600.

    ``secondary``: the file only backs a keyring that refused a write, so a file that cannot
    be read is logged at debug level and read as empty instead of stopping the launcher.
    """

    def __init__(self, path: Path, secondary: bool = False) -> None:
        self.path = path
        self.secondary = secondary
        self._bad_content: bytes | None = None  # what a malformed file held, for the backup
        self._warned = False

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)

    def _read(self) -> dict[str, dict[str, str]]:
        self._bad_content = None
        try:
            raw = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return {}  # nothing stored (yet); a folder that is a file fails on the first save
        except OSError as exc:
            message = (f"cannot read the stored logins in {self.path}: {_reason(exc)} "
                       "(fix its permissions, or set AYON_LAUNCHER_CONFIG_DIR)")
            if self.secondary:
                log.debug("%s", message)
                return {}
            raise LauncherError(message) from None
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError is one too
            data = None
        if not isinstance(data, dict):
            self._bad_content = raw
            self._warn_malformed("not valid JSON" if data is None else "not a JSON object")
            return {}
        # A section that is not an object (a hand edit) holds nothing usable: ignored.
        return {service: {key: value for key, value in section.items() if isinstance(value, str)}
                for service, section in data.items() if isinstance(section, dict)}

    def _warn_malformed(self, why: str) -> None:
        if self._warned:
            return
        self._warned = True
        log.log(10 if self.secondary else 30,  # DEBUG, WARNING (logging is not imported)
                "ignoring unreadable credentials file %s (%s); it will be replaced on the next "
                "login, keeping a copy in %s", self.path, why, self.backup_path.name)

    def get(self, service: str, key: str) -> str | None:
        return self._read().get(service, {}).get(key)

    def set(self, service: str, key: str, value: str | None) -> None:
        data = self._read()
        if value is None:
            section = data.get(service, {})
            if key not in section:
                return  # nothing to forget: no write (the folder may not even be writable)
            del section[key]
            if not section:
                del data[service]
        else:
            data.setdefault(service, {})[key] = value
        self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        try:
            if self._bad_content is not None:
                # The malformed file may still be someone's hand-edited logins: keep them.
                write_bytes_atomic(self.backup_path, self._bad_content, private=True)
                self._bad_content = None
            write_json_atomic(self.path, data, private=True)
        except OSError as exc:
            raise CredentialsNotSaved(
                f"cannot save the login in {self.path}: {_reason(exc)} "
                "(set AYON_LAUNCHER_CONFIG_DIR)") from None


class CredentialStore:
    """Server URL, token and user name per server; keyring first, private file otherwise."""

    def __init__(self) -> None:
        self._chosen = False
        self._keyring: _KeyringBackend | None = None
        self._file: _FileBackend | None = None
        self._lock = threading.RLock()

    def _backends(self) -> tuple[_KeyringBackend | None, _FileBackend]:
        with self._lock:
            if not self._chosen:
                self._keyring = self._usable_keyring()
                path = paths.config_dir() / FALLBACK_FILE
                self._file = _FileBackend(path, secondary=self._keyring is not None)
                if self._keyring is None:
                    log.debug("credentials are kept in %s (mode 0600)", path)
                self._chosen = True
            assert self._file is not None
            return self._keyring, self._file

    @staticmethod
    def _usable_keyring() -> _KeyringBackend | None:
        try:
            backend = _KeyringBackend()
            if type(backend._keyring.get_keyring()).__module__ == "keyring.backends.null":
                raise RuntimeError("the null keyring keeps nothing")
            backend.get(SERVICE, "server_url")  # raises when no backend works
            return backend
        except Exception as exc:  # noqa: BLE001 - any keyring failure means: use the file
            log.debug("no usable keyring (%s)", type(exc).__name__)
            return None

    def _get(self, service: str, key: str) -> str | None:
        keyring, file = self._backends()
        value = file.get(service, key)
        if value is not None or keyring is None:
            return value
        return keyring.get(service, key)

    def _set(self, service: str, key: str, value: str | None) -> None:
        with self._lock:
            keyring, file = self._backends()
            if keyring is not None:
                try:
                    keyring.set(service, key, value)
                except Exception as exc:  # noqa: BLE001 - a locked keyring, a refused write
                    log.debug("the keyring refused to save (%s); using the private file %s "
                              "(mode 0600) instead", type(exc).__name__, file.path)
                    self._keyring = None
                    file.secondary = False  # from now on the file is where logins live
                else:
                    file.set(service, key, None)  # an older value there would hide this one
                    return
            file.set(service, key, value)

    @property
    def uses_keyring(self) -> bool:
        return self._backends()[0] is not None

    @property
    def file_path(self) -> Path:
        return self._backends()[1].path

    def server_url(self) -> str | None:
        url = self._get(SERVICE, "server_url")
        if url is None and self._may_read_official():
            url = _official_servers().get("last_server") or None
            if url:
                log.debug("using the official AYON launcher's last server %s", url)
        return url if isinstance(url, str) else None

    def load(self, server_url: str) -> StoredLogin:
        service = _server_service(server_url)
        token = self._get(service, "token")
        username = self._get(service, "username")
        if token is None and username is None and self._may_read_official():
            official = self._official_login(server_url)
            if official.token or official.username:
                return official
        register_secret(token)
        return StoredLogin(server_url, token, username)

    def _may_read_official(self) -> bool:
        return self._get(SERVICE, OWN_LOGIN_MARKER) is None

    def _official_login(self, server_url: str) -> StoredLogin:
        """What the official launcher keeps for ``server_url`` (read only, never changed)."""
        keyring, _file = self._backends()
        token = None
        if keyring is not None:
            try:
                token = keyring.get(OFFICIAL_SERVICE.format(url=server_url), OFFICIAL_TOKEN_KEY)
            except Exception as exc:  # noqa: BLE001 - an unreadable entry: just not used
                log.debug("cannot read the official launcher's login (%s)", type(exc).__name__)
        register_secret(token)
        urls = _official_servers().get("urls")
        entry = urls.get(server_url) if isinstance(urls, dict) else None
        username = entry.get("username") if isinstance(entry, dict) else None
        if token:
            log.debug("found the official AYON launcher's login for %s", server_url)
        return StoredLogin(server_url, token or None,
                           username if isinstance(username, str) else None, True)

    def save(self, login: StoredLogin) -> None:
        """Remember the URL (as the last one used), the token and the user name.

        Raises CredentialsNotSaved when neither the keyring nor the private file takes them.
        """
        register_secret(login.token)
        service = _server_service(login.server_url)
        self._set(SERVICE, "server_url", login.server_url)
        self._set(service, "token", login.token)
        if login.username:
            self._set(service, "username", login.username)
        self._set(SERVICE, OWN_LOGIN_MARKER, "1")

    def forget_server(self, server_url: str) -> None:
        """Drop everything kept for ``server_url``, and the last-URL entry when it is this one."""
        service = _server_service(server_url)
        self._set(service, "token", None)
        self._set(service, "username", None)
        if self.server_url() == server_url:
            self._set(SERVICE, "server_url", None)

    def forget_token(self, server_url: str) -> None:
        """Drop the token of ``server_url``; the URL and user name stay for the next login."""
        self._set(_server_service(server_url), "token", None)


def _official_servers() -> dict[str, Any]:
    """The official launcher's ``used_servers.json`` ({} when absent or unreadable)."""
    path = paths.local_dir() / OFFICIAL_SERVERS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


_STORE: CredentialStore | None = None


def credential_store() -> CredentialStore:
    global _STORE
    if _STORE is None:
        _STORE = CredentialStore()
    return _STORE
