"""Fetch an archive from one source (server, http, filesystem), hashing it while it streams."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ..errors import DistributionError
from ..log import get_logger
from .archives import CHUNK, check_checksum, new_hasher
from .models import DistItem, FilesystemSource, HttpSource, ServerSource, Source

log = get_logger("distribution")

RETRIES_ENV = "AYON_LAUNCHER_DOWNLOAD_RETRIES"
TIMEOUT_ENV = "AYON_LAUNCHER_DOWNLOAD_TIMEOUT"


class SourceError(DistributionError):
    """This source could not deliver a valid file (the next source may)."""


class TransientError(SourceError):
    """A network failure worth retrying: connection error, reset, timeout, 5xx."""


@dataclass
class FetchSettings:
    """How to reach the server and how patient to be."""

    server_url: str | None = None
    server_headers: Mapping[str, str] = field(default_factory=dict)
    retries: int = field(default_factory=lambda: int(os.environ.get(RETRIES_ENV, "4")))
    backoff: float = 0.25  # seconds; doubled after each failed attempt
    connect_timeout: float = 10.0
    read_timeout: float = field(default_factory=lambda: float(os.environ.get(TIMEOUT_ENV, "60")))
    session: requests.Session | None = None


BytesCallback = Callable[[int, int | None], None]


def fetch(item: DistItem, source: Source, dest: Path, settings: FetchSettings,
          on_bytes: BytesCallback | None = None) -> str:
    """Write the file of ``source`` to ``dest``; return its checksum, validated against ``item``.

    Raises SourceError (after retries for network errors) when the source cannot deliver.
    """
    if isinstance(source, FilesystemSource):
        digest = _copy_file(item, Path(source.path).expanduser(), dest, on_bytes)
    else:
        url, headers = _http_target(item, source, settings)
        digest = _download_with_retries(item, url, headers, dest, settings, on_bytes)
    check_checksum(digest, item.checksum, item.label)
    return digest


def describe(source: Source) -> str:
    """A short, secret-free description of a source for messages and metadata."""
    if isinstance(source, ServerSource):
        return f"server:{source.filename}"
    if isinstance(source, HttpSource):
        return f"http:{source.url.split('?', 1)[0]}"
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


def _copy_file(item: DistItem, path: Path, dest: Path, on_bytes: BytesCallback | None) -> str:
    if not path.is_file():
        raise SourceError(f"{item.label}: file not found: {path}")
    hasher = new_hasher(item.algorithm)
    total = path.stat().st_size
    done = 0
    with open(path, "rb") as src, open(dest, "wb") as out:
        while chunk := src.read(CHUNK):
            hasher.update(chunk)
            out.write(chunk)
            done += len(chunk)
            if on_bytes:
                on_bytes(done, total)
    return hasher.hexdigest()


def _download_with_retries(item: DistItem, url: str, headers: dict[str, str], dest: Path,
                           settings: FetchSettings, on_bytes: BytesCallback | None) -> str:
    attempts = max(1, settings.retries)
    delay = settings.backoff
    for attempt in range(1, attempts + 1):
        try:
            return _download(item, url, headers, dest, settings, on_bytes)
        except TransientError as exc:
            if attempt == attempts:
                raise SourceError(f"{exc} (gave up after {attempts} attempts)") from None
            log.debug("%s; retry %d/%d in %.2fs", exc, attempt, attempts - 1, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _download(item: DistItem, url: str, headers: dict[str, str], dest: Path,
              settings: FetchSettings, on_bytes: BytesCallback | None) -> str:
    getter = settings.session.get if settings.session is not None else requests.get
    short = url.split("?", 1)[0]
    try:
        response = getter(url, headers=headers, stream=True,
                          timeout=(settings.connect_timeout, settings.read_timeout))
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"{item.label}: cannot download {short}: "
                             f"{type(exc).__name__}") from None
    with response:
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{item.label}: {short} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise SourceError(f"{item.label}: {short} answered HTTP {response.status_code}")
        expected = response.headers.get("Content-Length")
        total = int(expected) if expected and expected.isdigit() else item.size
        # With a Content-Encoding, Content-Length is the compressed size: skip that check.
        hasher = new_hasher(item.algorithm)
        done = 0
        chunks = response.raw.stream(CHUNK, decode_content=True)
        with open(dest, "wb") as out:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - urllib3 protocol/read-timeout errors
                    raise TransientError(f"{item.label}: download of {short} interrupted: "
                                         f"{type(exc).__name__}") from None
                if not chunk:
                    continue
                hasher.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if on_bytes:
                    on_bytes(done, total)
        if expected and expected.isdigit() and done != int(expected) \
                and not response.headers.get("Content-Encoding"):
            raise TransientError(f"{item.label}: truncated download of {short} "
                                 f"({done} of {expected} bytes)")
    return hasher.hexdigest()

