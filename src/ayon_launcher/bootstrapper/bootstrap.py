"""Bootstrap: connect, choose the bundle, sync add-ons and dependency package, load add-ons."""

from __future__ import annotations

import os
from collections.abc import Callable

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.support.errors import DistributionError, ServerUnreachableError
from ayon_launcher.support.log import get_logger
from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from typing import Any

    import ayon_api

    from ayon_launcher.bootstrapper.distribution.store import InstalledBundle
    from ayon_launcher.bootstrapper.distribution.sync import ItemProgress
    from ayon_launcher.pipeline.addons.base import AYONAddon


class Progress(Record):
    """One progress report of the distribution, for a terminal bar or the GUI."""

    _fields = ("item", "done", "total", "state")

    def __init__(self, item: str, done: int, total: int | None, state: str) -> None:
        self.item = item  # e.g. "addon demo_tools 1.0.0" or "dependency package"
        self.done = done  # bytes (or steps) done
        self.total = total  # None when unknown
        self.state = state  # "downloading", "validating", "extracting", "done", "skipped", "failed"


ProgressCallback = Callable[[Progress], None]

log = get_logger("bootstrap")


class BootstrapResult(Record):
    """What a command needs after bootstrap."""

    _fields = ("server_url", "api", "bundle_name", "studio_bundle_name", "offline", "addons",
               "python_paths", "settings", "load_errors", "core", "sys_paths")

    def __init__(self, server_url: str | None = None, api: ayon_api.ServerAPI | None = None,
                 bundle_name: str | None = None, studio_bundle_name: str | None = None,
                 offline: bool = False, addons: list[AYONAddon] | None = None,
                 python_paths: list[str] | None = None, settings: dict[str, Any] | None = None,
                 load_errors: dict[str, str] | None = None, core: bool = False,
                 sys_paths: list[str] | None = None) -> None:
        self.server_url = server_url
        self.api = api
        self.bundle_name = bundle_name  # the bundle in use (the project bundle when one applies)
        self.studio_bundle_name = studio_bundle_name
        self.offline = offline
        self.addons = [] if addons is None else addons
        # Folders to put on sys.path / PYTHONPATH, in order (dependency package first).
        self.python_paths = [] if python_paths is None else python_paths
        # Studio settings of the bundle, per add-on name.
        self.settings = {} if settings is None else settings
        # Add-ons that failed to load: name -> one-line reason (the others are loaded).
        self.load_errors = {} if load_errors is None else load_errors
        # The bundle has the `core` add-on: ayon-core loads the add-ons and runs the commands
        # (see handoff.py); this launcher only put them on sys.path.
        self.core = core
        # For this process only, never PYTHONPATH: the dependency package's `runtime` folder.
        self.sys_paths = [] if sys_paths is None else sys_paths


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
    if offline:
        installed = _offline_bundle(ctx, ServerUnreachableError("offline start chosen"))
        return _load(ctx, installed, None, True)
    from ayon_launcher.bootstrapper import early_look

    unreachable = early_look.take_unreachable() if api is None else None
    if isinstance(unreachable, ServerUnreachableError):
        return _load(ctx, _offline_bundle(ctx, unreachable), None, True)
    try:
        api = api or _reused_connection(ctx)
        if api is None:
            warm = _warm_start(ctx)
            if warm is not None:
                return warm
        installed, api = _full_bootstrap(ctx, api, progress, cancel)
    except ServerUnreachableError as exc:
        installed = _offline_bundle(ctx, exc)
        offline = True
        api = None
    return _load(ctx, installed, api, offline)


def _full_bootstrap(ctx: LauncherContext, api: ayon_api.ServerAPI | None,
                    progress: ProgressCallback | None,
                    cancel: threading.Event | None,
                    ) -> tuple[InstalledBundle, ayon_api.ServerAPI]:
    """Log in (unless ``api``), choose the bundle, sync it, and record what the start
    depended on for the next start's warm check; the installed bundle and the connection."""
    from ayon_launcher.bootstrapper import warmstart
    from ayon_launcher.bootstrapper.connection import connect
    from ayon_launcher.bootstrapper.distribution.distribute import distribute, fetch_bundles

    api = api or connect(ctx)
    seen: dict[str, Any] = {}
    studio, bundle = fetch_bundles(
        api, bundle_name=ctx.bundle_name, project_bundle_name=ctx.project_bundle_name,
        project_name=ctx.project_name, use_staging=ctx.use_staging, use_dev=ctx.use_dev,
        seen=seen)
    if studio.is_dev and not ctx.use_dev:
        ctx.use_dev = True  # a dev bundle asked for by name runs in dev mode
    _follow_launcher_version(api, studio, _item_progress(progress))
    installed = distribute(api, bundle, _item_progress(progress), cancel=cancel,
                           studio=studio, verify=ctx.verify)
    warmstart.remember(ctx, studio, bundle, installed, seen.get("project_bundles"))
    return installed, api


def _warm_start(ctx: LauncherContext) -> BootstrapResult | None:
    """The start from the recorded bundle when the server confirms nothing changed since
    the last good start (see warmstart.py): no ayon_api until a command uses the
    connection. None: the full bootstrap runs."""
    from ayon_launcher.bootstrapper import early_look, warmstart

    found = early_look.take_warm()  # taken in any case: it is this start's only
    if ctx.verify or ctx.use_dev:
        return None  # every file read, or a dev bundle: the full bootstrap
    found = found or warmstart.warm_start(ctx)
    if found is None:
        return None
    installed, session = found
    from ayon_launcher.bootstrapper.connection import activate

    activate(ctx, session)
    log.debug("bundle %s is up to date (warm start)", installed.bundle_name)
    api = warmstart.LazyServerAPI(session)
    return _load(ctx, installed, api, False)  # type: ignore[arg-type]


def _reused_connection(ctx: LauncherContext) -> ayon_api.ServerAPI | None:
    """A connection with the session this process logged in with already (handoff.py looks
    at the bundle before the built-in commands run), made this context's."""
    from ayon_launcher.bootstrapper import early_look

    session = early_look.take_session()
    url = (ctx.server_url or os.environ.get("AYON_SERVER_URL") or "").rstrip("/")
    if session is None or session.server_url.rstrip("/") != url:
        return None
    from ayon_launcher.bootstrapper.connection import activate, open_api

    activate(ctx, session)
    return open_api(session)


def _follow_launcher_version(api: ayon_api.ServerAPI, bundle: Any,
                             progress: ItemProgress | None) -> None:
    """Self-update hook: another launcher version named by the bundle is switched to (the
    command line re-runs with it; its install reports to ``progress`` as the add-ons do) or
    checked; nothing to import when it is the running one."""
    from ayon_launcher.bootstrapper.selfupdate import wants_other_launcher

    if wants_other_launcher(bundle.raw.get("installerVersion")):
        from ayon_launcher.bootstrapper.selfupdate.switch import follow_bundle

        follow_bundle(api, bundle, progress)


def _item_progress(progress: ProgressCallback | None) -> ItemProgress | None:
    if progress is None:
        return None

    def report(item: str, done: int, total: int | None, state: str) -> None:
        progress(Progress(item=item, done=done, total=total, state=state))

    return report


def offline_bundle(ctx: LauncherContext) -> InstalledBundle | None:
    """The bundle an offline start of ``ctx`` would use (None when there is none)."""
    from ayon_launcher.bootstrapper.distribution import store

    url = (ctx.server_url or os.environ.get("AYON_SERVER_URL") or "").rstrip("/") or None
    if ctx.project_bundle_name and not ctx.bundle_name:
        # The bundle asked for by AYON_BUNDLE_NAME (a project bundle, or an older launcher's
        # studio bundle), when it was installed here.
        named = store.last_installed(server_url=url, bundle_name=ctx.project_bundle_name)
        if named is not None:
            return named
    if ctx.use_staging:
        variant: str | None = "staging"
    elif ctx.use_dev:
        variant = store.DEV_VARIANT
    else:  # a named bundle is chosen by name; otherwise the studio's production bundle
        variant = None if ctx.bundle_name else "production"
    return store.last_installed(server_url=url, bundle_name=ctx.bundle_name, variant=variant)


def _offline_bundle(ctx: LauncherContext, exc: ServerUnreachableError) -> InstalledBundle:
    from ayon_launcher.bootstrapper.distribution import store

    installed = offline_bundle(ctx)
    # Mark its folders in use so that another launcher's clean-up keeps them; a bundle that
    # lost folders since the history was read cannot be used.
    if installed is not None and not store.claim(installed):
        installed = None
    if installed is None:
        raise ServerUnreachableError(
            f"{exc}; {_never_installed(ctx)}, so the launcher cannot start offline "
            "(connect once to the server, or use --skip-bootstrap)"
        ) from None
    damaged = store.damaged_items(installed, full=ctx.verify)
    if damaged:
        # Never a silent wrong environment: without the server nothing can be repaired.
        raise DistributionError(
            f"{exc}; bundle {installed.bundle_name} cannot start offline: "
            f"{'; '.join(damaged)}, and it cannot be repaired without the server")
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
    from ayon_launcher.pipeline.addons.loader import AddonFolder, load_addons

    _warn_missing_folders(installed)
    if any(addon.name == "core" for addon in installed.addons):
        return _core_result(ctx, installed, api, offline)
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
        studio_bundle_name=installed.studio_bundle_name or installed.bundle_name,
    )


def _core_result(ctx: LauncherContext, installed: InstalledBundle,
                 api: ayon_api.ServerAPI | None, offline: bool) -> BootstrapResult:
    """A bundle run by ayon-core: its add-ons are put on the path, not imported (ayon-core's
    AddonsManager does that, and a script must not pay for it)."""
    from ayon_launcher.bootstrapper.runtime import core_paths

    python_paths, sys_paths = core_paths(installed)
    return BootstrapResult(
        server_url=ctx.server_url or installed.server_url,
        api=api,
        bundle_name=installed.bundle_name,
        studio_bundle_name=installed.studio_bundle_name or installed.bundle_name,
        offline=offline,
        python_paths=python_paths,
        settings=installed.settings,
        core=True,
        sys_paths=sys_paths,
    )


def _warn_missing_folders(installed: InstalledBundle) -> None:
    """Warn about each add-on whose folder is not there (a dev add-on's checkout, mostly):
    it cannot load, the others do. Online and offline starts alike."""
    for addon in installed.addons:
        if os.path.isdir(addon.path):
            continue
        if addon.dev:
            log.warning("dev bundle %s: add-on %s is developed from %s, which is not a folder "
                        "here; the add-on is not loaded", installed.bundle_name, addon.name,
                        addon.path)
        else:
            log.warning("bundle %s: the folder of add-on %s %s, %s, is missing; the add-on is "
                        "not loaded", installed.bundle_name, addon.name, addon.version,
                        addon.path)
