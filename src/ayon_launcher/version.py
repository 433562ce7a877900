"""The launcher's version string (kept in ``ayon_root/version.py``, where ayon-core reads it)."""

from .ayon_root.version import __version__

__all__ = ["__version__"]
