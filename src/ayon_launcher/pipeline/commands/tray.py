"""``ayon tray`` (and ``ayon`` with no command): the tray application."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from ayon_launcher.bootstrapper.context import LauncherContext

if TYPE_CHECKING:
    import threading

    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult, ProgressCallback


def _prepare(launcher: LauncherContext, progress: ProgressCallback | None,
             offline: bool, cancel: threading.Event) -> BootstrapResult:
    from ayon_launcher.bootstrapper.cli.common import prepare

    return prepare(launcher, progress=progress, offline=offline, cancel=cancel)


@click.command()
@click.pass_obj
def tray(launcher: LauncherContext | None) -> None:
    """Launch the AYON tray (default when no command is given).

    Without a display (or with --headless) the workstation is still brought up to date, then
    a message tells how to run a command instead.
    """
    from ayon_launcher.gui.display import TRAY_TEST_HOOK_ENV, display_problem

    launcher = launcher or LauncherContext()
    # The test hook drives an offscreen tray in tests; unseen otherwise.
    problem = display_problem(launcher.headless, "the AYON tray",
                              test_hook_env=TRAY_TEST_HOOK_ENV)
    if problem:
        _without_tray(launcher, problem)
        return
    # A restart starts from the environment this process was given (not the token and
    # variables the bootstrap adds to it).
    start_env = dict(os.environ)

    from ayon_launcher.gui.tray import run_tray, spawn_restart

    code = run_tray(launcher, _prepare, restart=lambda: spawn_restart(start_env))
    if code:
        raise click.exceptions.Exit(code)


def _without_tray(launcher: LauncherContext, problem: str) -> None:
    """No tray possible: bootstrap (unless skipped), then say what to do instead."""
    from ayon_launcher.bootstrapper.cli.common import prepare

    result = prepare(launcher)
    if launcher.skip_bootstrap:
        state = "Nothing was synchronised (--skip-bootstrap)."
    else:
        addons = ", ".join(f"{a.name} {a.version}" for a in result.addons) or "no add-ons"
        where = " (OFFLINE: last installed)" if result.offline else ""
        state = f"AYON is up to date: bundle {result.bundle_name}{where} with {addons}."
    if launcher.extra.get("local_server"):
        # Commands as printed must work: they need the flag too, and the demo has this one.
        examples = ("`ayon --local-server --headless addon demo_tools hello` or "
                    "`ayon --local-server --headless SCRIPT.py`")
    else:
        examples = "`ayon --headless SCRIPT.py` or `ayon addon NAME COMMAND`"
    click.echo(f"{state}\nNo tray: {problem}. Run a command instead, e.g. {examples} "
               "(see `ayon --help`).")
