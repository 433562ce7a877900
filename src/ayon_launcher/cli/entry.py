"""The ``ayon`` entry point: a click-free fast path for ``ayon [FLAGS] SCRIPT``, one-line errors.

Farm nodes run ``ayon script.py`` thousands of times a day, so that path imports neither click
nor any command module; everything else goes through the click app in ``cli/main.py``.
"""

from __future__ import annotations

import os
import sys

# Not `from typing import ...`: importing typing alone is a visible share of a script's start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from ..context import LauncherContext

# name -> "module:attribute"; modules are imported only when their command runs, so that a
# headless command never pays for Qt, FastAPI or pyblish.
COMMANDS: dict[str, str] = {
    "tray": "ayon_launcher.cli.tray:tray",
    "run": "ayon_launcher.cli.run:run",
    "interactive": "ayon_launcher.cli.interactive:interactive",
    "extractenvironments": "ayon_launcher.cli.extractenvironments:extractenvironments",
    "contextselection": "ayon_launcher.cli.contextselection:contextselection",
    "publish": "ayon_launcher.cli.publish:publish",
    "addon": "ayon_launcher.cli.addon:addon",
    "module": "ayon_launcher.cli.addon:module",
    "login": "ayon_launcher.cli.login:login",
    "logout": "ayon_launcher.cli.login:logout",
    "server": "ayon_launcher.cli.server:server",
    "installer": "ayon_launcher.cli.installer:installer",
    "init": "ayon_launcher.cli.init:init",
    "init-ayon-launcher": "ayon_launcher.cli.init:init",
}

# Global flags the fast path understands, with the variables click reads for them too.
_BOOL_FLAGS = {"--headless": "AYON_HEADLESS_MODE", "--use-staging": "AYON_USE_STAGING",
               "--use-dev": None, "--debug": "AYON_DEBUG", "--skip-bootstrap": None}
_VALUE_FLAGS = {"--bundle": "AYON_BUNDLE_NAME", "--verbose": "AYON_LOG_LEVEL"}
# As click's boolean parameter type reads them.
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def _fast_script_call(args: list[str]) -> tuple[dict[str, object], str, list[str]] | None:
    """(flags, script, script args) when ``args`` is ``[global flags] SCRIPT [ARGS]``."""
    flags: dict[str, object] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, has_value, value = arg.partition("=")
        if arg in _BOOL_FLAGS:
            flags[arg] = True
        elif name in _VALUE_FLAGS:
            if not has_value:
                i += 1
                if i >= len(args):
                    return None
                value = args[i]
            flags[name] = value
        else:
            break
        i += 1
    else:
        return None
    script = args[i]
    if script in COMMANDS or script.startswith("-"):
        return None
    if not (script.endswith(".py") or os.path.isfile(script)):
        return None
    for flag, variable in _BOOL_FLAGS.items():
        if flag not in flags and variable:
            text = os.environ.get(variable, "").strip().lower()
            if text not in _TRUE | _FALSE:
                return None  # let click explain the bad value
            flags[flag] = text in _TRUE
    for flag, variable in _VALUE_FLAGS.items():
        if flag not in flags and os.environ.get(variable):
            flags[flag] = os.environ[variable]
    return flags, script, args[i + 1:]


def start_launcher(*, headless: bool = False, use_staging: bool = False, use_dev: bool = False,
                   bundle_name: str | None = None, verbose: int | None = None,
                   debug: bool = False, skip_bootstrap: bool = False,
                   configure_logging: bool = True) -> LauncherContext:
    """The run context of the global flags, with logging set up for it (if asked)."""
    from ..context import LauncherContext

    level = verbose if verbose is not None else (10 if debug else 20)  # DEBUG / INFO
    if configure_logging:
        from ..log import setup_logging

        setup_logging(level, debug)
    return LauncherContext(headless=headless, use_staging=use_staging, use_dev=use_dev,
                           bundle_name=bundle_name or None, log_level=level, debug=debug,
                           skip_bootstrap=skip_bootstrap)


def report_error(exc: BaseException, debug: bool) -> int:
    """Print ``exc`` as one line on stderr (traceback first with ``--debug``); the exit code."""
    from ..errors import LauncherError, error_line
    from ..log import redact

    if debug:
        import traceback

        print(redact("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
    if isinstance(exc, LauncherError):
        print(f"ayon: error: {error_line(exc)}", file=sys.stderr)
        return exc.exit_code
    hint = "" if debug else " (run with --debug for details)"
    print(f"ayon: unexpected error: {error_line(exc)}{hint}", file=sys.stderr)
    return 1


def is_debug(args: list[str]) -> bool:
    return "--debug" in args or os.environ.get("AYON_DEBUG", "").lower() in _TRUE


def _web_action(args: list[str]) -> NoReturn:
    """``ayon [FLAGS] ayon-launcher://action?...``: what a web action button starts."""
    debug = is_debug(args)
    try:
        start_launcher(debug=debug)
        from ..webaction import run_action

        code = run_action(args[-1], args[:-1])
    except KeyboardInterrupt:
        print("ayon: interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a bare traceback
        code = report_error(exc, debug)
    sys.exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """``ayon``: a script call runs straight away; anything else goes to the click app."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[-1][:14].lower() == "ayon-launcher:":
        _web_action(args)
    call = _fast_script_call(args)
    if call is None:
        from .main import main as click_main

        click_main(args)
    flags, script, script_args = call
    debug = bool(flags.get("--debug"))
    try:
        from ..context import parse_log_level
        from .script_runner import run_script

        bundle = flags.get("--bundle")
        verbose = flags.get("--verbose")
        launcher = start_launcher(
            headless=bool(flags.get("--headless")), use_staging=bool(flags.get("--use-staging")),
            use_dev=bool(flags.get("--use-dev")), bundle_name=str(bundle) if bundle else None,
            verbose=parse_log_level(str(verbose) if verbose is not None else None),
            debug=debug, skip_bootstrap=bool(flags.get("--skip-bootstrap")),
            # A script without bootstrap: nothing of the launcher logs, so skip importing it.
            configure_logging=not flags.get("--skip-bootstrap"))
        code = run_script(launcher, script, script_args)
    except KeyboardInterrupt:
        print("ayon: interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a bare traceback
        code = report_error(exc, debug)
    sys.exit(code)
