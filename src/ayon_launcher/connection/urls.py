"""Server URL rules: http(s) only, trailing slashes removed."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import UsageError

SERVER_URL_ENV = "AYON_SERVER_URL"


def normalize_server_url(url: str | None) -> str:
    """``url`` without surrounding spaces and trailing slashes; raise if it is not http(s)."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise UsageError(
            f"invalid AYON server URL {shown!r}: it must start with http:// or https:// "
            "and name a host"
        )
    return text.rstrip("/")


def url_problem(url: str | None) -> str | None:
    """Why ``url`` is not a usable server URL (None when it is): for forms and dialogs."""
    try:
        normalize_server_url(url)
    except UsageError as exc:
        return str(exc)
    return None
