"""``ayon tray`` (and ``ayon`` with no command): the tray application."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from ..context import LauncherContext
from ..errors import LauncherError

if TYPE_CHECKING:
    from ..bootstrap import BootstrapResult, ProgressCallback


def _prepare(launcher: LauncherContext, progress: ProgressCallback | None,
             offline: bool) -> BootstrapResult:
    from .common import prepare

    return prepare(launcher, progress=progress, offline=offline)


@click.command()
@click.pass_obj
def tray(launcher: LauncherContext | None) -> None:
    """Launch the AYON tray (default when no command is given)."""
    from ..display import display_problem

    launcher = launcher or LauncherContext()
    problem = display_problem(
        launcher.headless, "the AYON tray",
        "run a command instead (see `ayon --help`), e.g. `ayon --headless SCRIPT.py`")
    if problem:
        raise LauncherError(problem)
    # A restart starts from the environment this process was given (not the token and
    # variables the bootstrap adds to it).
    start_env = dict(os.environ)

    from ..gui.tray import run_tray, spawn_restart

    code = run_tray(launcher, _prepare, restart=lambda: spawn_restart(start_env))
    if code:
        raise click.exceptions.Exit(code)
