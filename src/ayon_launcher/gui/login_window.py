"""The Qt login dialog as the connection layer's login UI, when a window can be shown here.

Without Qt at import time: the command line hands ``login_window`` to the connection layer
(``LauncherContext.login_window``), which calls it only when a login must be asked for; Qt
is imported only when the dialog can be shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.connection.session import LoginAsker
    from ayon_launcher.bootstrapper.context import LauncherContext


def login_window(ctx: LauncherContext) -> LoginAsker | None:
    """The login dialog's asker when a window can be shown for ``ctx``; else None."""
    from ayon_launcher.gui.display import LOGIN_DIALOG_TEST_HOOK_ENV, display_problem

    # The test hook answers an offscreen dialog in tests.
    if display_problem(ctx.headless, "the login dialog",
                       test_hook_env=LOGIN_DIALOG_TEST_HOOK_ENV) is not None:
        return None
    from ayon_launcher.gui.login_dialog import ask_login

    return ask_login
