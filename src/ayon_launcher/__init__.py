"""AYON desktop launcher: keeps a workstation in step with the studio's AYON server."""

from .version import __version__

__all__ = ["__version__"]
