"""Bundles with the ``core`` add-on: bootstrap here, then hand the command line to ayon-core.

The official launcher is a bootstrapper for ayon-core: after login and distribution it puts the
bundle's add-ons and dependency package on the path and calls ``ayon_core.cli.main()``, which
reads ``sys.argv``. This module does the same after this launcher's own bootstrap (verified
parallel sync, offline start, one-line errors): it decides whether a command line goes to
ayon-core, with which arguments, and runs it. Scripts never get here (``cli/entry.py`` runs
them in the bootstrapped process without importing ayon-core), nor do bundles without
``core``, which keep this launcher's built-in commands.
"""

from __future__ import annotations

import os
import sys

from ayon_launcher.bootstrapper.cli.entry import BOOL_FLAGS, TRUE_WORDS, VALUE_FLAGS
from ayon_launcher.bootstrapper.runtime import is_core_bundle

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ayon_api

    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult
    from ayon_launcher.bootstrapper.context import LauncherContext


# This launcher's own global flags: taken out only before the command.
OWN_BOOL_FLAGS = frozenset({"--local-server", "--verify"})
# The official launcher takes the others out of the command line wherever they are (with
# their value), before ayon-core sees it; `--project` it reads but leaves for ayon-core.
OFFICIAL_BOOL_FLAGS = frozenset(BOOL_FLAGS) - OWN_BOOL_FLAGS
OFFICIAL_VALUE_FLAGS = frozenset(VALUE_FLAGS) - {"--project"}
# Commands of this launcher itself, whatever the bundle: they need no bundle.
LAUNCHER_COMMANDS = frozenset({"server", "login", "logout", "init", "init-ayon-launcher",
                               "installer"})
# Asked before any command: this launcher answers (no bootstrap).
LAUNCHER_ANSWERS = frozenset({"--help", "-h", "--version", "--local-server"})


def core_args(args: list[str]) -> list[str]:
    """The arguments ayon-core gets for ``ayon ARGS``: the official launcher's flags taken out
    wherever they are, this launcher's own global flags before the command too."""
    result: list[str] = []
    before_command = True
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        name, has_value, _value = arg.partition("=")
        if arg in OFFICIAL_BOOL_FLAGS or (before_command and arg in OWN_BOOL_FLAGS):
            continue
        if name in OFFICIAL_VALUE_FLAGS:
            skip_value = not has_value
            continue
        if before_command and not arg.startswith("-"):
            before_command = False
        result.append(arg)
    return result


def command_of(args: list[str]) -> str | None:
    """The command of ``ayon ARGS`` (the first argument that is not a global flag)."""
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        name, has_value, _value = arg.partition("=")
        if name in OFFICIAL_VALUE_FLAGS or name == "--project":
            skip_value = not has_value
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


def may_go_to_core(args: list[str], launcher: LauncherContext) -> bool:
    """Whether ``ayon ARGS`` may be ayon-core's (decided by the bundle): not with
    --skip-bootstrap, not for this launcher's own commands and answers."""
    if launcher.skip_bootstrap:
        return False
    command = command_of(args)
    if command in LAUNCHER_COMMANDS:
        return False
    before = args if command is None else args[:args.index(command)]
    return not any(arg in LAUNCHER_ANSWERS for arg in before)


def core_sys_path(result: BootstrapResult) -> list[str]:
    """The folders a core bundle puts first on sys.path, in order: ``runtime``, then the
    dependency package, then the add-ons (the official launcher inserts them one by one at
    the front, so its last is first)."""
    return list(result.sys_paths) + list(reversed(result.python_paths))


# The variables that stand for the flags (--studio-bundle is read as --bundle).
_FLAG_ENV = {flag: variable for flag, variable in BOOL_FLAGS.items() if variable}
_VALUE_ENV = {flag: variable for flag, variable in VALUE_FLAGS.items()
              if flag != "--studio-bundle"}


def global_flags(args: list[str]) -> dict[str, str | bool]:
    """The official launcher's global flags in ``ayon ARGS`` (wherever they are, as it reads
    them; ``--studio-bundle`` as ``--bundle``), with the variables that stand for them."""
    found: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, has_value, value = arg.partition("=")
        if arg in OFFICIAL_BOOL_FLAGS:
            found[arg] = True
        elif name in OFFICIAL_VALUE_FLAGS or name == "--project":
            if not has_value:
                if i + 1 >= len(args):
                    from ayon_launcher.support.errors import UsageError

                    raise UsageError(f"option {name} needs a value")
                i += 1
                value = args[i]
            found["--bundle" if name == "--studio-bundle" else name] = value
        i += 1
    for flag, variable in _FLAG_ENV.items():
        if flag not in found and os.environ.get(variable, "").strip().lower() in TRUE_WORDS:
            found[flag] = True
    for flag, variable in _VALUE_ENV.items():
        if flag not in found and os.environ.get(variable):
            found[flag] = os.environ[variable]
    return found


def launcher_for(args: list[str]) -> LauncherContext:
    """The run context of ``ayon ARGS`` read as the official launcher reads it."""
    from ayon_launcher.bootstrapper.cli.entry import start_launcher
    from ayon_launcher.bootstrapper.context import parse_log_level

    flags = global_flags(args)

    def text(flag: str) -> str | None:
        value = flags.get(flag)
        return str(value) if value and value is not True else None

    return start_launcher(
        headless=bool(flags.get("--headless")), use_staging=bool(flags.get("--use-staging")),
        use_dev=bool(flags.get("--use-dev")), bundle_name=text("--bundle"),
        project_bundle_name=text("--project-bundle"), project_name=text("--project"),
        verbose=parse_log_level(text("--verbose")), debug=bool(flags.get("--debug")),
        skip_bootstrap=bool(flags.get("--skip-bootstrap")))


_LOGGED_IN = False  # --ayon-login was answered in this process
def force_login(launcher: LauncherContext) -> None:
    """``--ayon-login``: show the login first (log in again or as another user); once."""
    global _LOGGED_IN
    from ayon_launcher.bootstrapper.connection import activate, resolve_session
    from ayon_launcher.support.errors import UsageError

    if _LOGGED_IN:
        return
    if launcher.headless:
        raise UsageError("--ayon-login shows the login window: it cannot be used with "
                         "--headless (set AYON_SERVER_URL and AYON_API_KEY instead)")
    session = resolve_session(launcher, force_login=True)
    activate(launcher, session)
    launcher.login_mode = True
    os.environ["AYON_IN_LOGIN_MODE"] = "1"
    _LOGGED_IN = True


def _warm_look(launcher: LauncherContext, project_of_command: bool) -> tuple[bool, bool]:
    """(answered, core) from the warm check (warmstart.py): nothing changed since the last
    good start, so the bundle is known without ayon_api; what it found is kept for the
    bootstrap. ``project_of_command``: ``--project`` came only after the command, where the
    built-in commands read it as their own option (their bootstrap has no project): a
    bundle without ayon-core is then looked for as they start it."""
    from ayon_launcher.bootstrapper import early_look
    from ayon_launcher.bootstrapper.warmstart import warm_start

    warm = warm_start(launcher)
    if warm is None and project_of_command:
        import copy

        plain = copy.copy(launcher)
        plain.project_name = None
        warm = warm_start(plain)
        if warm is not None and is_core_bundle({a.name for a in warm[0].addons}):
            warm = None  # ayon-core reads --project anywhere: its bundle may differ
    if warm is None:
        return False, False
    early_look.remember_warm(warm)
    return True, is_core_bundle({a.name for a in warm[0].addons})


def bundle_needs_core(launcher: LauncherContext, project_of_command: bool = False,
                      ) -> tuple[bool, ayon_api.ServerAPI | None]:
    """Whether the bundle ``launcher`` starts has the core add-on (the connection made to
    find out is returned for the bootstrap). Offline: the bundle an offline start would use.
    ``project_of_command``: see ``_warm_look``."""
    from ayon_launcher.bootstrapper import early_look
    from ayon_launcher.bootstrapper.connection.session import LoginCancelled
    from ayon_launcher.support.errors import (
        AuthenticationRequired,
        ServerUnreachableError,
        UsageError,
    )

    try:
        answered, core = _warm_look(launcher, project_of_command)
        if answered:  # nothing changed since the last good start: no ayon_api
            return core, None
        from ayon_launcher.bootstrapper.connection import activate, open_api, resolve_session
        from ayon_launcher.bootstrapper.distribution.distribute import fetch_bundles

        session = resolve_session(launcher)
        activate(launcher, session)
        early_look.remember_session(session)  # the next bootstrap uses it (one login)
        api = open_api(session)
        choice = dict(bundle_name=launcher.bundle_name,
                      project_bundle_name=launcher.project_bundle_name,
                      project_name=launcher.project_name, use_staging=launcher.use_staging,
                      use_dev=launcher.use_dev)
        try:
            _studio, bundle = fetch_bundles(api, **choice)
        except UsageError:
            # An unknown --project: whichever path runs reports it in its own words (the
            # bootstrap for ayon-core, the built-in command otherwise).
            _studio, bundle = fetch_bundles(api, **{**choice, "project_name": None})
    except ServerUnreachableError as exc:
        from ayon_launcher.bootstrapper.bootstrap import offline_bundle

        early_look.remember_unreachable(exc)  # the next bootstrap starts offline on it

        installed = offline_bundle(launcher)
        if installed is None:
            return False, None  # the built-in path says why it cannot start
        return is_core_bundle({a.name for a in installed.addons}), None
    except LoginCancelled:
        raise
    except AuthenticationRequired:
        # No login possible here: the built-in path meets the same problem and reports it,
        # after a usage error of its own (`ayon nosuchcommand`), which comes first there.
        return False, None
    return is_core_bundle(bundle.addons), api


def run_core(launcher: LauncherContext, result: BootstrapResult, args: list[str]) -> int:
    """Run ``ayon_core.cli.main()`` for ``ayon ARGS`` in this bootstrapped process; its exit
    code. ayon-core reads ``sys.argv``: it gets ``[AYON_EXECUTABLE, *core_args(ARGS)]``."""
    from ayon_launcher.support.errors import DistributionError

    sys.argv = [os.environ.get("AYON_EXECUTABLE") or sys.executable, *core_args(args)]
    try:
        from ayon_core import cli
    except ImportError as exc:
        from ayon_launcher.support.errors import error_line

        where = "" if launcher.skip_bootstrap else f" of bundle {result.bundle_name}"
        raise DistributionError(
            f"the core add-on{where} cannot be imported ({error_line(exc)}): the bundle's "
            "dependency package is missing or does not fit its add-ons") from None
    try:
        cli.main()
    except SystemExit as exc:
        from ayon_launcher.bootstrapper.cli.script_runner import exit_code_of

        return exit_code_of(exc.code)
    return 0


def hand_off(args: list[str], launcher: LauncherContext | None = None) -> int | None:
    """Run ``ayon ARGS`` through ayon-core when the bundle has the core add-on: bootstrap
    here, then ``ayon_core.cli.main()``; its exit code. None: the bundle has no core add-on
    (or the command is this launcher's own), the built-in commands run it."""
    from ayon_launcher.bootstrapper import early_look

    early_look.forget()  # what a look leaves for its bootstrap is this run's
    if launcher is None:
        if any(arg in LAUNCHER_ANSWERS or arg in LAUNCHER_COMMANDS for arg in args[:1]):
            return None  # `ayon --help`, `ayon server`...: no need to read the flags
        launcher = launcher_for(args)
    if not may_go_to_core(args, launcher):
        return None
    if "--ayon-login" in args:
        force_login(launcher)
    command = command_of(args)
    before = args if command is None else args[:args.index(command)]
    launcher.verify = launcher.verify or "--verify" in before  # this launcher's own flag
    project_of_command = bool(launcher.project_name) and not os.environ.get(
        "AYON_PROJECT_NAME") and not any(arg.partition("=")[0] == "--project" for arg in before)
    core, api = bundle_needs_core(launcher, project_of_command)
    if not core:
        return None
    from ayon_launcher.bootstrapper.cli.common import prepare

    result = prepare(launcher, api=api)
    if not result.core:  # the bundle changed between the two looks: run it as it is now
        return None
    return run_core(launcher, result, args)
