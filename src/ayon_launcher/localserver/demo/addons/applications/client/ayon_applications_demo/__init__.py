"""Client side of the demo applications add-on."""

from .addon import ApplicationsAddon
from .version import __version__

__all__ = ["ApplicationsAddon", "__version__"]
