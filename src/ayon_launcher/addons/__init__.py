"""The add-on interface: base class, loader and registry of commands and tray items."""

from .base import AYONAddon, TrayAction

__all__ = ["AYONAddon", "TrayAction"]
