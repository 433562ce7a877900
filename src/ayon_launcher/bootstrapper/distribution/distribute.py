"""Bring the chosen bundle's add-ons and dependency package into the local store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.bundles import (
    choose_bundle,
    choose_project_bundle,
    project_bundle_wanted,
    studio_bundle_name,
    with_addon_versions,
)
from ayon_launcher.bootstrapper.distribution.models import (
    Bundle,
    DistItem,
    addon_item,
    dependency_item,
)
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.sync import ItemProgress, SyncFailed, sync_items
from ayon_launcher.support.errors import (
    AuthenticationRequired,
    DistributionError,
    ServerUnreachableError,
)
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    import ayon_api

log = get_logger("distribution")


def server_get(api: ayon_api.ServerAPI, endpoint: str, what: str) -> Any:
    """GET a JSON endpoint.

    Raises AuthenticationRequired when the credentials are refused (401/403: expired token,
    revoked API key), ServerUnreachableError when there is no answer or a 5xx one (the caller
    may start offline), DistributionError for any other failure.
    """
    response = api.get(endpoint)
    for _attempt in range(2):
        # ayon_api answers 401 itself, without a request, once it knows the token is invalid.
        if response.status_code in (401, 403) or _answered(response):
            break
        # No answer: ayon_api kept only its own words ("unable to connect the server");
        # one request of our own says why, in words, or gets the answer after all.
        response = _why_no_answer(api, endpoint, what, response)
    status = response.status_code
    if status in (401, 403):
        raise AuthenticationRequired(
            f"the AYON server rejected the credentials while reading {what} (HTTP {status}); "
            "log in again or set a valid AYON_API_KEY")
    if not _answered(response):
        raise ServerUnreachableError(f"cannot reach the AYON server {api.get_base_url()} to "
                                     f"read {what} (the connection keeps failing)")
    if status >= 500:
        raise ServerUnreachableError(
            f"the AYON server is unavailable: reading {what} answered HTTP {status}")
    if not 200 <= status < 300:
        raise DistributionError(f"cannot read {what} from the server "
                                f"(HTTP {response.status_code}: {response.detail})")
    return response.data


def _answered(response: Any) -> bool:
    """Whether an ayon_api response is the server's (not ayon_api's stand-in for a failure)."""
    return getattr(response, "orig_response", None) is not None


def _why_no_answer(api: ayon_api.ServerAPI, endpoint: str, what: str, failed: Any) -> Any:
    """ServerUnreachableError naming why ``endpoint`` got no answer ("connection refused",
    "no answer after 10 s"), never a library's text; ayon_api's response when our own
    request got an answer after all (the caller asks once more)."""
    import requests

    from ayon_launcher.bootstrapper.connection.tls import network_reason, request_settings

    base = api.get_base_url()
    waited = float(api.get_timeout())
    detail = str(getattr(failed, "detail", "") or "").lower()
    if "timed out" in detail:  # ayon_api waited its full time-out: no second wait
        reason = f"no answer after {waited:g} s"
    else:
        try:
            requests.get(f"{api.get_rest_url()}/{endpoint.lstrip('/')}",
                         headers=api.get_headers(), timeout=waited, **request_settings())
        except requests.RequestException as exc:
            reason = network_reason(exc, waited, base)
        else:
            return api.get(endpoint)
    raise ServerUnreachableError(f"cannot reach the AYON server {base} to read {what} "
                                 f"({reason})")


def current_username(api: ayon_api.ServerAPI) -> str | None:
    try:
        data = server_get(api, "users/me", "the current user")
    except DistributionError:
        return None
    return data.get("name") if isinstance(data, dict) else None


def fetch_bundle(api: ayon_api.ServerAPI, *, bundle_name: str | None, use_staging: bool,
                 use_dev: bool) -> Bundle:
    payload = server_get(api, "bundles", "the bundles")
    username = current_username(api) if use_dev else None
    return choose_bundle(payload, bundle_name=bundle_name, use_staging=use_staging,
                         use_dev=use_dev, username=username)


def fetch_bundles(api: ayon_api.ServerAPI, *, bundle_name: str | None,
                  project_bundle_name: str | None = None, project_name: str | None = None,
                  use_staging: bool = False, use_dev: bool = False,
                  seen: dict[str, Any] | None = None) -> tuple[Bundle, Bundle]:
    """(studio bundle, bundle to use): the second is the project bundle when one applies
    (with the add-on versions the server resolves for the pair), else the studio bundle.

    ``seen`` (when given) gets the project's ``data.bundle`` read for ``project_name`` under
    ``"project_bundles"``: what the warm-start record compares at the next start."""
    from urllib.parse import quote, urlencode

    payload = server_get(api, "bundles", "the bundles")
    studio_name = studio_bundle_name(payload, bundle_name, project_bundle_name)
    if studio_name and studio_name == project_bundle_name:
        project_bundle_name = None
    username = current_username(api) if use_dev and not studio_name else None
    studio = choose_bundle(payload, bundle_name=studio_name, use_staging=use_staging,
                           use_dev=use_dev, username=username)
    project_bundles = None
    if project_name and not project_bundle_name and not studio.is_dev:
        project_bundles = _project_bundles(api, project_name)
        if seen is not None:
            seen["project_bundles"] = project_bundles
    name = project_bundle_wanted(studio, project_bundle_name=project_bundle_name,
                                 project_bundles=project_bundles,
                                 use_staging=use_staging)
    bundle = choose_project_bundle(payload, studio, name)
    if bundle is studio:
        return studio, studio
    query = urlencode({"summary": "true", "bundle_name": studio.name,
                       "project_bundle_name": bundle.name}, quote_via=quote)
    summary = server_get(api, f"settings?{query}", f"the add-ons of project bundle {bundle.name}")
    return studio, with_addon_versions(bundle, studio, summary.get("addons") or [])


def _project_bundles(api: ayon_api.ServerAPI, project_name: str) -> dict[str, Any]:
    """The project's ``data.bundle`` ({"production": name, "staging": name})."""
    from urllib.parse import quote

    from ayon_launcher.support.errors import UsageError

    try:
        project = server_get(api, f"projects/{quote(project_name, safe='')}",
                             f"project {project_name}")
    except DistributionError as exc:
        if "HTTP 404" in str(exc):
            raise UsageError(f"project {project_name!r} does not exist on the server "
                             "(--project, AYON_PROJECT_NAME)") from None
        raise
    bundles = ((project or {}).get("data") or {}).get("bundle")
    return bundles if isinstance(bundles, dict) else {}


def plan_items(api: ayon_api.ServerAPI, bundle: Bundle) -> tuple[list[DistItem], dict[str, str]]:
    """Items to sync for ``bundle`` and the dev add-ons used in place ({name: path})."""
    info = server_get(api, "addons?details=1", "the add-on list")
    versions: dict[tuple[str, str], dict[str, Any]] = {}
    for addon in info.get("addons") or []:
        for version, data in (addon.get("versions") or {}).items():
            versions[(addon["name"], version)] = data or {}

    items: list[DistItem] = []
    dev_paths: dict[str, str] = {}
    missing = []
    for name, version in sorted(bundle.addons.items()):
        dev = bundle.dev_path(name)
        if dev:
            dev_paths[name] = dev  # a missing folder is reported when the add-ons load
            continue
        data = versions.get((name, version))
        if data is None:
            missing.append(f"{name} {version}")
            continue
        if not data.get("clientSourceInfo"):
            log.debug("add-on %s %s has no client code", name, version)
            continue
        items.append(addon_item(name, version, data))
    if missing:
        raise DistributionError(
            f"bundle {bundle.name!r} names add-on versions the server does not have: "
            + ", ".join(missing)
        )

    filename = bundle.dependency_package()
    if filename:
        packages = server_get(api, "desktop/dependencyPackages", "the dependency packages")
        package = next((p for p in packages.get("packages") or []
                        if p.get("filename") == filename), None)
        if package is None:
            raise DistributionError(
                f"bundle {bundle.name!r} names dependency package {filename!r} "
                "which the server does not have"
            )
        items.append(dependency_item(package))
    return items, dev_paths


def fetch_settings(api: ayon_api.ServerAPI, bundle: Bundle) -> dict[str, Any]:
    """The bundle's studio settings per add-on name ({} with a warning when unavailable)."""
    try:
        return api.get_addons_settings(bundle_name=bundle.name, variant=bundle.variant) or {}
    except Exception as exc:  # noqa: BLE001 - add-ons still load, with default settings
        log.warning("could not read the studio settings of bundle %s: %s", bundle.name, exc)
        return {}


# Rounds of "sync, then check under the store lock": another launcher's clean-up can remove
# a folder that was installed when this one looked (and was not yet marked in use).
_ROUNDS = 3


def distribute(api: ayon_api.ServerAPI, bundle: Bundle, progress: ItemProgress | None = None,
               fetch_settings_fn: Callable[..., dict[str, Any]] = fetch_settings,
               cancel: threading.Event | None = None,
               studio: Bundle | None = None,
               verify: bool = False) -> store.InstalledBundle:
    """Sync ``bundle`` into the store, record it as installed, clean up unused versions.

    What is missing is fetched without the store lock (one lock per item), so a launcher
    whose bundle is installed never waits for another one downloading a different bundle;
    the store lock is held only to mark, check and record the bundle and clean up. When that
    lock stays taken but the bundle is complete, it starts anyway (with a warning).
    ``cancel`` stops the sync from another thread (SyncCancelled); Ctrl+C stops it too.
    Installed items are checked (``verify``: every file read) and damaged ones installed again.
    """
    keep = store.keep_count()  # a bad AYON_LAUNCHER_KEEP_BUNDLES fails before any download
    items, dev_paths = plan_items(api, bundle)
    settings = FetchSettings(server_url=api.get_base_url(), server_headers=api.get_headers())
    installed = _installed_bundle(api, bundle, items, dev_paths, fetch_settings_fn(api, bundle),
                                  studio or bundle)
    for _round in range(_ROUNDS):
        _sync(items, settings, progress, cancel, verify)
        verify = False  # a later round only installs what went missing meanwhile
        try:
            if store.record_bundle(installed, items, keep):
                return installed
        except store.StoreLockTimeout as exc:
            return _start_unrecorded(installed, items, exc)
        log.info("add-ons of bundle %s were removed meanwhile by another launcher: "
                 "installing them again", bundle.name)
    raise DistributionError(
        f"bundle {bundle.name!r}: add-ons kept being removed by another AYON launcher's "
        "clean-up while they were installed; try again")


def _sync(items: list[DistItem], settings: FetchSettings, progress: ItemProgress | None,
          cancel: threading.Event | None, verify: bool) -> None:
    try:
        sync_items(items, settings, progress, cancel=cancel, verify=verify)
    except SyncFailed as exc:
        if exc.kind == "network":
            # The server stopped delivering files: like a server that cannot be reached,
            # so that the bootstrap can start from the last complete bundle.
            raise ServerUnreachableError(
                f"the AYON server stopped delivering files: {exc}") from None
        if exc.kind == "auth":
            raise AuthenticationRequired(
                f"the AYON server rejected the credentials: {exc}") from None
        raise


def _installed_bundle(api: ayon_api.ServerAPI, bundle: Bundle, items: list[DistItem],
                      dev_paths: dict[str, str], settings: dict[str, Any],
                      studio: Bundle) -> store.InstalledBundle:
    addons = [
        store.InstalledAddon(name=i.name, version=i.version or "", path=str(i.target))
        for i in items if i.kind == "addon"
    ]
    addons += [
        store.InstalledAddon(name=name, version=bundle.addons[name], path=path, dev=True)
        for name, path in dev_paths.items()
    ]
    package = next((str(i.target) for i in items if i.kind == "dependency_package"), None)
    return store.InstalledBundle(
        bundle_name=bundle.name,
        studio_bundle_name=studio.name,
        server_url=api.get_base_url(),
        variant=studio.variant,
        addons=sorted(addons, key=lambda a: a.name),
        dependency_package=package,
        settings=settings,
    )


def _start_unrecorded(installed: store.InstalledBundle, items: list[DistItem],
                      exc: store.StoreLockTimeout) -> store.InstalledBundle:
    """The store lock stayed taken: start from the bundle if it is complete here (marked in
    use without the lock, not recorded for offline starts), else fail with ``exc``."""
    if not store.hold_if_complete(installed, items):
        raise exc
    log.warning("%s; bundle %s is complete here: starting without recording it",
                exc, installed.bundle_name)
    return installed
