"""Warm start: one look at the server tells that nothing changed since the last good start.

A start whose bundle is installed already (the common case: a farm node runs ``ayon
script.py`` thousands of times a day) needs from the server only the answer to "is what I
installed last time still what I must run, with these credentials?". After each complete
online bootstrap, :func:`remember` keeps what that start depended on, per server, credential
and bundle choice, in ``state/warm_start.json`` (private: it holds the bundle's studio
settings). The next start asks the server over a plain socket (no ayon_api, requests, urllib3
or http.client to import):

* ``GET /api/bundles``: it answers only a valid token or API key (401 otherwise) and lists
  the bundles; the bundle chosen from it (production, staging, ``--bundle``, project bundle)
  must be the recorded one, field for field (add-on versions, dependency packages, launcher
  version, flags). The real server has no ETag or change counter for bundles, so the answer
  is compared with the record.
* ``GET /api/projects/{name}`` only with ``--project`` (the project's ``data.bundle`` names its
  project bundle, which can change without any bundle changing);
* ``GET /api/settings?bundle_name=...&variant=...`` only for a bundle without the ``core``
  add-on: the built-in pipeline gives the add-ons their studio settings, which can change
  without the bundle changing (ayon-core reads its settings itself).

When all answers match, the recorded bundle is claimed (marked in use under the store lock),
its installed items get the usual start-up check (``store.damaged_items``) and it stays the
most recent in the history of installed bundles (the clean-up's order); then it starts
as the full bootstrap would, with the connection (ayon_api) made only when a command uses it.
Anything else (no record, another server, user or token, a changed bundle or settings, a
refused token, a damaged item, a proxy, ``--verify``, ``--use-dev``) returns None and the full
bootstrap runs, with its own errors and repairs. A server that cannot be reached raises the
same ServerUnreachableError as the full bootstrap's login check (the caller starts offline).

Known limit: an archive replaced on the server under the same add-on version or dependency
package file name is not looked for (add-on archives have no checksum in the server's listing
anyway); a changed bundle, ``--verify`` or a damaged install brings the full bootstrap.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import ayon_api

    from ayon_launcher.bootstrapper.connection.login import Session
    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.bootstrapper.distribution.models import Bundle
    from ayon_launcher.bootstrapper.distribution.store import InstalledBundle

RECORD_FILE = "warm_start.json"
FORMAT = 1
MAX_ENTRIES = 8  # records kept (server x credential x bundle choice), most recent first


def record_path() -> str:
    """``warm_start.json`` in the launcher's state folder."""
    from ayon_launcher.support import paths

    return os.path.join(paths.state_folder(), RECORD_FILE)


# -- the record ------------------------------------------------------------------------------


def _fingerprint(token: str) -> str:
    """A one-way digest of the token: tells a changed credential, never gives it back."""
    try:  # CPython's own small sha256 module: hashlib would load OpenSSL's library first
        from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef]
        except ImportError:
            from hashlib import sha256  # type: ignore[no-redef]
    return sha256(b"ayon-launcher warm start\0" + token.encode()).hexdigest()


def _key(ctx: LauncherContext, server_url: str, token: str) -> str:
    """What a record is valid for: launcher version, server, credential, bundle choice and
    store folders."""
    from ayon_launcher import __version__
    from ayon_launcher.support import paths

    parts = [FORMAT, __version__, server_url.rstrip("/"), _fingerprint(token), ctx.bundle_name,
             ctx.project_bundle_name, ctx.project_name, bool(ctx.use_staging),
             paths.addons_folder(), paths.dependency_packages_folder()]
    return json.dumps(parts)


def _read_entries() -> dict[str, Any]:
    try:
        with open(record_path(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def remember(ctx: LauncherContext, studio: Bundle, bundle: Bundle,
             installed: InstalledBundle, project_bundles: dict[str, Any] | None) -> None:
    """Record what this complete online start depended on, for the next start's check.

    Called after the full bootstrap installed ``installed`` (``bundle`` over ``studio``).
    Dev bundles are not recorded (their add-ons come from folders being worked on). A record
    that cannot be written only costs the next start its warm path.
    """
    import time
    from urllib.parse import urlencode

    from ayon_launcher.bootstrapper.runtime import is_core_bundle
    from ayon_launcher.bootstrapper.selfupdate import official_launcher_run
    from ayon_launcher.support.log import get_logger

    token, url = ctx.token, ctx.server_url
    if not token or not url or ctx.use_dev or studio.is_dev:
        return
    core = is_core_bundle({addon.name for addon in installed.addons})
    entry = {
        "studio": studio.raw,
        "bundle": None if bundle is studio else bundle.raw,
        "project_bundles": project_bundles if ctx.project_name else None,
        # The settings request of distribute.fetch_settings, for a built-in pipeline bundle.
        "settings_path": None if core else "/api/settings?" + urlencode(
            {"bundle_name": bundle.name, "variant": bundle.variant}),
        # The server's address taken apart once, here (the next start does not import
        # urllib.parse): the URL of this record's key was checked by this start's login.
        "connection": _connection_parts(url),
        "installed": installed.to_dict(),
        "username": ctx.extra.get("username"),
        "is_service": bool(ctx.extra.get("is_service")),
        # Reached only when the self-update let this launcher run the bundle.
        "official_launcher": official_launcher_run(studio.raw.get("installerVersion")),
        "used": time.time(),
    }
    entries = _read_entries()
    entries[_key(ctx, url, token)] = entry
    kept = sorted(entries.items(), key=lambda item: -float(item[1].get("used") or 0))
    try:
        from ayon_launcher.support.atomicfile import write_json_atomic

        # Private: it keeps the bundle's studio settings, which may hold add-on credentials.
        # Not flushed to disk (the last write before the command runs): a record a power cut
        # takes away only costs the next start its warm path.
        write_json_atomic(record_path(), {"format": FORMAT, "entries": dict(kept[:MAX_ENTRIES])},
                          private=True, durable=False)
    except OSError as exc:
        get_logger("bootstrap").debug("cannot write the warm-start record: %s", exc)


def _connection_parts(server_url: str) -> dict[str, Any]:
    """What the warm check's client needs of ``server_url``: scheme, host, port, the path the
    API paths go under and the Host header."""
    from urllib.parse import urlsplit

    parts = urlsplit(server_url)
    scheme = parts.scheme.lower()
    return {"scheme": scheme, "host": parts.hostname or "",
            "port": parts.port or (443 if scheme == "https" else 80),
            "base": parts.path.rstrip("/"), "netloc": parts.netloc}


def forget() -> None:
    """Drop every record (the next start runs the full bootstrap)."""
    try:
        os.remove(record_path())
    except OSError:
        pass


# -- the check -------------------------------------------------------------------------------


def _proxied() -> bool:
    """A proxy is configured: requests would use it, the plain socket here would not."""
    return any(name.lower().endswith("_proxy") and name.lower() != "no_proxy" and value
               for name, value in os.environ.items())


def _server_url(ctx: LauncherContext) -> str | None:
    """The URL the full bootstrap would use (the environment's wins over the stored one), as
    its rules write it (spaces and trailing slashes off), without checking it: only a URL
    that a full start checked has a record (see ``remember``), and one that differs from it
    in those characters alone passes the same checks. A bad URL finds no record, and the full
    bootstrap says what is wrong with it."""
    from ayon_launcher.bootstrapper.connection.urls import SERVER_URL_ENV

    url = os.environ.get(SERVER_URL_ENV) or ctx.server_url
    if not url:
        from ayon_launcher.bootstrapper.connection.credentials import credential_store

        url = credential_store().server_url()
    return url.strip().rstrip("/") or None if url else None


def _token(url: str) -> str | None:
    """AYON_API_KEY, else this launcher's stored token for ``url`` (the official launcher's
    is adopted by the full bootstrap first)."""
    from ayon_launcher.bootstrapper.connection.session import API_KEY_ENV

    key = os.environ.get(API_KEY_ENV)
    if key:
        return key
    from ayon_launcher.bootstrapper.connection.credentials import credential_store

    stored = credential_store().load(url)
    return None if stored.from_official else stored.token


class _Unreachable(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Client:
    """GET requests on one kept-alive HTTP/1.1 connection, with the full bootstrap's time-out
    and TLS settings (tls.py). A socket and a few lines: http.client alone (with the email
    package it parses headers with) costs a warm start more than its requests take; a plain
    http server is reached through ``_socket`` itself (the ``socket`` module builds its enums
    and imports selectors at import, a visible share of a warm start)."""

    def __init__(self, parts: dict[str, Any], token: str, is_service: bool) -> None:
        """``parts``: the server address taken apart by ``_connection_parts``."""
        from ayon_launcher.bootstrapper.connection.login import timeout

        self.scheme = parts["scheme"]
        self.host = parts["host"]
        self.port = int(parts["port"])
        self.base = parts["base"]
        self.timeout = timeout()
        header = "X-Api-Key" if is_service else "Authorization"
        value = token if is_service else f"Bearer {token}"
        self.headers = (f"Host: {parts['netloc']}\r\nAccept: application/json\r\n"
                        f"User-Agent: ayon-launcher\r\n{header}: {value}\r\n\r\n").encode()
        self.sock: Any = None
        self.buffer = bytearray()  # received, not yet read
        self.received = False  # any byte of the current answer

    def _connect(self) -> None:
        if self.scheme == "https":
            import socket  # ssl needs the socket module's class anyway

            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            try:
                sock = self._tls_context().wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        else:
            sock = _plain_connection(self.host, self.port, self.timeout)
        self.sock = sock
        self.buffer = bytearray()

    @staticmethod
    def _tls_context() -> Any:
        import ssl

        from ayon_launcher.bootstrapper.connection.tls import request_settings

        tls = request_settings()
        verify = tls["verify"]
        if verify is True:  # as requests: certifi's bundle
            from ayon_launcher.bootstrapper.runtime import certifi_bundle

            verify = certifi_bundle()
        context = ssl.create_default_context(cafile=verify)
        if tls["cert"]:
            context.load_cert_chain(tls["cert"])
        return context

    def get(self, path: str) -> tuple[int, Any]:
        """(status, JSON body of a 200 answer or None) of ``GET {server}{path}``;
        _Unreachable on a network failure (or an answer that is not HTTP)."""
        reused = self.sock is not None
        try:
            if self.sock is None:
                self._connect()
            self.received = False
            self.sock.sendall(f"GET {self.base}{path} HTTP/1.1\r\n".encode() + self.headers)
            status, body = self._response()
        except (OSError, ValueError) as exc:
            self.close()
            if reused and not self.received and isinstance(exc, ConnectionError):
                # A kept-alive connection the server closed meanwhile (its idle time-out):
                # asked again, once, on a new connection, as HTTP clients do.
                return self.get(path)
            raise _Unreachable(exc) from None
        try:
            data = json.loads(body) if status == 200 else None
        except ValueError:
            data = None
        return status, data

    def _more(self) -> bool:
        """Append what the server sent next to the buffer; False at the end of the
        connection."""
        data = self.sock.recv(65536)
        self.buffer += data
        self.received = self.received or bool(data)
        return bool(data)

    def _line(self) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end + 1])
                del self.buffer[:end + 1]
                return line
            if len(self.buffer) > 65536:
                raise ValueError("an HTTP header line is too long")
            if not self._more():
                raise ConnectionResetError("the server closed the connection")

    def _response(self) -> tuple[int, bytes]:
        parts = self._line().split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError("not an HTTP answer")
        status = int(parts[1])
        headers: dict[bytes, bytes] = {}
        while True:
            line = self._line()
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            body = self._chunked()
        elif b"content-length" in headers:
            body = self._exactly(int(headers[b"content-length"]))
        else:  # to the end of the connection
            while self._more():
                pass
            body = bytes(self.buffer)
            self.close()
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._more():
                raise ConnectionResetError("the answer was cut short")
        body = bytes(self.buffer[:size])
        del self.buffer[:size]
        return body

    def _chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self._line().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self._line() not in (b"\r\n", b"\n"):  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self._exactly(size))
            self._line()  # the CRLF after the chunk

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buffer = bytearray()


def _plain_connection(host: str, port: int, timeout: float) -> Any:
    """A TCP connection to ``host``, each address tried in turn, as socket.create_connection
    makes it."""
    import _socket

    # An ASCII host name as bytes: a str one is encoded with the idna codec (and the
    # unicodedata tables it imports), the same bytes.
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    error: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0,
                                                               _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address found for {host}")


def _chosen(ctx: LauncherContext, client: _Client,
            payload: dict[str, Any]) -> tuple[Bundle, Bundle, dict[str, Any] | None] | None:
    """(studio bundle, bundle, project's data.bundle) chosen from a ``GET /api/bundles``
    answer as ``distribute.fetch_bundles`` chooses them; None when the choice needs the full
    bootstrap (a dev bundle, an error to report, a project that cannot be read)."""
    from ayon_launcher.bootstrapper.distribution.bundles import (
        choose_bundle,
        choose_project_bundle,
        project_bundle_wanted,
        studio_bundle_name,
    )
    from ayon_launcher.support.errors import LauncherError, ServerUnreachableError

    try:
        project_bundle_name = ctx.project_bundle_name
        studio_name = studio_bundle_name(payload, ctx.bundle_name, project_bundle_name)
        if studio_name and studio_name == project_bundle_name:
            project_bundle_name = None
        studio = choose_bundle(payload, bundle_name=studio_name, use_staging=ctx.use_staging)
        if studio.is_dev:
            return None
        project_bundles = None
        if ctx.project_name and not project_bundle_name:
            from urllib.parse import quote  # only with --project: a start's cost otherwise

            status, project = client.get(f"/api/projects/{quote(ctx.project_name, safe='')}")
            _unavailable(status, f"project {ctx.project_name}")
            if status != 200 or not isinstance(project, dict):
                return None
            found = (project.get("data") or {}).get("bundle")
            project_bundles = found if isinstance(found, dict) else {}
        name = project_bundle_wanted(studio, project_bundle_name=project_bundle_name,
                                     project_bundles=project_bundles,
                                     use_staging=ctx.use_staging)
        bundle = choose_project_bundle(payload, studio, name)
    except ServerUnreachableError:
        raise
    except (LauncherError, KeyError, TypeError, AttributeError):
        return None  # the full bootstrap reports it in its words
    return studio, bundle, project_bundles


def _unavailable(status: int, what: str) -> None:
    """A 5xx answer: the server is unavailable, as the full bootstrap's request would find
    (it starts offline from there)."""
    if status >= 500:
        from ayon_launcher.support.errors import ServerUnreachableError

        raise ServerUnreachableError(
            f"the AYON server is unavailable: reading {what} answered HTTP {status}")


def _settings_unchanged(client: _Client, path: str, recorded: dict[str, Any]) -> bool:
    status, data = client.get(path)
    if status != 200 or not isinstance(data, dict):
        return False
    try:
        now = {addon["name"]: addon["settings"] for addon in data.get("addons") or []}
    except (KeyError, TypeError):
        return False
    return now == recorded


def _unchanged(ctx: LauncherContext, client: _Client, entry: dict[str, Any]) -> bool:
    """Whether the server's answers are those the record was made from."""
    from ayon_launcher.bootstrapper.selfupdate import official_launcher_run, wants_other_launcher
    from ayon_launcher.support.errors import UsageError

    status, payload = client.get("/api/bundles")
    _unavailable(status, "the bundles")
    if status != 200 or not isinstance(payload, dict):
        return False  # refused credentials, a server error...: the full bootstrap's to say
    chosen = _chosen(ctx, client, payload)
    if chosen is None:
        return False
    studio, bundle, project_bundles = chosen
    if studio.raw != entry.get("studio"):
        return False
    if (None if bundle is studio else bundle.raw) != entry.get("bundle"):
        return False
    if ctx.project_name and project_bundles != entry.get("project_bundles"):
        return False
    official = None
    if wants_other_launcher(studio.raw.get("installerVersion")):
        # Another version of this launcher: the self-update decides at every start. ynput's
        # official launcher: its contract was checked by the start this record comes from,
        # on this very bundle (unchanged, above) and the same AYON_AUTO_UPDATE.
        try:
            official = official_launcher_run(studio.raw.get("installerVersion"))
        except UsageError:
            return False  # a bad AYON_AUTO_UPDATE: the full bootstrap says so
        if official is None or official != entry.get("official_launcher"):
            return False
    if "settings_path" not in entry:
        return False  # a record of an older launcher: the full start writes it anew
    settings_path = entry["settings_path"]
    if settings_path is not None:
        settings = (entry.get("installed") or {}).get("settings") or {}
        if not _settings_unchanged(client, settings_path, settings):
            return False
    if official is not None:  # said once the start is known to be warm (else the full one says)
        from ayon_launcher.support.log import get_logger

        get_logger("selfupdate").warning(
            "bundle %s names official AYON launcher %s; running this launcher in its place "
            "(its add-ons' launcher ranges were checked at the last full start)",
            studio.name, official[0])
    return True


def _usable_here(installed: InstalledBundle) -> bool:
    """Claim the bundle's folders (in use by this process) and run the start-up check of its
    installed items; False when the full bootstrap must install or repair something."""
    from ayon_launcher.bootstrapper.distribution import store
    from ayon_launcher.support.log import get_logger

    log = get_logger("bootstrap")
    store.keep_count()  # a bad AYON_LAUNCHER_KEEP_BUNDLES fails as in the full bootstrap
    locked = True
    try:
        if not store.claim(installed):
            return False
    except store.StoreLockTimeout as exc:
        # As the full bootstrap: a complete bundle starts anyway, marked in use without the
        # lock, not recorded; an incomplete one cannot.
        store.hold(installed)
        if not store.still_complete(installed):
            raise
        log.warning("%s; bundle %s is complete here: starting without recording it", exc,
                    installed.bundle_name)
        locked = False
    damaged = store.damaged_items(installed)
    if damaged:  # the full bootstrap repairs them, and says so
        log.debug("no warm start: %s", "; ".join(damaged))
        return False
    if locked:
        store.keep_first(installed)
    return True


def warm_start(ctx: LauncherContext) -> tuple[InstalledBundle, Session] | None:
    """The recorded bundle and the session, when the server confirms nothing changed since
    the last good start of ``ctx``; None: run the full bootstrap.

    Raises ServerUnreachableError, in the full bootstrap's words, when the server cannot be
    reached (the caller starts offline as it would).
    """
    if ctx.verify or ctx.use_dev or _proxied():
        return None
    url = _server_url(ctx)
    token = _token(url) if url else None
    if not url or not token:
        return None
    entry = _read_entries().get(_key(ctx, url, token))
    if not isinstance(entry, dict) or not isinstance(entry.get("installed"), dict):
        return None
    from ayon_launcher.bootstrapper.connection.login import Session
    from ayon_launcher.bootstrapper.distribution.store import InstalledBundle
    from ayon_launcher.support.log import register_secret

    register_secret(token)
    is_service = bool(entry.get("is_service"))
    try:
        installed = InstalledBundle.from_dict(entry["installed"])
    except (KeyError, TypeError):
        return None
    if not isinstance(entry.get("connection"), dict):
        return None  # a record of an older launcher
    client = _Client(entry["connection"], token, is_service)
    try:
        unchanged = _unchanged(ctx, client, entry)
    except _Unreachable as exc:
        from ayon_launcher.bootstrapper.connection.tls import network_reason
        from ayon_launcher.support.errors import ServerUnreachableError

        reason = network_reason(exc.error, client.timeout, url)
        raise ServerUnreachableError(f"AYON server {url} cannot be reached ({reason})") from None
    finally:
        client.close()
    if not unchanged or not _usable_here(installed):
        return None
    return installed, Session(url, token, entry.get("username"), is_service)


class LazyServerAPI:
    """Stands for the ayon_api connection of a warm start: made (ayon_api imported) at the
    first use, by the command or add-on that needs it."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._api: ayon_api.ServerAPI | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        api = self.__dict__.get("_api")
        if api is None:
            from ayon_launcher.bootstrapper.connection.session import open_api

            api = self._api = open_api(self._session)
        return getattr(api, name)
