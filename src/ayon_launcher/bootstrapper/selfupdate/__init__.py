"""Self-update: this launcher's installers, side-by-side installs, and the bundle's launcher."""

from ayon_launcher import __version__ as _own
from ayon_launcher.bootstrapper.selfupdate.identity import installer_version

RUNNING = installer_version(_own)
AUTO_UPDATE_ENV = "AYON_AUTO_UPDATE"


def wants_other_launcher(installer_version_of_bundle: object) -> bool:
    """True when a bundle's ``installerVersion`` is set and is not the running launcher's."""
    return bool(installer_version_of_bundle) and installer_version_of_bundle != RUNNING


def auto_update_mode() -> str:
    """``AYON_AUTO_UPDATE``: "" (follow the bundle), "skip" or "block"."""
    import os

    from ayon_launcher.support.errors import UsageError

    value = os.environ.get(AUTO_UPDATE_ENV, "").strip().lower()
    if value in ("", "skip", "block"):
        return value
    raise UsageError(f"invalid {AUTO_UPDATE_ENV}={value!r}: use 'skip' or 'block' (or leave "
                     "it unset to follow the bundle)")


def official_launcher_run(installer_version_of_bundle: object) -> list[str] | None:
    """[version, AYON_AUTO_UPDATE] when a bundle names ynput's official launcher, which this one
    runs in its place under that launcher's contract: what ``switch.check_contract`` decides
    depends on the bundle and this setting only, so a start can reuse an earlier decision for
    the same pair. None when the bundle names this launcher (any version) or nothing."""
    from ayon_launcher.bootstrapper.selfupdate.identity import own_version_of

    if not wants_other_launcher(installer_version_of_bundle):
        return None
    wanted = str(installer_version_of_bundle)
    return None if own_version_of(wanted) is not None else [wanted, auto_update_mode()]
