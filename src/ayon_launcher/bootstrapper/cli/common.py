"""What most commands do first: bootstrap, then make the add-ons and runtime variables live."""

from __future__ import annotations

import sys

from ayon_launcher.support.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading

    import ayon_api

    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult, Progress, ProgressCallback
    from ayon_launcher.bootstrapper.context import LauncherContext

log = get_logger("cli")


def _log_progress(report: Progress) -> None:
    # Farm logs get one line per item that really changed, no bars.
    if report.state == "done":
        log.info("installed %s", report.item)
    elif report.state == "failed":
        log.warning("failed: %s", report.item)


def prepare(launcher: LauncherContext, progress: ProgressCallback | None = None,
            api: ayon_api.ServerAPI | None = None, offline: bool = False,
            cancel: threading.Event | None = None) -> BootstrapResult:
    """Bootstrap, put the add-ons on ``sys.path`` and the runtime variables in ``os.environ``.

    Progress goes to a terminal bar when stderr is a terminal, else to log lines. ``cancel``,
    set from another thread, stops the add-on sync (see ``bootstrap``).
    """
    from ayon_launcher.bootstrapper.bootstrap import bootstrap
    from ayon_launcher.bootstrapper.runtime import apply_environment, child_environment
    from ayon_launcher.pipeline.addons.loader import apply_sys_path

    def run(callback: ProgressCallback | None) -> BootstrapResult:
        return bootstrap(launcher, progress=callback, api=api, offline=offline, cancel=cancel)

    if progress is not None or launcher.skip_bootstrap:
        result = run(progress)
    elif sys.stderr.isatty():
        from ayon_launcher.bootstrapper.distribution.progress import rich_progress

        with rich_progress() as bars:
            result = run(bars)
    else:
        result = run(_log_progress)
    if result.core:
        from ayon_launcher.pipeline.handoff import core_sys_path

        apply_sys_path(core_sys_path(result))
    else:
        apply_sys_path(result.python_paths)
    # In-process code (scripts, add-ons, ayon_api's global connection) sees what children see.
    apply_environment(child_environment(launcher, result))
    return result


def require_api(launcher: LauncherContext, result: BootstrapResult,
                what: str) -> ayon_api.ServerAPI:
    """The server connection ``what`` (a command) needs; a one-line error when there is none."""
    if result.api is None:
        from ayon_launcher.support.errors import ServerUnreachableError, UsageError

        if launcher.skip_bootstrap:  # the user's own flag: a usage error (exit 2)
            raise UsageError(f"{what} needs the AYON server, but --skip-bootstrap was given")
        raise ServerUnreachableError(
            f"{what} needs the AYON server, but it cannot be reached (started offline)")
    return result.api
