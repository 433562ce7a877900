"""Talking to the server about identity: reachability, login, token check, logout.

Plain ``requests`` calls with short time-outs, so that the GUI can run them in a worker and
the CLI can tell "server down" (exit 3) from "wrong password" (exit 4).
"""

from __future__ import annotations

from ayon_launcher.support.errors import (
    AuthenticationRequired,
    LauncherError,
    ServerUnreachableError,
)
from ayon_launcher.support.log import register_secret
from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import requests

TIMEOUT_ENV = "AYON_SERVER_TIMEOUT"  # as ayon-python-api reads it
DEFAULT_TIMEOUT = 10.0


class LoginFailed(AuthenticationRequired):
    """The server refused the user name and password."""


class Session(Record):
    """A usable identity on a server."""

    _fields = ("server_url", "token", "username", "is_service")

    def __init__(self, server_url: str, token: str, username: str | None = None,
                 is_service: bool = False) -> None:
        self.server_url = server_url
        self.token = token
        self.username = username
        self.is_service = is_service


def timeout() -> float:
    from ayon_launcher.support.envconfig import env_number

    return env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, minimum=0.1)


def _request(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request with the time-out and the TLS settings (tls.py); a network failure is a
    ServerUnreachableError that says why in words."""
    import requests

    from ayon_launcher.bootstrapper.connection.tls import network_reason, request_settings

    waited = kwargs.setdefault("timeout", timeout())
    for key, value in request_settings().items():
        kwargs.setdefault(key, value)
    try:
        return requests.request(method, url, **kwargs)
    except requests.RequestException as exc:
        base = url.split("/api/", 1)[0]
        reason = network_reason(exc, waited, url)
        raise ServerUnreachableError(f"AYON server {base} cannot be reached ({reason})") from None


def check_server(server_url: str) -> dict[str, Any]:
    """``GET /api/info``; raise ServerUnreachableError when down, LauncherError when not AYON."""
    response = _request("GET", f"{server_url}/api/info")
    if response.status_code >= 500:
        raise ServerUnreachableError(
            f"AYON server {server_url} answered HTTP {response.status_code}")
    try:
        info = response.json()
    except ValueError:
        info = None
    if response.status_code != 200 or not isinstance(info, dict):
        # Exit 3 as for a server that cannot be reached: no AYON server answers at this URL.
        raise LauncherError(f"{server_url} does not look like an AYON server "
                            f"(GET /api/info answered HTTP {response.status_code})",
                            exit_code=3)
    return info


def login(server_url: str, username: str, password: str) -> Session:
    """Log in with a user name and password; the session's token is registered as a secret."""
    register_secret(password)
    response = _request("POST", f"{server_url}/api/auth/login",
                        json={"name": username, "password": password})
    if response.status_code >= 500:
        raise ServerUnreachableError(
            f"AYON server {server_url} answered HTTP {response.status_code}")
    data = _json(response)
    token = data.get("token") if response.status_code == 200 else None
    if not token:
        detail = str(data.get("detail") or "wrong user name or password")
        raise LoginFailed(f"login to {server_url} failed: {detail}")
    register_secret(token)
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    return Session(server_url, token, user.get("name") or username, False)


def user_of(server_url: str, token: str,
            api_key_first: bool = False) -> tuple[dict[str, Any], bool] | None:
    """``(user, is_service)`` for a session token or an API key; None when it is rejected.

    ``api_key_first`` tries the key header first (a key from AYON_API_KEY usually is one),
    saving a farm job's start one refused request.
    """
    register_secret(token)
    attempts = [({"Authorization": f"Bearer {token}"}, False), ({"X-Api-Key": token}, True)]
    for headers, is_service in reversed(attempts) if api_key_first else attempts:
        response = _request("GET", f"{server_url}/api/users/me", headers=headers)
        if response.status_code >= 500:
            raise ServerUnreachableError(
                f"AYON server {server_url} answered HTTP {response.status_code}")
        if response.status_code == 200:
            return _json(response), is_service
    return None


def session_of(server_url: str, token: str, api_key_first: bool = False) -> Session | None:
    """The session a stored token or key still gives, or None when the server rejects it."""
    found = user_of(server_url, token, api_key_first)
    if found is None:
        return None
    user, is_service = found
    return Session(server_url, token, user.get("name"), is_service)


def logout(session: Session) -> None:
    """Invalidate a session token on the server (API keys are left alone); errors ignored."""
    if session.is_service:
        return
    try:
        _request("POST", f"{session.server_url}/api/auth/logout",
                 headers={"Authorization": f"Bearer {session.token}"})
    except ServerUnreachableError:
        pass


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
