"""AYON desktop launcher: keeps a workstation in step with the studio's AYON server."""

from ayon_launcher.bootstrapper.ayon_root.version import __version__
from ayon_launcher.support import addon_paths as _addon_paths

_addon_paths.install()

__all__ = ["__version__"]
