"""A ready-made terminal progress display (rich) for the bootstrap's Progress callback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.bootstrap import Progress, ProgressCallback


@contextmanager
def rich_progress(transient: bool = True) -> Iterator[ProgressCallback]:
    """Yield a thread-safe callback that draws one bar per downloading item on stderr.

    Usage: ``with rich_progress() as cb: bootstrap(ctx, progress=cb)``. Items already installed
    ("skipped") get no bar, so an up-to-date start draws nothing.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    console = Console(stderr=True)
    bars = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )
    tasks: dict[str, TaskID] = {}
    guard = threading.Lock()

    started = False

    def callback(report: Progress) -> None:
        nonlocal started
        if report.state == "skipped":
            return
        with guard:
            if not started:
                # Drawn only once there is work: an up-to-date start prints nothing, and a
                # login prompt before the first download is not overwritten.
                bars.start()
                started = True
            task = tasks.get(report.item)
            if task is None:
                task = bars.add_task(f"{report.item} ({report.state})", total=report.total)
                tasks[report.item] = task
            description = f"{report.item} ({report.state})"
            if report.state in ("done", "failed"):
                total = bars.tasks[task].total or 1
                bars.update(task, description=description, completed=total, total=total)
            else:
                bars.update(task, description=description, completed=report.done,
                            total=report.total)

    try:
        yield callback
    finally:
        if started:
            bars.stop()
