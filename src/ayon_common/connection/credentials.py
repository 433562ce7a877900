"""``change_user_ui``, as ayon-core's tray calls it ("Change user" / login again).

It shows this launcher's login dialog and tells the tray what changed: ayon-core restarts
the launcher when ``token_changed`` (or ``restart``) is true and quits when ``shutdown`` is.
"""

from __future__ import annotations

import os

__all__ = ["ChangeUserResult", "change_user_ui"]


class ChangeUserResult:
    """What a login change did: the old and new URL, token and user name."""

    def __init__(self, logged_out: bool, old_url: str | None, old_token: str | None,
                 old_username: str | None, new_url: str | None, new_token: str | None,
                 new_username: str | None) -> None:
        self.logged_out = logged_out
        self.old_url = old_url
        self.old_token = old_token
        self.old_username = old_username
        self.new_url = new_url
        self.new_token = new_token
        self.new_username = new_username
        # What ayon-core's tray reads.
        self.shutdown = logged_out
        self.restart = new_url is not None and new_url != old_url
        self.token_changed = new_token is not None and new_token != old_token

    def __repr__(self) -> str:  # never the tokens
        return (f"ChangeUserResult(old_url={self.old_url!r}, new_url={self.new_url!r}, "
                f"new_username={self.new_username!r}, token_changed={self.token_changed}, "
                f"restart={self.restart}, shutdown={self.shutdown})")


def change_user_ui() -> ChangeUserResult:
    """Show this launcher's login dialog (URL and user name filled in); store a new login.

    When the caller gave the credentials (AYON_IN_LOGIN_MODE=0: an API key in the
    environment), nothing can change here: the result says so (nothing changed).
    Closing the dialog changes nothing either.
    """
    from ayon_launcher.bootstrapper.connection.credentials import credential_store
    from ayon_launcher.bootstrapper.connection.session import (
        LoginCancelled,
        LoginPrompt,
        default_asker,
        remember,
    )
    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.support.log import get_logger

    url = os.environ.get("AYON_SERVER_URL") or credential_store().server_url()
    token = os.environ.get("AYON_API_KEY")
    if os.environ.get("AYON_IN_LOGIN_MODE") == "0":
        get_logger("login").warning(
            "this AYON session uses the credentials it was started with (AYON_API_KEY); "
            "the user cannot be changed here")
        return ChangeUserResult(False, url, token, None, None, None, None)
    stored = credential_store().load(url) if url else None
    username = stored.username if stored else None
    token = token or (stored.token if stored else None)
    from ayon_launcher.gui.login_window import login_window

    ctx = LauncherContext(headless=os.environ.get("AYON_HEADLESS_MODE") == "1")
    ctx.login_window = login_window  # ayon-core's tray: this launcher's Qt login dialog
    ask = default_asker(ctx)
    if ask is None:
        get_logger("login").warning("no login window can be shown here (no display)")
        return ChangeUserResult(False, url, token, username, None, None, None)
    try:
        session = ask(LoginPrompt(url, username, None, False))
    except LoginCancelled:
        session = None
    if session is None:
        return ChangeUserResult(False, url, token, username, None, None, None)
    remember(session)
    return ChangeUserResult(False, url, token, username, session.server_url, session.token,
                            session.username)
