"""``ayon contextselection OUT.json [--project P] [--asset F] [--strict]``: pick a context in Qt."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.gui.display import CONTEXT_DIALOG_TEST_HOOK_ENV, display_problem
from ayon_launcher.support.errors import LauncherError, UsageError
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.pipeline.environment.entities import ContextSource

log = get_logger("contextselection")

ShowDialog = Callable[["ContextSource", str | None, str | None, bool], "dict | None"]


def _show_dialog(source: ContextSource, project: str | None, asset: str | None,
                 strict: bool) -> dict | None:
    # Qt is imported only here: this command is the only one that needs it.
    from ayon_launcher.gui.context_dialog import run_context_dialog

    return run_context_dialog(source, project=project, folder=asset, strict=strict)


def check_presets(project: str | None, asset: str | None) -> None:
    """The presets' own rule (no server needed): a folder is looked up in a given project."""
    if asset and not project:
        raise UsageError("--asset needs --project (the folder is looked up in that project)")


def select_and_write(source: ContextSource, output_json_path: str, project: str | None,
                     asset: str | None, strict: bool,
                     show: ShowDialog = _show_dialog) -> dict:
    """Validate the presets, show the dialog and write the choice; cancel raises (exit 1)."""
    from ayon_launcher.pipeline.environment.entities import find_folder, find_project
    from ayon_launcher.pipeline.environment.output import write_json_atomic

    check_presets(project, asset)
    if project:
        project = find_project(source, project)
        if asset:
            asset = find_folder(source, project, asset).path
    context = show(source, project, asset, strict)
    if context is None:
        raise LauncherError("context selection cancelled: nothing written", exit_code=1)
    if strict and not (context.get("project") and context.get("asset") and context.get("task")):
        raise LauncherError("context is incomplete (--strict): nothing written", exit_code=1)
    data = {
        "project": context.get("project"),
        "asset": context.get("asset"),
        "folder_path": context.get("folder_path"),
        "task": context.get("task"),
    }
    write_json_atomic(output_json_path, data)
    return data


@click.command()
@click.argument("output_json_path", type=click.Path(dir_okay=False))
@click.option("--project", help="Pre-define the project; it cannot be changed in the dialog.")
@click.option("--asset", "--folder", "asset",
              help="Pre-select a folder (name or path) of --project.")
@click.option("--strict", is_flag=True,
              help="Project, folder and task must all be set to confirm.")
@click.pass_obj
def contextselection(launcher: LauncherContext | None, output_json_path: str,
                     project: str | None, asset: str | None, strict: bool) -> None:
    """Open the context selection dialog and write the choice to OUTPUT_JSON_PATH.

    The file gets {"project", "asset", "folder_path", "task"}. Cancelling writes nothing
    and exits with code 1.
    """
    from ayon_launcher.bootstrapper.cli.common import prepare, require_api
    from ayon_launcher.pipeline.environment.entities import ServerContextSource

    launcher = launcher or LauncherContext()
    check_presets(project, asset)  # before the bootstrap: a usage error comes at once
    problem = display_problem(launcher.headless, "contextselection",
                              "use extractenvironments with --project/--asset/--task/--app "
                              "instead", test_hook_env=CONTEXT_DIALOG_TEST_HOOK_ENV)
    if problem:
        raise UsageError(problem)
    from ayon_launcher.pipeline.environment.output import check_output_path

    check_output_path(output_json_path)  # before the dialog: a choice must not be lost
    result = prepare(launcher)
    api = require_api(launcher, result, "contextselection")
    data = select_and_write(ServerContextSource(api), output_json_path, project, asset, strict)
    log.info("context written to %s: %s", output_json_path, data)
