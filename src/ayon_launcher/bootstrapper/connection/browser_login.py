"""Log in through the web browser (single sign-on): a one-shot listener on a loopback port.

The AYON web UI, opened at ``{server}/?auth_redirect={listener}``, lets the user log in by
any method the studio has (password, SSO) and then sends the browser to
``{listener}?token=...``. The listener checks the token with the server, answers the browser
with a short page, and closes. Its path holds a random part, so that no other page can hand
the launcher a token of someone else.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, quote, urlsplit

from ayon_launcher.bootstrapper.connection.login import Session, session_of
from ayon_launcher.support.envconfig import env_number
from ayon_launcher.support.errors import AuthenticationRequired, LauncherError
from ayon_launcher.support.log import register_secret

TIMEOUT_ENV = "AYON_BROWSER_LOGIN_TIMEOUT"
DEFAULT_TIMEOUT = 300.0
LOOPBACK = "127.0.0.1"


class BrowserLoginTimeout(AuthenticationRequired):
    """The browser never came back with a login."""


def _page(title: str, text: str) -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            "</title></head><body style='font-family:sans-serif;background:#1c2026;"
            "color:#e0e0e0;text-align:center;padding-top:15vh'>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
            ).encode()


class BrowserLogin:
    """One browser login to ``server_url``: ``open()`` the browser, then ``wait()``."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._path = f"/ayon-login/{secrets.token_urlsafe(16)}"
        self._session: Session | None = None
        self._done = threading.Event()
        self._problem: str | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                if parts.path != owner._path:
                    self._answer(404, _page("Not found", "This is not an AYON login address."))
                    return
                token = (parse_qs(parts.query).get("token") or [""])[0]
                register_secret(token or None)
                session = None
                if token:
                    try:
                        session = session_of(owner.server_url, token)
                    except LauncherError as exc:
                        owner._problem = str(exc)
                if session is None:
                    owner._problem = owner._problem or "the server did not accept the login"
                    self._answer(400, _page("Login failed",
                                            "The AYON launcher did not get a valid login. "
                                            "Close this tab and try again."))
                else:
                    owner._session = session
                    self._answer(200, _page("Logged in to AYON",
                                            f"You are logged in as {session.username}. "
                                            "You can close this tab."))
                owner._done.set()

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # the query holds the token: never logged

        self._server = HTTPServer((LOOPBACK, 0), Handler)
        self._server.timeout = 0.2
        self.port = self._server.server_address[1]

    @property
    def redirect_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{self._path}"

    @property
    def login_url(self) -> str:
        """The server's page that logs in and then sends the browser to the listener."""
        return f"{self.server_url}/?auth_redirect={quote(self.redirect_url, safe='')}"

    def open_browser(self) -> bool:
        """Open the login page in the user's browser (``BROWSER`` is honoured)."""
        import webbrowser

        try:
            return webbrowser.open(self.login_url)
        except webbrowser.Error:
            return False

    def wait(self, timeout: float | None = None,
             cancel: threading.Event | None = None) -> Session | None:
        """Serve until the browser brings a valid token; then close the listener.

        Returns None when ``cancel`` is set; raises BrowserLoginTimeout after ``timeout``
        seconds (AYON_BROWSER_LOGIN_TIMEOUT, 300 by default) and AuthenticationRequired when
        the browser brought a token the server refused.
        """
        if timeout is None:
            timeout = env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, minimum=1)
        deadline = time.monotonic() + timeout
        try:
            while not self._done.is_set():
                if cancel is not None and cancel.is_set():
                    return None
                if time.monotonic() > deadline:
                    raise BrowserLoginTimeout(
                        f"the browser did not come back with a login to {self.server_url} "
                        f"within {timeout:g} s (finish the login in the browser sooner, or "
                        "log in with a user name and password)")
                self._server.handle_request()
        finally:
            self.close()
        if self._session is None:
            raise AuthenticationRequired(f"browser login to {self.server_url} failed: "
                                         f"{self._problem}")
        return self._session

    def close(self) -> None:
        self._server.server_close()
