"""``ayon publish METADATA.json [--targets T ...] [--gui]``: pyblish publish of a farm job."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.support.errors import LauncherError, UsageError
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    from ayon_launcher.pipeline.addons.base import AYONAddon
    from ayon_launcher.pipeline.publish.engine import PublishReport

log = get_logger("publish")


def addon_plugin_paths(addons: list[AYONAddon]) -> list[str]:
    """Publish plug-in folders of the loaded add-ons, in add-on order."""
    from ayon_launcher.pipeline.addons.base import failure_reason

    paths: list[str] = []
    for addon in addons:
        try:
            found = list(addon.publish_plugin_paths() or [])
        # A broken add-on must not publish half checked (nor end the command with its exit).
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise LauncherError(f"add-on {addon.name} could not list its publish plug-ins: "
                                f"{failure_reason(exc)}") from None
        paths += [os.fspath(path) for path in found]
    return paths


# Set by tests that drive the report window themselves (offscreen, nobody to close it).
GUI_DRIVER_ENV = "AYON_LAUNCHER_TEST_PUBLISH_WINDOW"


@click.command()
@click.argument("metadata", metavar="METADATA.json")
@click.option("--targets", "-t", multiple=True, metavar="T",
              help="pyblish target (repeat it or separate by commas), e.g. farm.")
@click.option("--gui", "-g", is_flag=True, help="Show the publish report in a window.")
@click.pass_obj
def publish(launcher: LauncherContext | None, metadata: str, targets: tuple[str, ...],
            gui: bool) -> None:
    """Publish the data described by a JSON metadata file.

    Plug-ins come from the loaded add-ons and from the file's "pluginPaths". The "default"
    target always runs; --targets adds others (a farm job passes --targets farm).
    """
    from ayon_launcher.bootstrapper.cli.common import prepare, require_api
    from ayon_launcher.pipeline.publish.engine import (
        effective_targets,
        publish_failure_message,
        run_publish,
    )
    from ayon_launcher.pipeline.publish.metadata import load_metadata

    launcher = launcher or LauncherContext()
    if gui:
        from ayon_launcher.gui.display import display_problem

        problem = ("--gui cannot be used in headless mode" if launcher.headless
                   else display_problem(False, "--gui", test_hook_env=GUI_DRIVER_ENV))
        if problem:
            raise UsageError(problem)
    # Checked before any server call: a bad file fails fast with one line.
    job = load_metadata(metadata)
    result = prepare(launcher)
    require_api(launcher, result, "publish")
    paths = addon_plugin_paths(result.addons)
    log.debug("publish plug-in folders: %s", paths)

    if gui:
        from ayon_launcher.gui.publish_report import show_publish_window

        def runner(on_result) -> PublishReport:  # noqa: ANN001
            return run_publish(job, result.api, paths, targets, on_result=on_result)

        report = show_publish_window(job, effective_targets(targets), runner)
    else:
        report = run_publish(job, result.api, paths, targets)
    click.echo("\n".join(report.lines()))
    if not report.success:
        raise LauncherError(publish_failure_message(report))
