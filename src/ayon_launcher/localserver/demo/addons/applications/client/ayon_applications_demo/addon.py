"""The demo applications add-on: exposes the applications and tools of its settings."""

from __future__ import annotations

from ayon_launcher.addons import AYONAddon

from .version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ApplicationsAddon(AYONAddon):
    """Holds the studio's application and tool definitions (read by extractenvironments)."""

    name = "applications"
    version = __version__

    def initialize(self, settings: dict[str, Any]) -> None:
        from ayon_launcher.environment.applications import ApplicationsSettings

        self.applications = ApplicationsSettings(settings)

    def cli(self, addon_group: Any) -> None:
        import click

        @addon_group.command("list")
        def list_applications() -> None:
            """List the applications and tools of the bundle."""
            for app in self.applications.applications.values():
                click.echo(f"{app.full_name}\t{app.label}\t{app.host_name}")
            for tool in self.applications.tools.values():
                click.echo(f"{tool.full_name}\ttool")
