"""TLS settings for every request the launcher makes, and network failures in plain words.

``AYON_CA_FILE`` (a studio's own certificate authority), else ``REQUESTS_CA_BUNDLE``, else
``SSL_CERT_FILE`` names the CA bundle that server certificates are checked against (the
system's default bundle when none is set); ``AYON_CERT_FILE`` names a client certificate (PEM
with its key) for servers that ask for one. Login, the API (ayon_api), downloads from the
server and from http sources all use :func:`request_settings`.
"""

from __future__ import annotations

import os

from ayon_launcher.support.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CA_FILE_ENV = "AYON_CA_FILE"
CERT_FILE_ENV = "AYON_CERT_FILE"
# Consulted in this order; the first one set wins.
CA_ENVS = (CA_FILE_ENV, "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")

UNTRUSTED = f"TLS certificate not trusted (set {CA_FILE_ENV})"


def _checked_file(name: str, value: str) -> str:
    path = os.path.normpath(os.path.expanduser(value))
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "no file"
        raise UsageError(f"{name} names {what}: {value} (it must name a PEM file)")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"{name} names a file that cannot be read: {value} "
                         f"({exc.strerror or 'unreadable'})") from None
    return path


def ca_bundle() -> str | bool:
    """Path of the CA bundle to check server certificates with, or True (the default one)."""
    for name in CA_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return _checked_file(name, value)
    return True


def client_cert() -> str | None:
    """Path of the client certificate (PEM holding the certificate and its key), if set."""
    value = os.environ.get(CERT_FILE_ENV, "").strip()
    return _checked_file(CERT_FILE_ENV, value) if value else None


def request_settings() -> dict[str, Any]:
    """``verify`` and ``cert`` keyword arguments for requests (and ayon_api's ssl_verify)."""
    return {"verify": ca_bundle(), "cert": client_cert()}


def export_ca_bundle() -> None:
    """Make the chosen CA bundle the one of every request in this process and its children.

    requests lets REQUESTS_CA_BUNDLE (often set system-wide to the public bundle) override the
    bundle a session was given (ayon_api's AYON_CA_FILE among them): it is set to the bundle
    chosen here, so that add-ons, ayon_api's sessions and children agree. AYON_CA_FILE is left
    as the user set it (children see the same variables as under the official launcher).
    """
    bundle = ca_bundle()
    if isinstance(bundle, str):
        os.environ["REQUESTS_CA_BUNDLE"] = bundle


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: causes, contexts, and urllib3's ``reason`` / requests'
    first argument, which carry the real failure."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current in seen or len(seen) > 20:
            continue
        seen.append(current)
        for inner in (current.__cause__, current.__context__, getattr(current, "reason", None),
                      *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]):
            if isinstance(inner, BaseException):
                todo.append(inner)
    return seen


def network_reason(exc: BaseException, waited: float | None = None,
                   url: str | None = None) -> str:
    """Why a request failed, in words for people ("connection refused", "TLS certificate not
    trusted (set AYON_CA_FILE)", "no answer after 10 s"), never a class name or a file name.

    ``waited``: the time-out in seconds, said when the failure is one. ``url``: the address
    asked; an https server that hangs up on a client without a certificate gets a hint.
    """
    reason = _reason(exc, waited)
    if reason in (_RESET, _CLOSED) and (url or "").lower().startswith("https://") \
            and not os.environ.get(CERT_FILE_ENV):
        reason += f" (if the server requires a client certificate, set {CERT_FILE_ENV})"
    return reason


_RESET = "connection reset"
_CLOSED = "the server closed the connection"


def _reason(exc: BaseException, waited: float | None) -> str:
    import socket  # here: the request settings above are read at every start, these not
    import ssl

    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    lower = text.lower()
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            if "hostname" in str(error).lower() or "ip address mismatch" in str(error).lower():
                return "the server's TLS certificate is for another host name"
            if "expired" in str(error).lower():
                return "the server's TLS certificate has expired"
            return UNTRUSTED
    if "certificate_verify_failed" in lower or "certificate verify failed" in lower:
        return UNTRUSTED
    if "certificate required" in lower or "certificate_required" in lower:
        return f"the server requires a client certificate (set {CERT_FILE_ENV})"
    if "unknown ca" in lower or "bad certificate" in lower or "certificate unknown" in lower:
        return f"the server refused the client certificate (check {CERT_FILE_ENV})"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in lower:
        if "wrong version number" in lower or "record layer failure" in lower:
            return "TLS handshake failed (is the server's address http:// instead?)"
        return "TLS handshake failed"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in lower:
        return "connection refused"
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in \
            lower or "nodename nor servname" in lower or "failed to resolve" in lower:
        return "host name not found"
    if any(isinstance(e, TimeoutError | socket.timeout) for e in chain) or "timed out" in lower \
            or "timeout" in type(exc).__name__.lower():
        return f"no answer after {waited:g} s" if waited else "no answer in time"
    if "remote end closed" in lower or "remotedisconnected" in lower:
        return _CLOSED
    if "reset" in lower or "aborted" in lower:
        return _RESET
    if "no route to host" in lower or "network is unreachable" in lower:
        return "no route to the server's network"
    return "connection failed"
