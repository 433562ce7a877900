"""The ``ayon`` command: global flags, lazy sub-commands, script pass-through, error handling."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from ayon_launcher import __version__
from ayon_launcher.bootstrapper.cli.entry import (
    COMMANDS,
    is_debug,
    print_error,
    report_error,
    start_launcher,
)
from ayon_launcher.bootstrapper.context import parse_log_level
from ayon_launcher.support.errors import LauncherError
from ayon_launcher.support.log import redact

SCRIPT_COMMAND = "ayon_launcher.bootstrapper.cli.run:script"


def _load(target: str) -> click.Command:
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


class LauncherGroup(click.Group):
    """Loads commands on demand and treats an existing file as a script to run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        return _load(target) if target else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if name not in COMMANDS and (name.endswith(".py") or os.path.isfile(name)):
            # `ayon script.py arg1 arg2`: the path and its arguments go to the script command.
            return "script", _load(SCRIPT_COMMAND), args
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module.
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        rows.append(("SCRIPT.py [ARGS]", "Run a Python script inside the AYON environment."))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_HELP = {
    "tray": "Launch the AYON tray (default when no command is given).",
    "run": "Run a Python script inside the AYON environment (deprecated: use `ayon SCRIPT`).",
    "interactive": "Start an interactive Python console with the AYON environment.",
    "extractenvironments": "Extract environment variables for a context to a JSON file.",
    "contextselection": "Open the context selection dialog and write the choice to JSON.",
    "publish": "Publish the data described by a JSON metadata file.",
    "addon": "Run command-line commands of the loaded add-ons.",
    "module": "Older alias of `addon`.",
    "login": "Log in to the AYON server (or as another user).",
    "logout": "Forget the stored token of the AYON server.",
    "server": "Run the embedded local AYON-compatible server (the [server] extra).",
    "installer": "Build an installer of this launcher, or upload one to the server.",
    "init": "Register the ayon-launcher:// scheme and a desktop entry (--remove undoes it).",
    "init-ayon-launcher": "Same as `init` (the official launcher's name).",
}


def _verbose_callback(ctx: click.Context, param: click.Parameter, value: Any) -> int | None:
    try:
        return parse_log_level(value)
    except LauncherError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(
    cls=LauncherGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--headless", is_flag=True, envvar="AYON_HEADLESS_MODE",
              help="Run without any graphical UI (farm, automation).")
@click.option("--use-staging", is_flag=True, envvar="AYON_USE_STAGING",
              help="Use the staging bundle.")
@click.option("--use-dev", is_flag=True, envvar="AYON_USE_DEV",
              help="Use the current user's dev bundle.")
@click.option("--bundle", "--studio-bundle", "bundle_name", metavar="NAME",
              envvar="AYON_STUDIO_BUNDLE_NAME", help="Use the named studio bundle.")
@click.option("--project-bundle", metavar="NAME", envvar="AYON_BUNDLE_NAME",
              help="Use the named project bundle over the studio bundle.")
@click.option("--project", "project_name", metavar="NAME", envvar="AYON_PROJECT_NAME",
              help="Use the bundle the project names (its project bundle).")
@click.option("--verbose", metavar="LEVEL", envvar="AYON_LOG_LEVEL", callback=_verbose_callback,
              help="Log level: 0-50 or notset/debug/info/warning/error/critical.")
@click.option("--debug", is_flag=True, envvar="AYON_DEBUG", help="Debug mode (tracebacks, logs).")
@click.option("--skip-bootstrap", is_flag=True,
              help="No server call, no updates, no add-ons.")
@click.option("--skip-headers", is_flag=True, hidden=True,
              help="Accepted for the official launcher's callers (no headers are printed).")
@click.option("--ayon-login", is_flag=True, help="Show the login first (change server or user).")
@click.option("--verify", is_flag=True,
              help="Read every installed file against its manifest; repair what differs.")
@click.option("--local-server", is_flag=True,
              help="Start (or reuse) the embedded demo AYON server and connect to it "
                   "(needs the [server] extra).")
@click.version_option(__version__, "--version", prog_name="AYON launcher")
@click.pass_context
def cli(
    ctx: click.Context,
    headless: bool,
    use_staging: bool,
    use_dev: bool,
    bundle_name: str | None,
    project_bundle: str | None,
    project_name: str | None,
    verbose: int | None,
    debug: bool,
    skip_bootstrap: bool,
    skip_headers: bool,
    ayon_login: bool,
    verify: bool,
    local_server: bool,
) -> None:
    """AYON desktop launcher.

    Global options go before the command. Without a command the tray starts.
    """
    launcher = start_launcher(headless=headless, use_staging=use_staging, use_dev=use_dev,
                              bundle_name=bundle_name, verbose=verbose, debug=debug,
                              skip_bootstrap=skip_bootstrap, project_bundle_name=project_bundle,
                              project_name=project_name, verify=verify)
    ctx.obj = launcher
    if local_server:
        _use_local_server(ctx)
    if ayon_login:
        from ayon_launcher.pipeline.handoff import force_login

        force_login(launcher)
    if ctx.invoked_subcommand is None:
        ctx.invoke(_load(COMMANDS["tray"]))


def _use_local_server(ctx: click.Context) -> None:
    """Point this process (and its children) at the embedded server, as its service user."""
    from ayon_launcher.localserver import require_installed

    require_installed()  # the [server] extra: one line naming it, before any file is made
    from ayon_launcher.localserver.embedded import start_embedded

    embedded = start_embedded()
    ctx.call_on_close(embedded.close)
    os.environ["AYON_SERVER_URL"] = embedded.url
    os.environ["AYON_API_KEY"] = embedded.api_key
    # Hints printed later must name the flag: without it the next command has no server.
    ctx.obj.extra["local_server"] = True


# click >= 8.2 raises this when a group is called without its command.
_NO_ARGS_IS_HELP: type[click.ClickException] = getattr(
    click.exceptions, "NoArgsIsHelpError", type("_NeverRaised", (click.ClickException,), {}))


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the click app; expected failures become one line on stderr and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="ayon", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except _NO_ARGS_IS_HELP as exc:  # `ayon addon`: the help is the answer, not an error
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        code = exc.exit_code
    except click.ClickException as exc:
        # One line, whatever click would print (usage block, a value with line breaks).
        message = " ".join(exc.format_message().split())
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        print_error(f"ayon: error: {redact(message)}{hint}", exc.exit_code)
        code = exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort; a prompt answered with Ctrl-D is an Abort too.
        interrupted = isinstance(exc.__context__, KeyboardInterrupt)
        click.echo("ayon: interrupted" if interrupted else "ayon: aborted", err=True)
        code = 130
    except KeyboardInterrupt:
        click.echo("ayon: interrupted", err=True)
        code = 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a bare traceback
        code = report_error(exc, is_debug(args))
    sys.exit(code if isinstance(code, int) else 0)
