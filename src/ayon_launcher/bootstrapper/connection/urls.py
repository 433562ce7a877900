"""Server URL rules: http(s) only, a bare base address, trailing slashes removed."""

from __future__ import annotations

import re

from ayon_launcher.support.errors import UsageError

SERVER_URL_ENV = "AYON_SERVER_URL"

# "scheme://" (optional) then the authority's user info, up to its last "@".
_USERINFO = r"([A-Za-z][A-Za-z0-9+.\-]*://)?([^/?#]*)@"  # compiled (and cached) by re when used


def _masked(text: str) -> str:
    """``text`` with any ``user:password@`` replaced by ``***@``: safe to show and log."""
    found = re.match(_USERINFO, text)
    if not found:
        return text
    return f"{found.group(1) or ''}***@{text[found.end():]}"


def _value_problem(library_text: str) -> str:
    """urllib's complaint about a malformed URL, in the user's words (never its own text)."""
    lower = library_text.lower()
    if "port could not be cast" in lower:
        return "the port must be a number"
    if "port out of range" in lower:
        return "the port must be between 1 and 65535"
    if "ipv6" in lower:
        return "the IPv6 address in [brackets] is not complete or not valid"
    return "it is not a valid web address"


def _problem(text: str) -> str | None:
    """Why ``text`` (stripped) is not a server base address, as the words that follow
    "invalid URL:" (the URL itself never in them); None when it is one."""
    # Imported here: a warm start takes its recorded URL as it is (warmstart.py) and must not
    # pay for urllib.parse (with ipaddress).
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port  # both raise ValueError when malformed
    except ValueError as exc:
        return _value_problem(str(exc))
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "it must start with http:// or https:// and name a host"
    if "@" in parts.netloc:
        return ("it must not contain a user name or password (log in with `ayon login`, or "
                "give a key in AYON_API_KEY)")
    if "?" in text or "#" in text:
        return ("it must not have a query (?...) or a fragment (#...); give the server's base "
                "address, like https://ayon.example.com")
    if port == 0:
        return "the port must be between 1 and 65535"
    if any(ch.isspace() for ch in text):
        return "it contains white space"
    return None


def normalize_server_url(url: str | None) -> str:
    """``url`` without surrounding spaces and trailing slashes; raise if it is not http(s).

    The server's base address only: a query or a fragment would be glued in front of every
    API path, and a user name or password would end up in messages and stored logins.
    """
    text = (url or "").strip()
    problem = _problem(text)
    if problem:
        masked = _masked(text)
        shown = masked if len(masked) <= 80 else masked[:77] + "..."
        raise UsageError(f"invalid AYON server URL {shown!r}: {problem}")
    return text.rstrip("/")


def url_problem(url: str | None) -> str | None:
    """Why ``url`` is not a usable server URL, without the URL itself ("it must start with
    http:// or https:// ..."): for forms and dialogs. None when it is usable."""
    return _problem((url or "").strip())
