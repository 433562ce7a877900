"""``ayon addon <name> <command> ...``: run the click commands add-ons register (and ``module``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.pipeline.addons.base import failure_reason
from ayon_launcher.support.errors import UsageError
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult

_META_KEY = "ayon_launcher.addon_groups"
log = get_logger("addons")


def _bootstrap(ctx: click.Context) -> BootstrapResult:
    from ayon_launcher.bootstrapper.cli.common import prepare

    return prepare(ctx.find_object(LauncherContext) or LauncherContext())


class AddonCommands(click.Group):
    """The commands of one add-on; an unknown command is a one-line error listing them."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = ", ".join(sorted(self.commands)) or "none"
            raise UsageError(f"add-on {self.name!r} has no command {name!r} (commands: {known})")
        return super().resolve_command(ctx, args)


class AddonsGroup(click.Group):
    """Lists the loaded add-ons as sub-groups; bootstraps only when an add-on is asked for."""

    def _groups(self, ctx: click.Context) -> tuple[dict[str, click.Group], dict[str, str]]:
        root = ctx.find_root()
        cached = root.meta.get(_META_KEY)
        if cached is None:
            result = _bootstrap(ctx)
            groups: dict[str, click.Group] = {}
            errors = dict(result.load_errors)
            for addon in result.addons:
                if addon.name in groups or addon.name in errors:
                    continue
                group = AddonCommands(name=addon.name,
                                      help=f"Commands of add-on {addon.name} {addon.version}.")
                try:
                    addon.cli(group)
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - others still work
                    reason = f"its cli() failed: {failure_reason(exc)}"
                    log.warning("add-on %s: %s", addon.name, reason)
                    errors[addon.name] = reason
                    continue
                if group.commands:  # only add-ons that really registered commands
                    groups[addon.name] = group
            cached = (groups, errors)
            root.meta[_META_KEY] = cached
        return cached

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._groups(ctx)[0])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._groups(ctx)[0].get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-"):
            groups, errors = self._groups(ctx)
            if name not in groups:
                if name in errors:
                    raise UsageError(f"add-on {name!r} failed to load: {errors[name]}")
                known = ", ".join(sorted(groups)) or "none"
                raise UsageError(f"unknown add-on {name!r} (add-ons with commands: {known})")
        return super().resolve_command(ctx, args)


class DeprecatedAddonsGroup(AddonsGroup):
    """``ayon module``: same as ``ayon addon`` with a deprecation note first."""

    def invoke(self, ctx: click.Context) -> object:
        click.echo("ayon: `ayon module` is deprecated, use `ayon addon` instead", err=True)
        return super().invoke(ctx)


@click.group(cls=AddonsGroup, name="addon")
def addon() -> None:
    """Run command-line commands of the loaded add-ons: ``ayon addon NAME COMMAND [ARGS]``."""


@click.group(cls=DeprecatedAddonsGroup, name="module")
def module() -> None:
    """Older alias of ``ayon addon`` (deprecated)."""
