"""From flags, environment and stored credentials to a logged-in session (asking if needed)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from ayon_launcher.bootstrapper.connection.login import (
    LoginFailed,
    Session,
    check_server,
    session_of,
)
from ayon_launcher.bootstrapper.connection.urls import SERVER_URL_ENV, normalize_server_url
from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.support.errors import AuthenticationRequired
from ayon_launcher.support.log import get_logger, register_secret
from ayon_launcher.support.records import Record

# credentials.py (keyring, the fallback file) is imported where a stored login is read or
# written: a start with AYON_API_KEY (a farm's) never needs it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ayon_api

log = get_logger("connection")

API_KEY_ENV = "AYON_API_KEY"

NO_LOGIN_HINT = (
    "set AYON_SERVER_URL and AYON_API_KEY (the API key of a service user, for farms and "
    "automation), or run `ayon login` where a screen or a terminal is available"
)


class LoginCancelled(AuthenticationRequired):
    """The user closed the login UI without logging in."""


class LoginPrompt(Record):
    """What a login UI starts from."""

    _fields = ("server_url", "username", "message", "url_locked")

    def __init__(self, server_url: str | None = None, username: str | None = None,
                 message: str | None = None, url_locked: bool = False) -> None:
        self.server_url = server_url
        self.username = username
        self.message = message  # why the login is asked for (token expired, ...)
        self.url_locked = url_locked  # AYON_SERVER_URL is set: the URL cannot be changed


# Shows a login UI; returns the logged-in session, or None when the user cancels.
LoginAsker = Callable[[LoginPrompt], "Session | None"]


def _server_url_from(ctx: LauncherContext) -> tuple[str | None, bool]:
    """(URL, locked): the environment's URL wins over the stored one."""
    env_url = os.environ.get(SERVER_URL_ENV)
    if env_url:
        return normalize_server_url(env_url), True
    if ctx.server_url:
        return normalize_server_url(ctx.server_url), False
    from ayon_launcher.bootstrapper.connection.credentials import credential_store

    stored = credential_store().server_url()
    return (normalize_server_url(stored) if stored else None), False


def resolve_session(ctx: LauncherContext, ask: LoginAsker | None = None, *,
                    interactive: bool = True, force_login: bool = False) -> Session:
    """A session for the server of ``ctx``: API key, stored token, or a new login.

    Raises ServerUnreachableError before asking anything when the server is down,
    AuthenticationRequired when a login is needed but cannot (or may not) be asked for, and
    LoginCancelled when the user closes the login UI.
    ``force_login`` always asks (log in as another user).
    """
    from ayon_launcher.bootstrapper.connection.credentials import credential_store

    url, locked = _server_url_from(ctx)
    username = None
    message = None
    if url and not force_login:
        check_server(url)
        api_key = os.environ.get(API_KEY_ENV)
        if api_key:
            register_secret(api_key)
            session = session_of(url, api_key, api_key_first=True)
            if session is None:
                raise AuthenticationRequired(
                    f"the server {url} rejected the key in AYON_API_KEY (revoked or expired)")
            return session
        stored = credential_store().load(url)
        username = stored.username
        if stored.token:
            session = session_of(url, stored.token)
            if session is not None:
                log.debug("reusing the stored login of %s on %s", session.username, url)
                if stored.from_official:
                    remember(session)  # this launcher's own from now on
                return session
            # Kept until a new login replaces it: the URL and user name stay the defaults.
            message = f"Your login to {url} has expired: please log in again."
    elif url and force_login:
        username = credential_store().load(url).username

    asker = ask if ask is not None else (default_asker(ctx) if interactive else None)
    if asker is None:
        if message:
            raise AuthenticationRequired(f"the stored login for {url} has expired: "
                                         f"{NO_LOGIN_HINT}")
        where = f"for {url}" if url else "and no AYON server URL is known"
        raise AuthenticationRequired(f"a login is needed {where}: {NO_LOGIN_HINT}")
    session = asker(LoginPrompt(url, username, message, locked))
    if session is None:
        raise LoginCancelled("login cancelled")
    remember(session, required=force_login)
    return session


def login_again(ctx: LauncherContext, ask: LoginAsker, message: str | None = None) -> Session:
    """A new login on the server of ``ctx`` or another one (the URL can always be changed):
    the way out when the stored server is dead or its login stale.

    The login is stored (the next start uses it) and made this run's, so that the next
    bootstrap of this process connects to it whatever ``AYON_SERVER_URL`` said.
    Raises LoginCancelled when the user closes the login UI.
    """
    from ayon_launcher.bootstrapper.connection.credentials import credential_store

    url, _locked = _server_url_from(ctx)
    username = credential_store().load(url).username if url else None
    session = ask(LoginPrompt(url, username, message, url_locked=False))
    if session is None:
        raise LoginCancelled("login cancelled")
    remember(session)
    activate(ctx, session)
    return session


def remember(session: Session, *, required: bool = False) -> None:
    """Store ``session`` for the next runs; when it cannot be stored, use it for this run only.

    ``required`` (``ayon login``, the tray's "login as another user": storing is the point)
    raises CredentialsNotSaved instead, after ending the new token on the server: nobody could
    use it any more, it must not stay valid there.
    """
    from ayon_launcher.bootstrapper.connection.credentials import (
        CredentialsNotSaved,
        StoredLogin,
        credential_store,
    )
    from ayon_launcher.bootstrapper.connection.login import logout

    try:
        credential_store().save(StoredLogin(session.server_url, session.token,
                                            session.username))
    except CredentialsNotSaved as exc:
        if required:
            logout(session)
            raise
        log.warning("%s; the login is used for this run only and will be asked for again",
                    exc)


def activate(ctx: LauncherContext, session: Session) -> None:
    """Make ``session`` the launcher's: context, and the variables ayon_api and children read."""
    register_secret(session.token)
    ctx.server_url = session.server_url
    ctx.token = session.token
    ctx.extra["username"] = session.username
    ctx.extra["is_service"] = session.is_service
    os.environ[SERVER_URL_ENV] = session.server_url
    os.environ[API_KEY_ENV] = session.token
    from ayon_launcher.bootstrapper.connection.tls import export_ca_bundle

    export_ca_bundle()


def open_api(session: Session) -> ayon_api.ServerAPI:
    """An ayon_api connection with the session's token and the TLS settings of tls.py."""
    import ayon_api

    from ayon_launcher.bootstrapper.connection.tls import request_settings

    tls = request_settings()
    return ayon_api.ServerAPI(session.server_url, token=session.token,
                              ssl_verify=tls["verify"], cert=tls["cert"])


def connect(ctx: LauncherContext, ask: LoginAsker | None = None, *,
            interactive: bool = True) -> ayon_api.ServerAPI:
    """Log in as needed and return a connected ``ayon_api.ServerAPI`` (bootstrap's entry)."""
    session = resolve_session(ctx, ask, interactive=interactive)
    activate(ctx, session)
    return open_api(session)


def forget_login(ctx: LauncherContext, *, forget_server: bool = False) -> str | None:
    """Logout: end the stored session on the server and forget its token.

    The server URL and user name stay (the next login starts from them) unless
    ``forget_server``. Returns the server URL that was logged out of, None when no login was
    stored.
    """
    from ayon_launcher.bootstrapper.connection.credentials import StoredLogin, credential_store
    from ayon_launcher.bootstrapper.connection.login import logout

    url, _locked = _server_url_from(ctx)
    if not url:
        return None
    store = credential_store()
    stored = store.load(url)
    if stored.from_official:  # the official launcher's login is its own to end
        stored = StoredLogin(url)
    if stored.token:
        logout(Session(url, stored.token, stored.username, False))
    if forget_server:
        store.forget_server(url)
    elif stored.token:
        store.forget_token(url)
    return url if stored.token else None


_PROCESS_ASKER: LoginAsker | None = None


def use_login_asker(asker: LoginAsker | None) -> None:
    """Make ``asker`` this process's login UI (the tray's dialog, callable from any thread)."""
    global _PROCESS_ASKER
    _PROCESS_ASKER = asker


def default_asker(ctx: LauncherContext) -> LoginAsker | None:
    """The process's login UI if one is set; else the login window the caller offers
    (``ctx.login_window``: the command line gives the Qt dialog, which says whether it can be
    shown here), a terminal prompt with a terminal, or None. This layer knows no GUI."""
    if _PROCESS_ASKER is not None:
        return _PROCESS_ASKER
    window = ctx.login_window(ctx) if ctx.login_window is not None else None
    if window is not None:
        return window
    if sys.stdin is not None and sys.stdin.isatty():
        return terminal_login
    return None


def browser_login(prompt: LoginPrompt) -> Session | None:
    """Log in through the web browser (SSO) from a terminal: the URL is asked if unknown."""
    import click

    from ayon_launcher.bootstrapper.connection.browser_login import BrowserLogin
    from ayon_launcher.bootstrapper.connection.login import check_server

    url = prompt.server_url
    if not url:
        if sys.stdin is None or not sys.stdin.isatty():
            raise AuthenticationRequired("no AYON server URL is known for the browser login: "
                                         "set AYON_SERVER_URL")
        url = _ask_server_url()
    check_server(url)
    login = BrowserLogin(url)
    if login.open_browser():
        click.echo(f"Log in to {url} in the browser that opened; waiting for it "
                   "(Ctrl+C cancels).", err=True)
    else:
        click.echo(f"No web browser could be opened: open this address in one on this "
                   f"computer to log in:\n  {login.login_url}", err=True)
    return login.wait()


def _ask_server_url() -> str:
    """Ask the terminal for the server URL until it is a valid one (normalised)."""
    import click

    from ayon_launcher.bootstrapper.connection.urls import url_problem

    while True:
        answer = click.prompt("AYON server URL", err=True).strip()
        problem = url_problem(answer)
        if not problem:
            return normalize_server_url(answer)
        click.echo(f"Invalid AYON server URL: {problem}", err=True)


def terminal_login(prompt: LoginPrompt, attempts: int = 3) -> Session | None:
    """Ask on the terminal (password not echoed); a wrong password may be retried."""
    import click

    from ayon_launcher.bootstrapper.connection.login import login

    if prompt.message:
        click.echo(prompt.message, err=True)
    url = prompt.server_url or _ask_server_url()
    for attempt in range(attempts):
        username = click.prompt("User name", default=prompt.username or None, err=True)
        password = click.prompt("Password", hide_input=True, err=True)
        try:
            return login(url, username, password)
        except LoginFailed as exc:
            if attempt == attempts - 1:
                raise
            click.echo(str(exc), err=True)
    return None
