"""Server URL rules: http(s) only, trailing slashes removed."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import UsageError

SERVER_URL_ENV = "AYON_SERVER_URL"


def normalize_server_url(url: str | None) -> str:
    """``url`` without surrounding spaces and trailing slashes; raise if it is not http(s)."""
    text = (url or "").strip()
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port  # both raise ValueError when malformed
    except ValueError as exc:
        raise UsageError(f"invalid AYON server URL {shown!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise UsageError(
            f"invalid AYON server URL {shown!r}: it must start with http:// or https:// "
            "and name a host"
        )
    if port == 0:
        raise UsageError(f"invalid AYON server URL {shown!r}: port 0")
    if any(ch.isspace() for ch in text):
        raise UsageError(f"invalid AYON server URL {shown!r}: it contains white space")
    return text.rstrip("/")


def url_problem(url: str | None) -> str | None:
    """Why ``url`` is not a usable server URL (None when it is): for forms and dialogs."""
    try:
        normalize_server_url(url)
    except UsageError as exc:
        return str(exc)
    return None
