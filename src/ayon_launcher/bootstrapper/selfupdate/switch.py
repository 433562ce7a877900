"""Follow the launcher version the bundle names: switch to it, or check the contract, or refuse.

Called by bootstrap only when the bundle's ``installerVersion`` is not the running launcher's
(see ``selfupdate.wants_other_launcher``), so the usual start pays nothing for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from ayon_launcher import __version__
from ayon_launcher.bootstrapper.selfupdate import (
    AUTO_UPDATE_ENV,
    auto_update_mode,
    identity,
    registry,
)
from ayon_launcher.support.errors import DistributionError, LauncherError, UsageError
from ayon_launcher.support.log import get_logger

if TYPE_CHECKING:
    import ayon_api

    from ayon_launcher.bootstrapper.distribution.models import Bundle
    from ayon_launcher.bootstrapper.distribution.sync import ItemProgress

log = get_logger("selfupdate")

# Set for the launcher a switch starts: the version it came from (a second switch is a loop).
SWITCHED_FROM_ENV = "AYON_LAUNCHER_SWITCHED_FROM"


def follow_bundle(api: ayon_api.ServerAPI, bundle: Bundle,
                  progress: ItemProgress | None = None) -> None:
    """Run the launcher the bundle wants: return to go on here, or re-run with another version
    (this process then ends with its exit code), or raise. ``progress`` follows an install."""
    wanted = str(bundle.raw.get("installerVersion"))
    mode = auto_update_mode()
    own = identity.own_version_of(wanted)
    if own is None:
        check_contract(api, bundle, wanted, mode)
        return
    what = f"bundle {bundle.name!r} wants AYON launcher {own}, this is {__version__}"
    if mode == "skip":
        log.warning("%s: running %s anyway (%s=skip)", what, __version__, AUTO_UPDATE_ENV)
        return
    if mode == "block":
        raise DistributionError(f"{what}, and {AUTO_UPDATE_ENV}=block forbids switching")
    if os.environ.get(SWITCHED_FROM_ENV):
        raise DistributionError(f"{what}, though launcher {os.environ[SWITCHED_FROM_ENV]} "
                                "switched to this one for it: the launcher registry is wrong; "
                                f"remove {registry.registry_path()} and start again")
    python = registry.python_of(own)
    if python is None:
        try:
            python = _install(api, bundle, wanted, own, progress)
        except LauncherError as exc:
            if isinstance(exc, UsageError):
                raise
            log.warning("%s, and installing it failed: %s; running %s (the next start tries "
                        "again)", what, exc, __version__)
            return
    registry.record_running(__version__)
    registry.set_current(python)
    rerun(python, own, bundle.name)


def _install(api: ayon_api.ServerAPI, bundle: Bundle, wanted: str, own: str,
             progress: ItemProgress | None) -> str:
    from ayon_launcher.bootstrapper.distribution.distribute import server_get
    from ayon_launcher.bootstrapper.distribution.models import platform_name
    from ayon_launcher.bootstrapper.selfupdate import install

    platform = platform_name()
    payload = server_get(api, f"desktop/installers?platform={platform}", "the installers")
    records = [r for r in payload.get("installers") or []
               if isinstance(r, dict) and r.get("version") == wanted
               and r.get("platform", platform) == platform]
    mine = [r for r in records if identity.is_own_installer(r)]
    if not mine:
        others = " (it lists only installers of another launcher for it)" if records else ""
        raise DistributionError(f"the server has no installer of AYON launcher {own} for "
                                f"{platform}{others}")
    return install.install(api, mine[0], own, progress)


def rerun(python: str, own: str, bundle_name: str) -> None:
    """Run the same command line with ``python``'s launcher; this process ends with it."""
    print(f"ayon: bundle {bundle_name} uses AYON launcher {own}: restarting with it "
          f"(this is {__version__})", file=sys.stderr, flush=True)
    command = [python, "-m", "ayon_launcher", *sys.argv[1:]]
    env = {**os.environ, SWITCHED_FROM_ENV: __version__}
    sys.stdout.flush()
    if os.name != "nt":
        os.execve(python, command, env)
    code = subprocess.call(command, env=env)
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: the bootstrap may run in a worker thread (the tray), where sys.exit would end
    # only that thread.
    os._exit(code)


def check_contract(api: ayon_api.ServerAPI, bundle: Bundle, wanted: str, mode: str) -> None:
    """The bundle names another launcher (ynput's official one): keep running if this one's
    contract meets the add-ons' launcher ranges (one warning), else refuse."""
    contract = identity.CONTRACT_VERSION
    problems = contract_problems(api, bundle)
    if problems is None:
        log.warning("bundle %s names AYON launcher %s, not one of this launcher's; running %s "
                    "(official launcher %s contract; the add-ons' launcher ranges could not be "
                    "checked)", bundle.name, wanted, __version__, contract)
        return
    if not problems:
        log.warning("bundle %s names official AYON launcher %s; running this launcher %s, "
                    "which implements the official launcher %s contract its add-ons accept",
                    bundle.name, wanted, __version__, contract)
        return
    text = "; ".join(problems)
    if mode == "skip":
        log.warning("bundle %s: %s, and this launcher implements the official launcher %s "
                    "contract; running anyway (%s=skip)", bundle.name, text, contract,
                    AUTO_UPDATE_ENV)
        return
    raise DistributionError(
        f"bundle {bundle.name!r} needs the official AYON launcher {wanted} ({text}); this "
        f"launcher implements the official launcher {contract} contract, which its add-ons do "
        f"not accept (ask for an installer of this launcher in the bundle, or set "
        f"{AUTO_UPDATE_ENV}=skip to run anyway)")


def contract_problems(api: ayon_api.ServerAPI, bundle: Bundle) -> list[str] | None:
    """The add-ons' launcher requirements the contract version misses (None: unknown).

    Asks the server's bundle check, as the web UI does, with the contract version as the
    bundle's launcher: the server knows each add-on's ``ayon_launcher_version``."""
    body: dict[str, Any] = {"name": bundle.name, "addons": bundle.addons,
                            "installerVersion": identity.CONTRACT_VERSION}
    try:
        response = api.post("bundles/check", **body)
    except Exception as exc:  # noqa: BLE001 - a check that cannot run is reported as such
        log.debug("bundle check failed: %s", exc)
        return None
    if not 200 <= response.status_code < 300 or not isinstance(response.data, dict):
        return None
    problems = []
    for issue in response.data.get("issues") or []:
        message = str(issue.get("message") or "")
        if issue.get("severity") == "error" and message.lower().startswith("launcher"):
            problems.append(f"add-on {issue.get('addon')} requires {message.split(' ', 1)[1]}"
                            .removesuffix(" is required"))
    return problems
