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
