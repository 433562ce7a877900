"""``ayon server``: run the embedded local AYON-compatible server until Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import click

from ayon_launcher.support.errors import UsageError


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the server's database and files (default: the local server dir).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback only).")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--demo", is_flag=True, help="Seed the demo data when the server is empty.")
@click.option("--token-lifetime", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Lifetime of login tokens (default: 24 hours).")
def server(data_dir: Path | None, host: str, port: int, demo: bool,
           token_lifetime: float | None) -> None:
    """Run the embedded local AYON-compatible server.

    It needs the optional web stack: pip install "ayon-launcher[server]".
    """
    import sqlite3

    from ayon_launcher.localserver import require_installed

    require_installed()  # the [server] extra: one line naming it, before any file is made
    from ayon_launcher.localserver.seed import ensure_users, seed_demo
    from ayon_launcher.localserver.server import LocalServer, ensure_port_free
    from ayon_launcher.support import paths

    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise UsageError(f"--host must be a loopback address, got '{host}'")
    host = "127.0.0.1" if host == "localhost" else host
    data_dir = data_dir or paths.local_server_dir()
    if port:
        ensure_port_free(host, port)  # before anything is created in the data folder
    try:
        instance = LocalServer(data_dir, host=host, port=port, token_lifetime=token_lifetime)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(f"cannot use {data_dir} as the server's data folder: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    credentials = seed_demo(instance.store) if demo else ensure_users(instance.store)
    instance.start()
    click.echo(f"AYON local server running at {instance.url}", err=False)
    click.echo(f"Data folder: {instance.data_dir}")
    # This loopback server's built-in accounts are meant to be shown: without them nobody
    # could log in (the admin for people, the service key for farms and scripts).
    click.echo(f"Login: user '{credentials['admin_user']}',"
               f" password '{credentials['admin_password']}'")
    click.echo(f"Service user API key: {credentials['service_api_key']}")
    click.echo("Press Ctrl-C to stop.", err=False)
    try:
        instance.wait()
    finally:
        instance.close()
