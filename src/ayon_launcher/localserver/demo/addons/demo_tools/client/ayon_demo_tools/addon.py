"""The demo_tools add-on: a `hello` command, a tray action, an env variable, publish plug-ins."""

from __future__ import annotations

import os

from ayon_launcher.addons import AYONAddon, TrayAction

from .version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class DemoToolsAddon(AYONAddon):
    """Small add-on that shows settings reaching the client."""

    name = "demo_tools"
    version = __version__

    def initialize(self, settings: dict[str, Any]) -> None:
        self.greeting = str(settings.get("greeting") or "Hello from demo_tools")
        self.tray_label = str(settings.get("tray_label") or "Say hello")
        self.greet_count = 0

    def greet(self, name: str | None = None) -> str:
        self.greet_count += 1
        target = f", {name}" if name else ""
        return f"{self.greeting}{target}! (demo_tools {self.version})"

    def cli(self, addon_group: Any) -> None:
        import click

        @addon_group.command("hello")
        @click.option("--name", default=None, help="Who to greet.")
        def hello(name: str | None) -> None:
            """Print a greeting from the demo_tools add-on."""
            click.echo(self.greet(name))

    def tray_actions(self) -> list[TrayAction]:
        return [TrayAction(self.tray_label, lambda: print(self.greet()))]

    def environment(self) -> dict[str, str]:
        return {"AYON_DEMO_TOOLS_VERSION": self.version}

    def publish_plugin_paths(self) -> list[str]:
        # Collector, validator and integrator used by `ayon publish JOB.json --targets farm`.
        return [os.path.join(os.path.dirname(__file__), "plugins", "publish")]
