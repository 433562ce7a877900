"""The runtime AYON_* variables (and OPENPYPE_* aliases) every child process gets."""

from __future__ import annotations

import os
import sys

# No typing, pathlib or logging imports here: this module is on the fast path of `ayon SCRIPT`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..bootstrap import BootstrapResult
    from ..context import LauncherContext

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


def launcher_root() -> str:
    """Root of the desktop application: the frozen build's folder, the source checkout (the
    folder with ``pyproject.toml`` above ``src/``), or the installed package's folder."""
    if getattr(sys, "frozen", False):
        return os.path.dirname(os.path.realpath(sys.executable))
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    parent = os.path.dirname(package)
    checkout = os.path.dirname(parent)
    if os.path.basename(parent) == "src" and os.path.isfile(
            os.path.join(checkout, "pyproject.toml")):
        return checkout
    return package


def executable() -> str:
    """What runs AYON subprocesses: the frozen executable, or this environment's python."""
    return sys.executable


def _flag(value: bool) -> str:
    return "1" if value else "0"


def runtime_environment(ctx: LauncherContext,
                        result: BootstrapResult | None = None) -> dict[str, str]:
    """The AYON runtime variables for ``ctx`` (and the bundle of ``result``)."""
    from ..version import __version__

    env = {
        "USE_AYON_SERVER": "1",
        "AYON_VERSION": __version__,
        "AYON_ROOT": launcher_root(),
        "AYON_EXECUTABLE": executable(),
        "AYON_HEADLESS_MODE": _flag(ctx.headless),
        "AYON_LOG_LEVEL": str(int(ctx.log_level)),
        "AYON_DEBUG": _flag(ctx.debug),
        "AYON_USE_STAGING": _flag(ctx.use_staging),
        "AYON_USE_DEV": _flag(ctx.use_dev),
        "AYON_BUNDLE_NAME": (result.bundle_name if result and result.bundle_name
                             else ctx.bundle_name or ""),
    }
    server_url = (result.server_url if result and result.server_url else None) or ctx.server_url
    if server_url:
        env["AYON_SERVER_URL"] = server_url
    if ctx.token:
        env["AYON_API_KEY"] = ctx.token  # lets children (and ayon_api) connect as this user
    for alias, name in OPENPYPE_ALIASES.items():
        env[alias] = env[name]
    return env


def addon_environment(result: BootstrapResult | None) -> dict[str, str]:
    """Variables the loaded add-ons contribute (a failing add-on is logged and skipped)."""
    env: dict[str, str] = {}
    for addon in result.addons if result else []:
        try:
            contributed = addon.environment() or {}
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one add-on must not stop
            from ..addons.base import failure_reason  # the launcher
            from ..log import get_logger

            get_logger("environment").warning("add-on %s: environment() failed: %s",
                                              addon.name, failure_reason(exc))
            continue
        env.update({str(k): str(v) for k, v in contributed.items()})
    return env


def python_path(result: BootstrapResult | None, current: str | None) -> str | None:
    """PYTHONPATH with the bundle's folders first, then what was there before."""
    parts = list(result.python_paths) if result else []
    for part in (current or "").split(os.pathsep):
        if part and part not in parts:
            parts.append(part)
    return os.pathsep.join(parts) if parts else None


def child_environment(ctx: LauncherContext, result: BootstrapResult | None = None,
                      base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (os.environ by default) + add-on variables + runtime variables + PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    env.update(addon_environment(result))
    env.update(runtime_environment(ctx, result))
    joined = python_path(result, env.get("PYTHONPATH"))
    if joined:
        env["PYTHONPATH"] = joined
    return env
