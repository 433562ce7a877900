"""``ayon login`` (first login, or as another user) and ``ayon logout``."""

from __future__ import annotations

import click

from ayon_launcher.bootstrapper.context import LauncherContext


@click.command()
@click.option("--browser", is_flag=True,
              help="Log in through the web browser (single sign-on, or any login the AYON "
                   "web page offers).")
@click.pass_obj
def login(launcher: LauncherContext | None, browser: bool) -> None:
    """Log in to the AYON server (again, or as another user) and remember the login."""
    from ayon_launcher.bootstrapper.connection import activate, resolve_session

    launcher = launcher or LauncherContext()
    ask = None
    if browser:
        from ayon_launcher.bootstrapper.connection.session import browser_login

        ask = browser_login
    session = resolve_session(launcher, ask, force_login=True)
    activate(launcher, session)
    click.echo(f"Logged in to {session.server_url} as {session.username}.")


@click.command()
@click.option("--keep-server", is_flag=True,
              help="Keep the server URL and user name as defaults for the next login.")
@click.pass_obj
def logout(launcher: LauncherContext | None, keep_server: bool) -> None:
    """Log out: forget the stored token, and the server URL unless --keep-server."""
    from ayon_launcher.bootstrapper.connection import forget_login

    url = forget_login(launcher or LauncherContext(), forget_server=not keep_server)
    click.echo(f"Logged out of {url}." if url else "Not logged in: nothing to log out.")
