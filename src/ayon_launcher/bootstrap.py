"""Bootstrap: connect, choose the bundle, sync add-ons and dependency package, load add-ons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .context import LauncherContext

if TYPE_CHECKING:
    import ayon_api

    from .addons.base import AYONAddon


@dataclass
class Progress:
    """One progress report of the distribution, for a terminal bar or the GUI."""

    item: str  # e.g. "addon demo_tools 1.0.0" or "dependency package"
    done: int  # bytes (or steps) done
    total: int | None  # None when unknown
    state: str  # "downloading", "validating", "extracting", "done", "skipped", "failed"


ProgressCallback = Callable[[Progress], None]


@dataclass
class BootstrapResult:
    """What a command needs after bootstrap."""

    server_url: str | None = None
    api: ayon_api.ServerAPI | None = None
    bundle_name: str | None = None
    offline: bool = False
    addons: list[AYONAddon] = field(default_factory=list)
    # Folders to put on sys.path / PYTHONPATH, in order (dependency package first).
    python_paths: list[str] = field(default_factory=list)
    # Studio settings of the bundle, per add-on name.
    settings: dict[str, Any] = field(default_factory=dict)


def bootstrap(
    ctx: LauncherContext,
    progress: ProgressCallback | None = None,
) -> BootstrapResult:
    """Run the whole bootstrap for ``ctx``; ``--skip-bootstrap`` returns an empty result."""
    if ctx.skip_bootstrap:
        return BootstrapResult(server_url=ctx.server_url)
    from .connection import connect

    api = connect(ctx)
    return BootstrapResult(server_url=ctx.server_url, api=api, bundle_name=ctx.bundle_name)
