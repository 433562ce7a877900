"""Bootstrap: connect, choose the bundle, sync add-ons and dependency package, load add-ons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .context import LauncherContext
from .errors import ServerUnreachableError
from .log import get_logger

if TYPE_CHECKING:
    import threading

    import ayon_api

    from .addons.base import AYONAddon
    from .distribution.state import InstalledBundle
    from .distribution.sync import ItemProgress


@dataclass
class Progress:
    """One progress report of the distribution, for a terminal bar or the GUI."""

    item: str  # e.g. "addon demo_tools 1.0.0" or "dependency package"
    done: int  # bytes (or steps) done
    total: int | None  # None when unknown
    state: str  # "downloading", "validating", "extracting", "done", "skipped", "failed"


ProgressCallback = Callable[[Progress], None]

log = get_logger("bootstrap")


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
    # Add-ons that failed to load: name -> one-line reason (the others are loaded).
    load_errors: dict[str, str] = field(default_factory=dict)


def bootstrap(
    ctx: LauncherContext,
    progress: ProgressCallback | None = None,
    api: ayon_api.ServerAPI | None = None,
    offline: bool = False,
    cancel: threading.Event | None = None,
) -> BootstrapResult:
    """Run the whole bootstrap for ``ctx``; ``--skip-bootstrap`` returns an empty result.

    Connects, chooses the bundle, syncs its add-ons and dependency package, then loads the
    add-ons. When the server cannot be reached, starts from the last fully installed bundle.
    ``api`` reuses a connection made before (e.g. in a GUI's main thread). ``offline`` starts
    from the last fully installed bundle without calling the server (the user chose it).
    ``cancel``, set from another thread (a GUI's Cancel button), stops the add-on sync with
    SyncCancelled (exit code 130); Ctrl+C stops it in the main thread.
    """
    if ctx.skip_bootstrap:
        return BootstrapResult(server_url=ctx.server_url)
    from .connection import connect
    from .distribution.distribute import distribute, fetch_bundle

    if offline:
        installed = _offline_bundle(ctx, ServerUnreachableError("offline start chosen"))
        return _load(ctx, installed, None, True)
    try:
        api = api or connect(ctx)
        bundle = fetch_bundle(api, bundle_name=ctx.bundle_name, use_staging=ctx.use_staging,
                              use_dev=ctx.use_dev)
        _follow_launcher_version(api, bundle)
        installed = distribute(api, bundle, _item_progress(progress), cancel=cancel)
    except ServerUnreachableError as exc:
        installed = _offline_bundle(ctx, exc)
        offline = True
        api = None
    return _load(ctx, installed, api, offline)


def _follow_launcher_version(api: ayon_api.ServerAPI, bundle: Any) -> None:
    """Self-update hook: another launcher version named by the bundle is switched to (the
    command line re-runs with it) or checked; nothing to import when it is the running one."""
    from .selfupdate import wants_other_launcher

    if wants_other_launcher(bundle.raw.get("installerVersion")):
        from .selfupdate.switch import follow_bundle

        follow_bundle(api, bundle)


def _item_progress(progress: ProgressCallback | None) -> ItemProgress | None:
    if progress is None:
        return None

    def report(item: str, done: int, total: int | None, state: str) -> None:
        progress(Progress(item=item, done=done, total=total, state=state))

    return report


def offline_bundle(ctx: LauncherContext) -> InstalledBundle | None:
    """The bundle an offline start of ``ctx`` would use (None when there is none)."""
    import os

    from .distribution import state

    url = (ctx.server_url or os.environ.get("AYON_SERVER_URL") or "").rstrip("/") or None
    if ctx.use_staging:
        variant: str | None = "staging"
    elif ctx.use_dev:
        variant = state.DEV_VARIANT
    else:  # a named bundle is chosen by name; otherwise the studio's production bundle
        variant = None if ctx.bundle_name else "production"
    return state.last_installed(server_url=url, bundle_name=ctx.bundle_name, variant=variant)


def _offline_bundle(ctx: LauncherContext, exc: ServerUnreachableError) -> InstalledBundle:
    from .distribution import state

    installed = offline_bundle(ctx)
    # Mark its folders in use so that another launcher's clean-up keeps them; a bundle that
    # lost folders since the history was read cannot be used.
    if installed is not None and not state.claim(installed):
        installed = None
    if installed is None:
        raise ServerUnreachableError(
            f"{exc}; {_never_installed(ctx)}, so the launcher cannot start offline "
            "(connect once to the server, or use --skip-bootstrap)"
        ) from None
    log.warning("%s: starting OFFLINE with bundle %s installed %s", exc, installed.bundle_name,
                installed.installed_at)
    if installed.server_url and not ctx.server_url:
        ctx.server_url = installed.server_url
    return installed


def _never_installed(ctx: LauncherContext) -> str:
    """What an offline start lacks, in words: the bundle asked for was never complete here."""
    if ctx.bundle_name:
        return f"bundle {ctx.bundle_name!r} was never fully installed here"
    if ctx.use_dev:
        return "no dev bundle of yours was ever fully installed here"
    if ctx.use_staging:
        return "no staging bundle was ever fully installed here"
    return "no production bundle was ever fully installed here"


def _load(ctx: LauncherContext, installed: InstalledBundle, api: ayon_api.ServerAPI | None,
          offline: bool) -> BootstrapResult:
    from .addons.loader import AddonFolder, load_addons

    _warn_missing_folders(installed)
    folders = [AddonFolder(a.name, a.version, a.path) for a in installed.addons]
    loaded = load_addons(folders, installed.settings, installed.dependency_package)
    return BootstrapResult(
        server_url=ctx.server_url or installed.server_url,
        api=api,
        bundle_name=installed.bundle_name,
        offline=offline,
        addons=loaded.addons,
        python_paths=loaded.python_paths,
        settings=installed.settings,
        load_errors=loaded.errors,
    )


def _warn_missing_folders(installed: InstalledBundle) -> None:
    """Warn about each add-on whose folder is not there (a dev add-on's checkout, mostly):
    it cannot load, the others do. Online and offline starts alike."""
    from pathlib import Path

    for addon in installed.addons:
        if Path(addon.path).is_dir():
            continue
        if addon.dev:
            log.warning("dev bundle %s: add-on %s is developed from %s, which is not a folder "
                        "here; the add-on is not loaded", installed.bundle_name, addon.name,
                        addon.path)
        else:
            log.warning("bundle %s: the folder of add-on %s %s, %s, is missing; the add-on is "
                        "not loaded", installed.bundle_name, addon.name, addon.version,
                        addon.path)
