"""``ayon init`` (also ``init-ayon-launcher``): desktop integration for the current user."""

from __future__ import annotations

import click


@click.command()
@click.option("--remove", is_flag=True, help="Undo the registration.")
@click.option("--autostart", is_flag=True, help="Also start the tray at login.")
def init(remove: bool, autostart: bool) -> None:
    """Register the ayon-launcher:// scheme, a desktop entry and the stable `ayon` entry point."""
    from ayon_launcher.bootstrapper import desktop_integration as integration
    from ayon_launcher.gui.style import logo_svg  # Qt-free: the logo as an SVG document

    if remove and autostart:
        raise click.UsageError("--remove and --autostart cannot go together")
    changes = (integration.remove() if remove
               else integration.install(logo_svg("connected"), autostart=autostart))
    for line in changes:
        click.echo(line)
    if not changes:
        click.echo("nothing to remove" if remove else "already registered: nothing changed")
    elif not remove:
        click.echo(f"entry point: {integration.entry_point_path()}")
