"""``ayon interactive``: a Python console with the AYON environment and a server connection."""

from __future__ import annotations

import click

from ayon_launcher.bootstrapper.context import LauncherContext


@click.command()
@click.pass_obj
def interactive(launcher: LauncherContext | None) -> None:
    """Start an interactive Python console with the AYON environment.

    `ayon_api` is imported and, when connected, `con` is the server connection.
    """
    import code
    import sys

    from ayon_launcher import __version__
    from ayon_launcher.bootstrapper.cli.common import prepare

    launcher = launcher or LauncherContext()
    result = prepare(launcher)
    namespace: dict[str, object] = {"__name__": "__console__", "addons": result.addons}
    lines = [f"AYON launcher {__version__} (Python {sys.version.split()[0]})"]
    if result.api is not None:
        import ayon_api

        namespace.update(ayon_api=ayon_api, con=ayon_api.get_server_api_connection())
        lines.append(f"Connected to {result.server_url}, bundle {result.bundle_name}: "
                     "`con` is the server connection, `ayon_api` the client module.")
    elif result.offline:
        lines.append(f"OFFLINE: bundle {result.bundle_name}, no server connection.")
    lines.append("`addons` lists the loaded add-ons. Ctrl-D (Ctrl-Z on Windows) exits.")
    code.interact(banner="\n".join(lines), local=namespace, exitmsg="")
