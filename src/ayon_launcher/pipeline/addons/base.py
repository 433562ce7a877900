"""Base class every client add-on derives from."""

from __future__ import annotations

from collections.abc import Callable

from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # click is only needed when an add-on registers commands
    from typing import Any

    import click


class TrayAction(Record):
    """A menu entry an add-on contributes to the tray.

    ``callback`` runs in the UI thread (it may open windows). The tray shows the artist how it
    went: what it returns (when not None) and prints, in a notification or a window, or why
    it failed (an exception's message, a ``sys.exit``), with the traceback under "details".
    """

    _fields = ("label", "callback")

    def __init__(self, label: str, callback: Callable[[], Any]) -> None:
        self.label = label
        self.callback = callback


class AYONAddon:
    """An add-on's client side.

    Subclasses set ``name`` (and usually ``version``); the loader instantiates them with the
    bundle's studio settings for the add-on, then calls :meth:`initialize`.
    """

    name: str = ""
    version: str = "0.0.0"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = settings or {}
        self.initialize(self.settings)

    def initialize(self, settings: dict[str, Any]) -> None:
        """Set the add-on up from its bundle settings. Override as needed."""

    def cli(self, addon_group: click.Group) -> None:
        """Add click commands to ``addon_group`` (``ayon addon <name> ...``)."""

    def tray_actions(self) -> list[TrayAction]:
        """Menu entries for the tray."""
        return []

    def environment(self) -> dict[str, str]:
        """Environment variables this add-on contributes to child processes."""
        return {}

    def publish_plugin_paths(self) -> list[str]:
        """Folders holding pyblish plugins of this add-on."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.version}>"


def failure_reason(exc: BaseException) -> str:
    """One line saying how an add-on's code failed (an exception, or a ``sys.exit``)."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    from ayon_launcher.support.errors import error_line

    return error_line(exc)
