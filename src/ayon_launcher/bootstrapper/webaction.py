"""``ayon ayon-launcher://action?server_url=...&token=...``: run a web action of the AYON UI.

The operating system passes the link when an action button of the web interface is clicked.
The launcher takes the action from the server (``/api/actions/take/{token}``: its user,
variant, arguments and event), makes sure it is logged in as that user (the action is aborted
on the server, with the reason, when the user declines), runs itself with the action's
arguments in the action's variant, and marks the action's event finished or failed (unless
the command did so itself; it sees the event id in ``AYON_WEBACTION_EVENT_ID``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from ayon_launcher.support.errors import (
    AuthenticationRequired,
    LauncherError,
    ServerUnreachableError,
    UsageError,
)
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.context import LauncherContext

log = get_logger("webaction")

SCHEME = "ayon-launcher"
EVENT_ENV = "AYON_WEBACTION_EVENT_ID"
_TOKEN_RE = re.compile(r"^[a-f0-9]{64}$")


def is_action_uri(arg: str) -> bool:
    return arg.lower().startswith(SCHEME + ":")


def parse_uri(uri: str) -> tuple[str, str]:
    """(server URL, token) of an action link; UsageError for anything else."""
    parsed = urlparse(uri.strip().strip('"'))
    if parsed.scheme != SCHEME or (parsed.netloc or parsed.path.strip("/")) != "action":
        raise UsageError(f"not an AYON action link: {uri[:60]!r} (expected "
                         f"{SCHEME}://action?server_url=...&token=...)")
    query = parse_qs(parsed.query)
    server_url = (query.get("server_url") or [""])[0].rstrip("/")
    token = (query.get("token") or [""])[0]
    if not server_url.startswith(("http://", "https://")):
        raise UsageError("the action link has no http(s) server_url")
    if not _TOKEN_RE.match(token):
        raise UsageError("the action link has no valid token")
    return server_url, token


def _request(method: str, url: str, **kwargs: Any):  # noqa: ANN202 - requests.Response
    import requests

    try:
        return requests.request(method, url, timeout=30, **kwargs)
    except requests.RequestException as exc:
        from ayon_launcher.bootstrapper.connection.tls import network_reason

        raise ServerUnreachableError(f"cannot reach the AYON server {urlparse(url).netloc}: "
                                     f"{network_reason(exc, 30, url)}") from None


def take(server_url: str, token: str) -> dict[str, Any]:
    response = _request("GET", f"{server_url}/api/actions/take/{token}")
    if response.status_code == 404:
        raise UsageError("the action is unknown to the server, or was already taken (click "
                         "the action again in the AYON web interface)")
    if not response.ok:
        raise LauncherError(f"the server refused the action (HTTP {response.status_code})")
    return response.json()


def abort(server_url: str, token: str, reason: str) -> None:
    response = _request("POST", f"{server_url}/api/actions/abort/{token}",
                        json={"message": reason})
    if not response.ok:
        log.warning("could not abort the action on the server (HTTP %s)", response.status_code)


def variant_flags(variant: str) -> list[str]:
    """Global flags that run the action in its variant: production, staging or a bundle."""
    if not variant or variant == "production":
        return []
    if variant == "staging":
        return ["--use-staging"]
    return ["--bundle", variant]  # a dev bundle is named by its variant


def _login(server_url: str, token: str, username: str | None,
           launcher: LauncherContext | None = None) -> Any:
    """A session on ``server_url`` as ``username`` (asking to log in when needed, with the
    login window ``launcher`` offers)."""
    from ayon_launcher.bootstrapper.connection import resolve_session
    from ayon_launcher.bootstrapper.context import LauncherContext

    os.environ["AYON_SERVER_URL"] = server_url
    ctx = LauncherContext()
    ctx.login_window = launcher.login_window if launcher is not None else None
    try:
        session = resolve_session(ctx)
        if username and session.username != username:
            if os.environ.get("AYON_API_KEY"):
                os.environ.pop("AYON_API_KEY")  # the action is the user's, not this key's
            log.info("the action was started by %s: log in as %s", username, username)
            session = resolve_session(ctx, force_login=True)
            if session.username != username:
                raise AuthenticationRequired(f"logged in as {session.username}, but the "
                                             f"action belongs to {username}")
    except AuthenticationRequired as exc:
        abort(server_url, token, f"The user did not log in to the AYON launcher as "
                                 f"{username or 'the action user'} ({exc}).")
        raise
    return session


def run_action(uri: str, flags: list[str] | None = None,
               launcher: LauncherContext | None = None) -> int:
    """Run the action of ``uri`` (``flags``: global flags given before it, passed on); the
    exit code of its command. ``launcher``: the run context, with the login window to use."""
    server_url, token = parse_uri(uri)
    data = take(server_url, token)
    event_id = data.get("eventId")
    session = _login(server_url, token, data.get("userName"), launcher)
    args = [str(a) for a in data.get("args") or []]
    command = [sys.executable, "-m", "ayon_launcher", *(flags or []),
               *variant_flags(str(data.get("variant") or "")), *args]
    env = {k: v for k, v in os.environ.items()
           if k not in ("AYON_USE_STAGING", "AYON_BUNDLE_NAME", "AYON_API_KEY")}
    env.update(AYON_SERVER_URL=server_url, AYON_API_KEY=session.token)
    if event_id:
        env[EVENT_ENV] = str(event_id)
    print(f"ayon: running action {data.get('actionIdentifier') or ''} of "
          f"{data.get('addonName') or 'the server'} as {session.username}", file=sys.stderr,
          flush=True)
    code = subprocess.call(command, env=env)
    if event_id:
        _finish_event(server_url, session.token, str(event_id), code == 0)
    return code


def _finish_event(server_url: str, token: str, event_id: str, success: bool) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server_url}/api/events/{event_id}"
    event = _request("GET", url, headers=headers)
    if event.ok and event.json().get("status") != "in_progress":
        return  # the command finished (or failed) it itself
    status = "finished" if success else "failed"
    response = _request("PATCH", url, headers=headers, json={"status": status})
    if not response.ok:
        log.warning("could not mark the action's event %s (HTTP %s)", status,
                    response.status_code)
