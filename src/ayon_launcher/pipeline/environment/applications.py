"""Applications and tools from the ``applications`` add-on settings (ayon-applications shape).

Settings look like::

    {"applications": {"maya": {"enabled": true, "label": "Maya", "host_name": "maya",
                               "environment": "{...JSON...}" or {...},
                               "variants": [{"name": "2024", "label": "2024",
                                             "executables": {"linux": [...], ...},
                                             "environment": ...}]}, ...},
     "tool_groups": [{"name": "mtoa", "environment": ..., "variants": [{"name": "5.3",
                      "environment": ..., "host_names": [], "app_variants": []}]}]}

Application names are ``group/variant`` (``maya/2024``); ``maya-2024`` is accepted too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ayon_launcher.pipeline.environment.definitions import current_platform
from ayon_launcher.support.errors import UsageError
from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APPLICATIONS_ADDON = "applications"


class Application(Record):
    """One variant of an application group, e.g. ``maya/2024``."""

    _fields = ("group", "variant", "label", "host_name", "executables", "group_environment",
               "environment")

    def __init__(self, group: str, variant: str, label: str, host_name: str,
                 executables: list[str] | None = None, group_environment: Any = None,
                 environment: Any = None) -> None:
        self.group = group
        self.variant = variant
        self.label = label
        self.host_name = host_name
        self.executables = [] if executables is None else executables
        self.group_environment = group_environment
        self.environment = environment

    @property
    def full_name(self) -> str:
        return f"{self.group}/{self.variant}"

    def environment_layers(self) -> list[tuple[str, Any]]:
        """``(label, raw definition)`` of the group then the variant."""
        return [(f"application group {self.group}", self.group_environment),
                (f"application {self.full_name}", self.environment)]


class Tool(Record):
    """One variant of a tool group, e.g. ``mtoa/5.3``."""

    _fields = ("group", "variant", "group_environment", "environment", "host_names",
               "app_variants")

    def __init__(self, group: str, variant: str, group_environment: Any = None,
                 environment: Any = None, host_names: list[str] | None = None,
                 app_variants: list[str] | None = None) -> None:
        self.group = group
        self.variant = variant
        self.group_environment = group_environment
        self.environment = environment
        self.host_names = [] if host_names is None else host_names
        self.app_variants = [] if app_variants is None else app_variants

    @property
    def full_name(self) -> str:
        return f"{self.group}/{self.variant}"

    def applies_to(self, app: Application) -> bool:
        """Tools may be limited to some hosts and some application variants."""
        if self.host_names and app.host_name not in self.host_names:
            return False
        return not self.app_variants or app.full_name in self.app_variants

    def environment_layers(self) -> list[tuple[str, Any]]:
        return [(f"tool group {self.group}", self.group_environment),
                (f"tool {self.full_name}", self.environment)]


def _split_name(name: str, groups: Iterable[str]) -> tuple[str, str] | None:
    """``maya/2024`` or ``maya-2024`` -> (``maya``, ``2024``) using the known group names."""
    if "/" in name:
        group, _, variant = name.partition("/")
        return group, variant
    # Longest group first: a group "nuke" must not swallow "nukex-15".
    for group in sorted(groups, key=len, reverse=True):
        if name.startswith(group + "-"):
            return group, name[len(group) + 1:]
    return None


def suggest(name: str, choices: Iterable[str], what: str) -> str:
    """One-line message: unknown ``what`` with the closest choices (or all when few)."""
    choices = sorted(set(choices))
    import difflib  # only to suggest names for a wrong one

    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.4)
    if not choices:
        return f"unknown {what} {name!r}: there are none"
    if close:
        return f"unknown {what} {name!r}; did you mean: {', '.join(close)}?"
    shown = ", ".join(choices[:8]) + (", ..." if len(choices) > 8 else "")
    return f"unknown {what} {name!r}; available: {shown}"


class ApplicationsSettings:
    """Applications and tools read from the ``applications`` add-on's studio settings."""

    def __init__(self, settings: Mapping[str, Any] | None, platform: str | None = None) -> None:
        self.platform = platform or current_platform()
        settings = settings or {}
        self.applications: dict[str, Application] = {}
        self.tools: dict[str, Tool] = {}
        apps = settings.get("applications") or {}
        if isinstance(apps, Mapping):
            for group_name, group in apps.items():
                self._add_group(str(group_name), group)
        for tool_group in settings.get("tool_groups") or []:
            self._add_tool_group(tool_group)

    def _add_group(self, group_name: str, group: Any) -> None:
        if not isinstance(group, Mapping) or group.get("enabled") is False:
            return
        host_name = str(group.get("host_name") or group_name)
        label = str(group.get("label") or group_name)
        for variant in group.get("variants") or []:
            if not isinstance(variant, Mapping) or not variant.get("name"):
                continue
            executables = variant.get("executables") or []
            if isinstance(executables, Mapping):  # per platform, as AYON settings store them
                executables = executables.get(self.platform) or []
            if isinstance(executables, str):
                executables = [executables]
            if not isinstance(executables, list):
                executables = []
            app = Application(
                group=group_name,
                variant=str(variant["name"]),
                label=f"{label} {variant.get('label') or variant['name']}",
                host_name=host_name,
                executables=[str(e) for e in executables if e],
                group_environment=group.get("environment"),
                environment=variant.get("environment"),
            )
            self.applications[app.full_name] = app

    def _add_tool_group(self, group: Any) -> None:
        if not isinstance(group, Mapping) or not group.get("name"):
            return
        for variant in group.get("variants") or []:
            if not isinstance(variant, Mapping) or not variant.get("name"):
                continue
            tool = Tool(
                group=str(group["name"]),
                variant=str(variant["name"]),
                group_environment=group.get("environment"),
                environment=variant.get("environment"),
                host_names=list(variant.get("host_names") or []),
                app_variants=list(variant.get("app_variants") or []),
            )
            self.tools[tool.full_name] = tool

    def find_application(self, name: str) -> Application:
        """The application called ``name`` (``maya/2024`` or ``maya-2024``) or a LauncherError."""
        groups = {app.group for app in self.applications.values()}
        split = _split_name(name.strip(), groups)
        if split:
            app = self.applications.get(f"{split[0]}/{split[1]}")
            if app is not None:
                return app
        if not self.applications:
            raise UsageError(
                f"unknown application {name!r}: the bundle's '{APPLICATIONS_ADDON}' add-on "
                "settings define no application"
            )
        # Compare in the user's spelling so that "maya-2042" suggests "maya-2024".
        dash = "/" not in name
        choices = {(n.replace("/", "-", 1) if dash else n): n for n in self.applications}
        raise UsageError(suggest(name, choices, "application"))

    def tools_for(self, app: Application, tool_names: Iterable[str]) -> list[Tool]:
        """Tools named by the context (``group/variant``) that apply to ``app``, in a stable order.

        Unknown tool names are skipped: a context may name tools of another bundle.
        """
        found = []
        groups = {tool.group for tool in self.tools.values()}
        for name in tool_names:
            split = _split_name(str(name), groups)
            tool = self.tools.get(f"{split[0]}/{split[1]}") if split else None
            if tool is not None and tool.applies_to(app) and tool not in found:
                found.append(tool)
        return sorted(found, key=lambda t: (t.group, t.variant))
