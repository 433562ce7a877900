"""Client side of the demo_tools add-on."""

from .addon import DemoToolsAddon
from .version import __version__

__all__ = ["DemoToolsAddon", "__version__"]
