"""The ``ayon`` entry point: a click-free fast path for ``ayon [FLAGS] SCRIPT``, one-line errors.

Farm nodes run ``ayon script.py`` thousands of times a day, so that path imports neither click
nor any command module; everything else goes through the click app in ``cli/main.py``.
"""

import os
import sys

# Not `from typing import ...`: importing typing alone is a visible share of a script's start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

    from ayon_launcher.bootstrapper.context import LauncherContext

# name -> "module:attribute"; modules are imported only when their command runs, so that a
# headless command never pays for Qt, FastAPI or pyblish.
COMMANDS: dict[str, str] = {
    "tray": "ayon_launcher.pipeline.commands.tray:tray",
    "run": "ayon_launcher.bootstrapper.cli.run:run",
    "interactive": "ayon_launcher.bootstrapper.cli.interactive:interactive",
    "extractenvironments": (
        "ayon_launcher.pipeline.commands.extractenvironments:extractenvironments"
    ),
    "contextselection": "ayon_launcher.pipeline.commands.contextselection:contextselection",
    "publish": "ayon_launcher.pipeline.commands.publish:publish",
    "addon": "ayon_launcher.pipeline.commands.addon:addon",
    "module": "ayon_launcher.pipeline.commands.addon:module",
    "login": "ayon_launcher.bootstrapper.cli.login:login",
    "logout": "ayon_launcher.bootstrapper.cli.login:logout",
    "server": "ayon_launcher.localserver.cli:server",
    "installer": "ayon_launcher.bootstrapper.cli.installer:installer",
    "init": "ayon_launcher.bootstrapper.cli.init:init",
    "init-ayon-launcher": "ayon_launcher.bootstrapper.cli.init:init",
}

# Global flags the fast path understands, with the variables click reads for them too (the
# hand-off to ayon-core reads the same tables: pipeline/handoff.py). The
# official launcher's meaning: --bundle (--studio-bundle) names the studio bundle,
# --project-bundle the project bundle over it, --project the project whose bundle applies.
BOOL_FLAGS = {"--headless": "AYON_HEADLESS_MODE", "--use-staging": "AYON_USE_STAGING",
               "--use-dev": "AYON_USE_DEV", "--debug": "AYON_DEBUG", "--skip-bootstrap": None,
               "--skip-headers": None, "--ayon-login": None, "--verify": None}
VALUE_FLAGS = {"--bundle": "AYON_STUDIO_BUNDLE_NAME", "--studio-bundle": "AYON_STUDIO_BUNDLE_NAME",
                "--project-bundle": "AYON_BUNDLE_NAME", "--project": "AYON_PROJECT_NAME",
                "--verbose": "AYON_LOG_LEVEL"}
# As click's boolean parameter type reads them.
TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "off", ""}


def _fast_script_call(args: list[str]) -> tuple[dict[str, object], str, list[str]] | None:
    """(flags, script, script args) when ``args`` is ``[global flags] SCRIPT [ARGS]``."""
    flags: dict[str, object] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, has_value, value = arg.partition("=")
        if arg in BOOL_FLAGS:
            flags[arg] = True
        elif name in VALUE_FLAGS:
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
    if not (script.endswith(".py") or os.path.isfile(script) or is_script_folder(script)):
        return None
    for flag, variable in BOOL_FLAGS.items():
        if flag not in flags and variable:
            text = os.environ.get(variable, "").strip().lower()
            if text not in TRUE_WORDS | FALSE_WORDS:
                return None  # let click explain the bad value
            flags[flag] = text in TRUE_WORDS
    if "--studio-bundle" in flags:
        flags.setdefault("--bundle", flags.pop("--studio-bundle"))
    for flag, variable in VALUE_FLAGS.items():
        if flag not in flags and flag != "--studio-bundle" and os.environ.get(variable):
            flags[flag] = os.environ[variable]
    return flags, script, args[i + 1:]


def is_script_folder(path: str) -> bool:
    """A folder with ``__main__.py``: run as a script, as python runs it."""
    return os.path.isfile(os.path.join(path, "__main__.py"))


def start_launcher(*, headless: bool = False, use_staging: bool = False, use_dev: bool = False,
                   bundle_name: str | None = None, verbose: int | None = None,
                   debug: bool = False, skip_bootstrap: bool = False, verify: bool = False,
                   configure_logging: bool = True, project_bundle_name: str | None = None,
                   project_name: str | None = None,
                   light_logging: bool = False) -> "LauncherContext":
    """The run context of the global flags, with logging set up for it (if asked;
    ``light_logging``: without importing logging until something needs it, see log.py)."""
    from ayon_launcher.bootstrapper.context import LauncherContext

    level = verbose if verbose is not None else (10 if debug else 20)  # DEBUG / INFO
    if configure_logging:
        from ayon_launcher.support.log import setup_logging

        setup_logging(level, debug, lazy=light_logging)
    # Decided before any login puts a token in AYON_API_KEY: inherited from the launcher
    # that started this one, else "the caller gave no key".
    inherited = os.environ.get("AYON_IN_LOGIN_MODE")
    login_mode = inherited == "1" if inherited in ("0", "1") else not os.environ.get(
        "AYON_API_KEY")
    # Kept for this process and its children, as the official launcher does at its start.
    os.environ["AYON_IN_LOGIN_MODE"] = "1" if login_mode else "0"
    launcher = LauncherContext(headless=headless, use_staging=use_staging, use_dev=use_dev,
                               bundle_name=bundle_name or None, log_level=level, debug=debug,
                               skip_bootstrap=skip_bootstrap, verify=verify,
                               project_bundle_name=project_bundle_name or None,
                               project_name=project_name or None, login_mode=login_mode)
    launcher.log_level_given = verbose is not None
    launcher.login_window = _login_window
    return launcher


def _login_window(ctx: "LauncherContext") -> "Callable | None":
    """The Qt login dialog when it can be shown (imported only when a login is asked for)."""
    from ayon_launcher.gui.login_window import login_window

    return login_window(ctx)


def report_error(exc: BaseException, debug: bool) -> int:
    """Print ``exc`` as one line on stderr (traceback first with ``--debug``); the exit code."""
    import traceback

    from ayon_launcher.support.errors import LauncherError, error_line
    from ayon_launcher.support.log import redact

    details = redact("".join(traceback.format_exception(exc)))
    if debug:
        print(details, end="", file=sys.stderr)
    if isinstance(exc, LauncherError):
        line = f"ayon: error: {error_line(exc)}"
        code = exc.exit_code
    else:
        hint = "" if debug else " (run with --debug for details)"
        line = f"ayon: unexpected error: {error_line(exc)}{hint}"
        code = 1
    print_error(line, code, details)
    return code


def print_error(line: str, code: int, details: str = "") -> None:
    """Print an error ``line`` on stderr, ending with where the log file is (for support);
    the log file gets the line, the exit code and ``details`` (the traceback)."""
    from ayon_launcher.support.log import error_log_file, log_suffix, log_to_file

    path = error_log_file()
    log_to_file(40, f"{line} [exit {code}]" + (f"\n{details.rstrip()}" if details else ""))
    print(line + log_suffix(path), file=sys.stderr)


def is_debug(args: list[str]) -> bool:
    return "--debug" in args or os.environ.get("AYON_DEBUG", "").lower() in TRUE_WORDS


def _guarded(debug: bool, run: "Callable[[], int | None]") -> int | None:
    """``run()``, with Ctrl-C and any failure turned into one line and an exit code."""
    try:
        return run()
    except KeyboardInterrupt:
        print("ayon: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a bare traceback
        return report_error(exc, debug)


def _through_core(args: list[str]) -> int | None:
    """The exit code of ``ayon ARGS`` run by ayon-core; None when the bundle has no core
    add-on (or the command is this launcher's own)."""
    def run() -> int | None:
        from ayon_launcher.pipeline.handoff import hand_off

        return hand_off(args)

    return _guarded(is_debug(args), run)


def _text(value: object) -> str | None:
    return str(value) if value else None


def _web_action(args: list[str]) -> "NoReturn":
    """``ayon [FLAGS] ayon-launcher://action?...``: what a web action button starts."""
    debug = is_debug(args)

    def run() -> int:
        launcher = start_launcher(debug=debug)
        from ayon_launcher.bootstrapper.webaction import run_action

        return run_action(args[-1], args[:-1], launcher)

    sys.exit(_guarded(debug, run))


def _mark_installed_version() -> None:
    """A launcher version installed side by side (``{local}/launcher/versions/{version}``)
    marks itself in use while it runs: another launcher's clean-up of old versions leaves it
    alone. A string comparison for any other install."""
    if os.path.basename(os.path.dirname(sys.prefix)) == "versions":
        from ayon_launcher.bootstrapper.selfupdate.in_use import hold_own_mark

        hold_own_mark()


def main(argv: list[str] | None = None) -> "NoReturn":
    """``ayon``: a script call runs straight away; a bundle with the core add-on runs the
    command through ayon-core (see ``handoff``); anything else goes to the click app."""
    args = list(sys.argv[1:] if argv is None else argv)
    _mark_installed_version()
    if args and args[-1][:14].lower() == "ayon-launcher:":
        _web_action(args)
    call = _fast_script_call(args)
    if call is None:
        code = _through_core(args)
        if code is None:
            from ayon_launcher.bootstrapper.cli.main import main as click_main

            click_main(args)
        sys.exit(code)
    flags, script, script_args = call
    debug = bool(flags.get("--debug"))

    def run() -> int:
        from ayon_launcher.bootstrapper.cli.script_runner import run_script
        from ayon_launcher.bootstrapper.context import parse_log_level

        verbose = flags.get("--verbose")
        launcher = start_launcher(
            headless=bool(flags.get("--headless")), use_staging=bool(flags.get("--use-staging")),
            use_dev=bool(flags.get("--use-dev")), bundle_name=_text(flags.get("--bundle")),
            project_bundle_name=_text(flags.get("--project-bundle")),
            project_name=_text(flags.get("--project")),
            verbose=parse_log_level(str(verbose) if verbose is not None else None),
            debug=debug, skip_bootstrap=bool(flags.get("--skip-bootstrap")),
            verify=bool(flags.get("--verify")),
            # A script without bootstrap: nothing of the launcher logs, so skip importing it.
            configure_logging=not flags.get("--skip-bootstrap"), light_logging=True)
        if flags.get("--ayon-login"):
            from ayon_launcher.pipeline.handoff import force_login

            force_login(launcher)
        return run_script(launcher, script, script_args)

    sys.exit(_guarded(debug, run))
