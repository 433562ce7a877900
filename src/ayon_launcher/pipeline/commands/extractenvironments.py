"""``ayon extractenvironments OUT.json [--project --asset --task --app]``: environment to JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    import ayon_api

    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult

log = get_logger("extractenvironments")


@click.command()
@click.argument("output_json_path", type=click.Path(dir_okay=False))
@click.option("--project", help="Project name.")
@click.option("--asset", "--folder", "asset", help="Folder (asset) name or path.")
@click.option("--task", help="Task name.")
@click.option("--app", help="Application name, e.g. maya/2024 or maya-2024.")
@click.pass_obj
def extractenvironments(launcher: LauncherContext | None, output_json_path: str,
                        project: str | None, asset: str | None, task: str | None,
                        app: str | None) -> None:
    """Extract environment variables for a context to a JSON file.

    With --project, --asset, --task and --app: the environment the application gets in that
    context. With none (or only some) of them: only AYON's global environment.
    """
    import os

    from ayon_launcher.bootstrapper.cli.common import prepare, require_api
    from ayon_launcher.pipeline.environment.output import check_output_path, write_json_atomic

    launcher = launcher or LauncherContext()
    check_output_path(output_json_path)  # before any server call
    options = {"project": project, "asset": asset, "task": task, "app": app}
    given = [name for name, value in options.items() if value]
    missing = [name for name, value in options.items() if not value]
    result = prepare(launcher)
    environment = dict(os.environ)  # prepare() made it what every child gets
    if given and missing:
        if result.api is not None:
            _check_partial_context(result.api, project, asset, task)
        elif not launcher.skip_bootstrap:
            # Offline: the names cannot be checked, and a wrong one must not pass for a
            # context (exit 3). With --skip-bootstrap the user asked for no server at all.
            require_api(launcher, result, "the context")
        log.warning("context is incomplete (missing %s): extracting only the global "
                    "environment", ", ".join(f"--{name}" for name in missing))
    if not missing:
        api = require_api(launcher, result, "the context")
        environment = _context_environment(api, result, environment, project, asset, task, app)
    target = write_json_atomic(output_json_path, {str(k): str(v) for k, v in environment.items()})
    log.info("environment written to %s", target)


def _check_partial_context(api: ayon_api.ServerAPI, project: str | None, asset: str | None,
                           task: str | None) -> None:
    """Names given without the rest of the context must still exist (else exit 2)."""
    from ayon_launcher.pipeline.environment.entities import (
        ServerContextSource,
        find_folder,
        find_project,
        find_task,
    )

    if not project:
        return
    source = ServerContextSource(api)
    project = find_project(source, project)
    if asset:
        folder = find_folder(source, project, asset)
        if task:
            find_task(source, project, folder, task)


def _context_environment(api: ayon_api.ServerAPI, result: BootstrapResult,
                         base: dict[str, str], project: str, asset: str, task: str,
                         app: str) -> dict[str, str]:
    from ayon_launcher.pipeline.environment.context import context_environment, resolve_context
    from ayon_launcher.pipeline.environment.entities import ServerContextSource

    source = ServerContextSource(api)
    context = resolve_context(source, result.settings, project, asset, task, app)
    return context_environment(context, result.settings, base)
