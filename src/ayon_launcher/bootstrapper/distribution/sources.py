"""Fetch an archive from one source (server, http, filesystem), hashing it while it streams."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import requests

from ayon_launcher.bootstrapper.distribution.archives import (
    CHUNK,
    ChecksumError,
    check_checksum,
    new_hasher,
    write_error,
)
from ayon_launcher.bootstrapper.distribution.models import (
    DistItem,
    FilesystemSource,
    HttpSource,
    ServerSource,
    Source,
)
from ayon_launcher.support.envconfig import env_int, env_number
from ayon_launcher.support.errors import DistributionError
from ayon_launcher.support.log import get_logger

log = get_logger("distribution")

RETRIES_ENV = "AYON_LAUNCHER_DOWNLOAD_RETRIES"
TIMEOUT_ENV = "AYON_LAUNCHER_DOWNLOAD_TIMEOUT"


class SourceError(DistributionError):
    """This source could not deliver a valid file (the next source may).

    ``kind`` tells the caller what went wrong: "network" (no answer, reset, timeout, 5xx,
    after retries), "auth" (HTTP 401/403), "tls" (certificate) or "file" (missing, bad
    checksum, bad archive).
    """

    kind = "file"


class TransientError(SourceError):
    """A network failure: connection error, reset, timeout, 5xx. Retried; raised again, with
    the number of attempts, once the retries are spent."""

    kind = "network"


class SourceTLSError(SourceError):
    """The TLS connection could not be set up (untrusted certificate, client certificate
    missing or refused): a setting to fix, not an outage, so it is not retried."""

    kind = "tls"


class SourceAuthError(SourceError):
    """The server refused the credentials (expired token, revoked API key)."""

    kind = "auth"


def public_url(url: str) -> str:
    """``url`` without a query string or ``user:password@``, safe for messages and metadata."""
    from urllib.parse import urlsplit, urlunsplit

    url = url.split("?", 1)[0].split("#", 1)[0]
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _network_reason(exc: BaseException, settings: FetchSettings, url: str | None = None) -> str:
    """Plain words for a requests/urllib3 failure (their own texts repeat the whole URL)."""
    import urllib3.exceptions

    from ayon_launcher.bootstrapper.connection.tls import network_reason

    if isinstance(exc, requests.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError):
        return f"connection timed out after {settings.connect_timeout:g}s"
    if isinstance(exc, requests.Timeout | urllib3.exceptions.ReadTimeoutError
                  | TimeoutError):
        return f"timed out: no data for {settings.read_timeout:g}s"
    return network_reason(exc, url=url)


def _tls_verify() -> str | bool:
    from ayon_launcher.bootstrapper.connection.tls import ca_bundle

    return ca_bundle()


def _tls_cert() -> str | None:
    from ayon_launcher.bootstrapper.connection.tls import client_cert

    return client_cert()


@dataclass
class FetchSettings:
    """How to reach the server and how patient to be."""

    server_url: str | None = None
    server_headers: Mapping[str, str] = field(default_factory=dict)
    retries: int = field(default_factory=lambda: env_int(RETRIES_ENV, 4, minimum=1))
    backoff: float = 0.25  # seconds; doubled after each failed attempt
    connect_timeout: float = 10.0
    read_timeout: float = field(
        default_factory=lambda: env_number(TIMEOUT_ENV, 60.0, minimum=0.1))
    session: requests.Session | None = None
    # TLS (connection/tls.py): CA bundle (or True: the default one) and client certificate,
    # for the server and for http sources alike.
    verify: str | bool = field(default_factory=_tls_verify)
    cert: str | None = field(default_factory=_tls_cert)


BytesCallback = Callable[[int, int | None], None]


class Sink(Protocol):
    """Takes the downloaded bytes as they arrive, beside the file (streaming.StreamingZip)."""

    def reset(self) -> None:
        """A download (re)starts: forget what was fed."""

    def feed(self, chunk: bytes) -> None:
        """The next bytes of the file (never raises)."""


@dataclass(frozen=True)
class Fetched:
    """What a fetch wrote: its checksum in the item's algorithm, its sha256 and size."""

    checksum: str
    sha256: str
    size: int


class _Digests:
    """The item's checksum and a sha256 (the same object when the item's is a sha256),
    fed as the file streams, with its byte count."""

    def __init__(self, algorithm: str) -> None:
        self.main = new_hasher(algorithm)
        self.sha256 = self.main if self.main.name == "sha256" else new_hasher("sha256")
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.main.update(chunk)
        if self.sha256 is not self.main:
            self.sha256.update(chunk)
        self.size += len(chunk)

    def result(self) -> Fetched:
        return Fetched(self.main.hexdigest(), self.sha256.hexdigest(), self.size)


def fetch(item: DistItem, source: Source, dest: Path, settings: FetchSettings,
          on_bytes: BytesCallback | None = None, sink: Sink | None = None) -> Fetched:
    """Write the file of ``source`` to ``dest``; return its checksums, validated against
    ``item`` (checksum and size, when known).

    A download also feeds ``sink`` the bytes as they arrive (reset at every attempt); a
    filesystem source does not (the file is local already: nothing to overlap).
    Raises SourceError (after retries for network errors) when the source cannot deliver.
    """
    if isinstance(source, FilesystemSource):
        fetched = _copy_file(item, Path(source.path).expanduser(), dest, on_bytes)
    else:
        url, headers = _http_target(item, source, settings)
        fetched = _download_with_retries(item, url, headers, dest, settings, on_bytes, sink)
    if item.pinned and item.checksum:
        if fetched.sha256 != item.checksum.lower():
            raise ChecksumError(
                f"{item.label}: the archive differs from the one installed here before "
                f"(sha256 {item.checksum[:16]}..., now {fetched.sha256[:16]}...) and the "
                f"server announces no checksum to tell which is right; if it was replaced "
                f"on purpose, delete {item.target} to accept it")
    else:
        check_checksum(fetched.checksum, item.checksum, item.label)
    if item.size is not None and fetched.size != item.size:
        raise ChecksumError(f"{item.label}: size mismatch (the server announced {item.size} "
                            f"bytes, got {fetched.size})")
    return fetched


def describe(source: Source) -> str:
    """A short, secret-free description of a source for messages and metadata."""
    if isinstance(source, ServerSource):
        return f"server:{source.filename}"
    if isinstance(source, HttpSource):
        return f"http:{public_url(source.url)}"
    return f"filesystem:{source.path}"


def _http_target(item: DistItem, source: Source,
                 settings: FetchSettings) -> tuple[str, dict[str, str]]:
    if isinstance(source, HttpSource):
        return source.url, dict(source.headers)
    assert isinstance(source, ServerSource)
    if not settings.server_url:
        raise SourceError(f"{item.label}: server source but no server connection")
    route = (item.server_route or "") + source.filename
    headers = {k: v for k, v in settings.server_headers.items() if k.lower() != "content-type"}
    return f"{settings.server_url.rstrip('/')}/{route.lstrip('/')}", headers


def _copy_file(item: DistItem, path: Path, dest: Path,
               on_bytes: BytesCallback | None) -> Fetched:
    if not path.is_file():
        raise SourceError(f"{item.label}: file not found: {path}")
    hasher = _Digests(item.algorithm)
    try:
        total = path.stat().st_size
        src = open(path, "rb")
    except OSError as exc:
        raise SourceError(f"{item.label}: cannot read {path}: {exc.strerror}") from None
    done = 0
    with src, _open_dest(item, dest) as out:
        while True:
            try:
                chunk = src.read(CHUNK)
            except OSError as exc:
                raise SourceError(f"{item.label}: cannot read {path}: {exc.strerror}") from None
            if not chunk:
                break
            hasher.update(chunk)
            _write(item, dest, out, chunk)
            done += len(chunk)
            if on_bytes:
                on_bytes(done, total)
    return hasher.result()


def _open_dest(item: DistItem, dest: Path) -> BinaryIO:
    try:
        return open(dest, "wb")
    except OSError as exc:
        raise write_error(item.label, dest, exc) from None


def _write(item: DistItem, dest: Path, out: BinaryIO, chunk: bytes) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise write_error(item.label, dest, exc) from None


def _download_with_retries(item: DistItem, url: str, headers: dict[str, str], dest: Path,
                           settings: FetchSettings, on_bytes: BytesCallback | None,
                           sink: Sink | None = None) -> Fetched:
    attempts = max(1, settings.retries)
    delay = settings.backoff
    for attempt in range(1, attempts + 1):
        try:
            return _download(item, url, headers, dest, settings, on_bytes, sink)
        except TransientError as exc:
            if attempt == attempts:
                raise TransientError(f"{exc} (gave up after {attempts} attempts)") from None
            log.debug("%s; retry %d/%d in %.2fs", exc, attempt, attempts - 1, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _arriving_chunks(raw: Any) -> Iterator[bytes]:
    """The body as it arrives: ``read1`` returns what is there instead of waiting for a full
    CHUNK, so the progress of a slow server moves (urllib3 2); ``stream`` otherwise."""
    read1 = getattr(raw, "read1", None)
    if read1 is None:
        yield from raw.stream(CHUNK, decode_content=True)
        return
    while chunk := read1(CHUNK, decode_content=True):
        yield chunk


def _download(item: DistItem, url: str, headers: dict[str, str], dest: Path,
              settings: FetchSettings, on_bytes: BytesCallback | None,
              sink: Sink | None = None) -> Fetched:
    getter = settings.session.get if settings.session is not None else requests.get
    short = public_url(url)
    try:
        response = getter(url, headers=headers, stream=True,
                          timeout=(settings.connect_timeout, settings.read_timeout),
                          verify=settings.verify, cert=settings.cert)
    except requests.exceptions.SSLError as exc:
        raise SourceTLSError(f"{item.label}: cannot download {short}: "
                             f"{_network_reason(exc, settings, url)}") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"{item.label}: cannot download {short}: "
                             f"{_network_reason(exc, settings, url)}") from None
    with response:
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{item.label}: {short} answered HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise SourceAuthError(f"{item.label}: {short} rejected the credentials "
                                  f"(HTTP {response.status_code})")
        if response.status_code != 200:
            raise SourceError(f"{item.label}: {short} answered HTTP {response.status_code}")
        expected = response.headers.get("Content-Length")
        total = int(expected) if expected and expected.isdigit() else item.size
        # With a Content-Encoding, Content-Length is the compressed size: skip that check.
        hasher = _Digests(item.algorithm)
        done = 0
        chunks = _arriving_chunks(response.raw)
        if sink is not None:
            sink.reset()
        with _open_dest(item, dest) as out:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - urllib3 protocol/read-timeout errors
                    raise TransientError(f"{item.label}: download of {short} interrupted: "
                                         f"{_network_reason(exc, settings)}") from None
                if not chunk:
                    continue
                hasher.update(chunk)
                _write(item, dest, out, chunk)
                if sink is not None:
                    sink.feed(chunk)
                done += len(chunk)
                if on_bytes:
                    on_bytes(done, total)
        if expected and expected.isdigit() and done != int(expected) \
                and not response.headers.get("Content-Encoding"):
            raise TransientError(f"{item.label}: truncated download of {short} "
                                 f"({done} of {expected} bytes)")
    return hasher.result()

