"""Server connection: URL rules, credentials (keyring with a private-file fallback), login.

``connect(ctx)`` is what bootstrap calls: it finds the server URL (``AYON_SERVER_URL`` wins
over the stored one), uses ``AYON_API_KEY`` or the stored token while the server accepts
it, and otherwise asks for a login: through the window the caller passes in
(``ctx.login_window``, the command line's Qt dialog: this package never imports the GUI), else
a terminal prompt with a terminal.
"""

from __future__ import annotations

from ayon_launcher.bootstrapper.connection.login import Session
from ayon_launcher.bootstrapper.connection.session import (
    LoginAsker,
    LoginPrompt,
    activate,
    connect,
    forget_login,
    open_api,
    resolve_session,
)

__all__ = [
    "LoginAsker",
    "LoginPrompt",
    "Session",
    "activate",
    "connect",
    "forget_login",
    "open_api",
    "resolve_session",
]
