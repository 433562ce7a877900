"""The add-on interface: base class, loader and registry of commands and tray items."""

from ayon_launcher.pipeline.addons.base import AYONAddon, TrayAction

__all__ = ["AYONAddon", "TrayAction"]
