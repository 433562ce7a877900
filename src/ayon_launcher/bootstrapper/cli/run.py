"""``ayon SCRIPT [ARGS]`` and the deprecated ``ayon run --script SCRIPT [ARGS]``."""

from __future__ import annotations

import click

from ayon_launcher.bootstrapper.cli.script_runner import run_script
from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.support.errors import UsageError

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_interspersed_args": False,
                 "help_option_names": []}


@click.command("script", context_settings=_PASS_THROUGH, hidden=True)
@click.argument("path")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def script(launcher: LauncherContext | None, path: str, args: tuple[str, ...]) -> None:
    """Run a Python script inside the AYON environment."""
    raise SystemExit(run_script(launcher or LauncherContext(), path, list(args)))


@click.command("run", context_settings={**_PASS_THROUGH, "help_option_names": ["-h", "--help"]})
@click.option("--script", "script_path", metavar="SCRIPT", help="Python script to run.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def run(launcher: LauncherContext | None, script_path: str | None,
        args: tuple[str, ...]) -> None:
    """Run a Python script inside the AYON environment (deprecated: use `ayon SCRIPT`)."""
    rest = list(args)
    if not script_path:
        if not rest:
            raise UsageError("ayon run needs a script: ayon run --script SCRIPT [ARGS]")
        script_path = rest.pop(0)
    click.echo("ayon: `ayon run --script` is deprecated, use `ayon SCRIPT [ARGS]`", err=True)
    raise SystemExit(run_script(launcher or LauncherContext(), script_path, rest))
