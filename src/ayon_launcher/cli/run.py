"""``ayon SCRIPT [ARGS]`` and the deprecated ``ayon run --script SCRIPT [ARGS]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..context import LauncherContext
from ..errors import UsageError
from ..log import get_logger

log = get_logger("run")

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_interspersed_args": False,
                 "help_option_names": []}


def run_script(launcher: LauncherContext, path: str, args: list[str]) -> int:
    """Run ``path`` as ``__main__`` in the AYON environment; its exit code."""
    import runpy
    import traceback

    from .common import prepare

    script = Path(path)
    if not script.is_file():
        raise UsageError(f"script not found: {path}")
    prepare(launcher)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        return 130
    except BaseException:  # noqa: BLE001 - the script's own error: show it as Python would
        traceback.print_exc()
        return 1
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints the message, exits 1
    return 1


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
