"""The runtime AYON_* variables (and OPENPYPE_* aliases) every child process gets."""

import os
import sys

# No typing, pathlib or logging imports here: this module is on the fast path of `ayon SCRIPT`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult
    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.bootstrapper.distribution.store import InstalledBundle

CORE_ADDON = "core"  # a bundle with this add-on is run by ayon-core (pipeline/handoff.py)

# Older names that studios' tools still read; each mirrors the AYON variable.
OPENPYPE_ALIASES = {
    "OPENPYPE_HEADLESS_MODE": "AYON_HEADLESS_MODE",
    "OPENPYPE_USE_STAGING": "AYON_USE_STAGING",
    "OPENPYPE_LOG_LEVEL": "AYON_LOG_LEVEL",
    "OPENPYPE_DEBUG": "AYON_DEBUG",
    "OPENPYPE_VERSION": "AYON_VERSION",
    "OPENPYPE_EXECUTABLE": "AYON_EXECUTABLE",
    "OPENPYPE_ROOT": "AYON_ROOT",
    "OPENPYPE_REPOS_ROOT": "AYON_ROOT",
}


MENU_LABEL = "AYON"  # AYON_MENU_LABEL: the label of the AYON menu in the DCCs


def launcher_root() -> str:
    """AYON_ROOT: the frozen build's folder, else the ``ayon_root`` folder of this package,
    which holds ``version.py`` (read by ayon-core), ``start.py`` and ``app_launcher.py``."""
    if getattr(sys, "frozen", False):
        return os.path.dirname(os.path.realpath(sys.executable))
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), "ayon_root")


def _script(folder: str, name: str) -> str | None:
    for candidate in ((f"{name}.exe", name) if os.name == "nt" else (name,)):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def executable() -> str:
    """AYON_EXECUTABLE: what re-enters this launcher.

    The frozen executable; else the ``ayon`` command installed beside this environment's
    python (``ayon_console`` on Windows, the console one ayon-core asks for), with
    ``app_launcher`` beside it; else this python itself, for which ayon-core adds
    ``AYON_ROOT/start.py`` (its name contains "python").
    """
    if getattr(sys, "frozen", False):
        return sys.executable
    folders = [os.path.dirname(sys.executable)]
    invoked = sys.argv[0] if sys.argv else ""
    if os.path.basename(invoked).lower() in ("ayon", "ayon.exe", "ayon_console",
                                             "ayon_console.exe"):
        folders.append(os.path.dirname(os.path.abspath(invoked)))
    names = ("ayon_console", "ayon") if os.name == "nt" else ("ayon",)
    for folder in folders:
        for name in names:
            path = _script(folder, name)
            if path:
                return path
    return sys.executable


def _flag(value: bool) -> str | None:
    """As the official launcher sets its mode variables: "1", or not set at all."""
    return "1" if value else None


def settings_variant(ctx: "LauncherContext", bundle_name: str | None) -> str:
    """AYON_DEFAULT_SETTINGS_VARIANT: the dev bundle's name, staging or production."""
    if ctx.use_dev and bundle_name:
        return bundle_name
    return "staging" if ctx.use_staging else "production"


def login_mode(ctx: "LauncherContext") -> str:
    """AYON_IN_LOGIN_MODE: "1" when the login is the user's (login UI, stored token), "0" when
    the caller gave AYON_API_KEY; inherited by children, decided once by the first launcher."""
    if ctx.login_mode is not None:
        return "1" if ctx.login_mode else "0"
    inherited = os.environ.get("AYON_IN_LOGIN_MODE")
    if inherited in ("0", "1"):
        return inherited
    return "0" if os.environ.get("AYON_API_KEY") else "1"


def runtime_environment(ctx: "LauncherContext",
                        result: "BootstrapResult | None" = None) -> dict[str, str | None]:
    """The AYON runtime variables for ``ctx`` (and the bundle of ``result``); None: unset.

    Their meaning is the official launcher's: AYON_BUNDLE_NAME is the bundle in use (the
    project bundle when one applies), AYON_STUDIO_BUNDLE_NAME the studio bundle under it.
    """
    from ayon_launcher import __version__
    from ayon_launcher.support import paths

    bundle = (result.bundle_name if result and result.bundle_name
              else ctx.project_bundle_name or ctx.bundle_name)
    studio = (result.studio_bundle_name if result and result.studio_bundle_name
              else ctx.bundle_name or bundle)
    storage = paths.storage_folder()
    env: dict[str, str | None] = {
        "USE_AYON_SERVER": "1",
        "AYON_VERSION": __version__,
        "AYON_ROOT": launcher_root(),
        "AYON_EXECUTABLE": executable(),
        "AYON_MENU_LABEL": MENU_LABEL,
        "AYON_HEADLESS_MODE": _flag(ctx.headless),
        # As the official launcher: set when a level was asked for, else left as it is.
        "AYON_LOG_LEVEL": (str(int(ctx.log_level)) if ctx.log_level_given
                           else os.environ.get("AYON_LOG_LEVEL")),
        "AYON_DEBUG": _flag(ctx.debug),
        "AYON_USE_STAGING": _flag(ctx.use_staging and not ctx.use_dev),
        "AYON_USE_DEV": _flag(ctx.use_dev),
        "AYON_BUNDLE_NAME": bundle or None,
        "AYON_STUDIO_BUNDLE_NAME": studio or None,
        "AYON_DEFAULT_SETTINGS_VARIANT": settings_variant(ctx, bundle),
        "AYON_IN_LOGIN_MODE": login_mode(ctx),
        "AYON_LAUNCHER_STORAGE_DIR": storage,
        "AYON_LAUNCHER_LOCAL_DIR": paths.local_folder(),
        "AYON_ADDONS_DIR": paths.addons_folder(),
        "AYON_DEPENDENCIES_DIR": paths.dependency_packages_folder(),
    }
    if ctx.project_name:
        env["AYON_PROJECT_NAME"] = ctx.project_name
    if not os.environ.get("SSL_CERT_FILE"):
        # As the official launcher: children (DCCs too) verify TLS with certifi's bundle,
        # unless the studio set its own.
        bundle = certifi_bundle()
        if bundle:
            env["SSL_CERT_FILE"] = bundle
    site_id = os.environ.get("AYON_SITE_ID")
    if not site_id and not ctx.skip_bootstrap:
        from ayon_launcher.bootstrapper.site_id import local_site_id

        site_id = local_site_id()
    if site_id:
        env["AYON_SITE_ID"] = site_id
    server_url = (result.server_url if result and result.server_url else None) or ctx.server_url
    if server_url:
        env["AYON_SERVER_URL"] = server_url
    if ctx.token:
        env["AYON_API_KEY"] = ctx.token  # lets children (and ayon_api) connect as this user
    # AYON_USERNAME is the caller's (a farm job's artist, whom ayon-core's publish acts as
    # through a service user's key): passed through untouched, never set here.
    for alias, name in OPENPYPE_ALIASES.items():
        env[alias] = env.get(name)
    return env


def certifi_bundle() -> str | None:
    """certifi's ``cacert.pem``: the file of the ``certifi`` package that ``import certifi``
    finds, read off ``sys.path`` (``certifi.where()`` imports importlib.resources and zipfile,
    a third of a script's start); ``certifi.where()`` itself when that is not a plain file."""
    if "certifi" not in sys.modules:
        for entry in sys.path:
            package = os.path.join(entry or os.curdir, "certifi")
            if os.path.isfile(os.path.join(package, "__init__.py")):
                bundle = os.path.join(package, "cacert.pem")
                if os.path.isfile(bundle):
                    return os.path.abspath(bundle)
                break
    try:
        import certifi
    except ImportError:  # pragma: no cover - a dependency of requests
        return None
    return certifi.where()


def addon_environment(result: "BootstrapResult | None") -> dict[str, str]:
    """Variables the loaded add-ons contribute (a failing add-on is logged and skipped)."""
    env: dict[str, str] = {}
    for addon in result.addons if result else []:
        try:
            contributed = addon.environment() or {}
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one add-on must not stop
            from ayon_launcher.pipeline.addons.base import failure_reason  # the launcher
            from ayon_launcher.support.log import get_logger

            get_logger("environment").warning("add-on %s: environment() failed: %s",
                                              addon.name, failure_reason(exc))
            continue
        env.update({str(k): str(v) for k, v in contributed.items()})
    return env


def python_path(result: "BootstrapResult | None", current: str | None) -> str | None:
    """PYTHONPATH for children.

    This launcher's own bundles: the bundle's folders first, then what was there before. A
    bundle run by ayon-core, in the official launcher's order: this launcher's modules
    (``ayon_common``, ``ayon_api``...), what was there before, the add-ons, the dependency
    package's ``dependencies`` (its ``runtime`` folder is for this process only).
    """
    existing = [part for part in (current or "").split(os.pathsep) if part]
    bundle = list(result.python_paths) if result else []
    if result is not None and result.core:
        own = launcher_python_paths()
        parts = own + [p for p in existing if p not in own] + bundle
    else:
        parts = bundle + [p for p in existing if p not in bundle]
    seen: set[str] = set()
    ordered = [p for p in parts if not (p in seen or seen.add(p))]
    return os.pathsep.join(ordered) if ordered else None


def child_environment(ctx: "LauncherContext", result: "BootstrapResult | None" = None,
                      base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (os.environ by default) + add-on variables + runtime variables + PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    env.update(addon_environment(result))
    for key, value in runtime_environment(ctx, result).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    joined = python_path(result, env.get("PYTHONPATH"))
    if joined:
        env["PYTHONPATH"] = joined
    return env


def apply_environment(env: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``env`` (variables it dropped are removed)."""
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    os.environ.update(env)


def is_core_bundle(addon_names: object) -> bool:
    return CORE_ADDON in addon_names  # type: ignore[operator]


def core_paths(installed: "InstalledBundle") -> tuple[list[str], list[str]]:
    """(PYTHONPATH part, sys.path-only part) of a core bundle, as the official launcher has
    them: the add-on folders (``$AYON_ADDONS_DIR/{name}_{version}``) then the dependency
    package's ``dependencies``; its ``runtime`` folder only on sys.path."""
    python_paths = [addon.path for addon in installed.addons if os.path.isdir(addon.path)]
    sys_paths: list[str] = []
    package = installed.dependency_package
    if package:
        dependencies = os.path.join(package, "dependencies")
        python_paths.append(dependencies if os.path.isdir(dependencies) else package)
        runtime = os.path.join(package, "runtime")
        if os.path.isdir(runtime):
            sys_paths.append(runtime)
    return python_paths, sys_paths


def launcher_python_paths() -> list[str]:
    """Folders of this launcher's own modules that children of a core bundle get first on
    PYTHONPATH, as the official launcher gives its ``common`` and its own site-packages:
    DCC integrations import ``ayon_api`` (and ``ayon_common``) from the launcher, since
    dependency packages leave them out."""
    import importlib.util

    folders: list[str] = []
    for module in ("ayon_common", "ayon_api"):
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec is not None else None
        if origin:
            folder = os.path.dirname(os.path.dirname(origin))  # the package's parent
            if folder not in folders:
                folders.append(folder)
    return folders
