"""Self-update: this launcher's installers, side-by-side installs, and the bundle's launcher."""

from ayon_launcher import __version__ as _own
from ayon_launcher.bootstrapper.selfupdate.identity import installer_version

RUNNING = installer_version(_own)


def wants_other_launcher(installer_version_of_bundle: object) -> bool:
    """True when a bundle's ``installerVersion`` is set and is not the running launcher's."""
    return bool(installer_version_of_bundle) and installer_version_of_bundle != RUNNING
