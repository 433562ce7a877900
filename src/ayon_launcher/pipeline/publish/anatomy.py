"""Project anatomy: roots and path templates (``{root[work]}/{folder[name]}/{@version}``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ayon_launcher.pipeline.environment.definitions import current_platform
from ayon_launcher.support.errors import LauncherError

_REF_RE = re.compile(r"\{@([A-Za-z_][A-Za-z0-9_]*)\}")
_KEY_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\[\]{}]+\])*)(?::([^{}]*))?\}")
_ROOT_RE = re.compile(r"\{root\[([^\]]+)\]\}")
_MAX_DEPTH = 20


class AnatomyError(LauncherError):
    """A template cannot be filled (missing key, unknown template, reference cycle)."""


class MissingKeyError(AnatomyError):
    """The data has no value for a key the template requires."""

    def __init__(self, key: str, template: str) -> None:
        super().__init__(f"template {template!r} needs '{{{key}}}', which the publish does "
                         "not provide")
        self.key = key


class _Missing(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _expand_references(template: str, scopes: list[dict[str, Any]]) -> str:
    """Replace ``{@name}`` by the named template (the first scope that has it wins)."""
    for _ in range(_MAX_DEPTH):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            for scope in scopes:
                value = scope.get(name)
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    return str(value)
            raise AnatomyError(f"template reference '{{@{name}}}' points to no template")

        expanded = _REF_RE.sub(replace, template)
        if expanded == template:
            return expanded
        template = expanded
    raise AnatomyError(f"template references nest too deeply (a cycle?): {template!r}")


def _lookup(data: dict[str, Any], name: str, subkeys: str) -> Any:
    full = name + subkeys
    if name not in data:
        raise _Missing(full)
    value: Any = data[name]
    for sub in re.findall(r"\[([^\]]+)\]", subkeys):
        if not isinstance(value, dict) or sub not in value:
            raise _Missing(full)
        value = value[sub]
    if value is None or isinstance(value, (dict, list)):
        raise _Missing(full)
    return value


def _fill(template: str, data: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, subkeys, spec = match.group(1), match.group(2), match.group(3)
        value = _lookup(data, name, subkeys)
        try:
            return format(value, spec) if spec else str(value)
        except (ValueError, TypeError):
            raise AnatomyError(f"cannot format {{{name}{subkeys}}} = {value!r} with "
                               f"':{spec}'") from None

    return _KEY_RE.sub(replace, template)


def format_template(template: str, data: dict[str, Any],
                    scopes: list[dict[str, Any]] | None = None) -> str:
    """Fill ``template`` with ``data``.

    ``{@name}`` references are expanded from ``scopes``; ``<...>`` parts are dropped when a
    key inside them has no value; any other missing key is an :class:`AnatomyError`.
    """
    parts = []
    try:
        for text, optional in _split_optional(_expand_references(template, scopes or [])):
            try:
                parts.append(_fill(text, data))
            except _Missing:
                if not optional:
                    raise
    except _Missing as exc:
        raise MissingKeyError(exc.key, template) from None
    return "".join(parts)


def _split_optional(template: str) -> list[tuple[str, bool]]:
    """Split into (text, optional) parts; ``<`` and ``>`` inside ``{...}`` are not markers."""
    parts: list[tuple[str, bool]] = []
    current: list[str] = []
    depth = 0
    optional = False
    for char in template:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and char == "<" and not optional:
            parts.append(("".join(current), False))
            current, optional = [], True
            continue
        elif depth == 0 and char == ">" and optional:
            parts.append(("".join(current), True))
            current, optional = [], False
            continue
        current.append(char)
    if optional:
        raise AnatomyError(f"template has an unclosed '<': {template!r}")
    parts.append(("".join(current), False))
    return [part for part in parts if part[0]]


@dataclass
class Anatomy:
    """Roots of the current platform and the templates of one project."""

    project_name: str
    roots: dict[str, str]
    templates: dict[str, Any]

    @classmethod
    def from_project(cls, project: dict[str, Any], roots: dict[str, str] | None = None,
                     platform: str | None = None) -> Anatomy:
        """From a project entity (its ``config``); ``roots`` overrides the project's roots."""
        config = project.get("config") or {}
        if roots is None:
            platform = platform or current_platform()
            roots = {}
            for name, value in (config.get("roots") or {}).items():
                roots[name] = value.get(platform) if isinstance(value, dict) else value
        templates = config.get("templates") or {}
        return cls(project["name"], {k: v for k, v in roots.items() if v}, templates)

    def template(self, category: str, name: str = "default") -> dict[str, Any]:
        group = self.templates.get(category)
        if not isinstance(group, dict) or not isinstance(group.get(name), dict):
            raise AnatomyError(f"project '{self.project_name}' has no '{category}' template "
                               f"named '{name}' in its anatomy")
        return group[name]

    def template_path(self, category: str, name: str = "default") -> str:
        """The unfilled path template (``directory/file``) with references expanded."""
        entry = self.template(category, name)
        # A real project keeps version/frame formats under templates["common"]; older or
        # hand-made anatomies keep them at the top level.
        common = self.templates.get("common")
        scopes = [entry, common if isinstance(common, dict) else {}, self.templates]
        if "path" in entry:
            return _expand_references(str(entry["path"]), scopes)
        for key in ("directory", "file"):
            if not isinstance(entry.get(key), str):
                raise AnatomyError(f"template '{category}/{name}' of project "
                                   f"'{self.project_name}' has no '{key}'")
        return _expand_references(f"{entry['directory']}/{entry['file']}", scopes)

    def format_path(self, category: str, data: dict[str, Any], name: str = "default",
                    rootless: bool = False) -> str:
        """Fill a template to a path; ``rootless`` keeps ``{root[...]}`` for the server.

        To have both, fill it rootless and turn that into the local path with :meth:`fill_root`.
        """
        template = self.template_path(category, name)
        if rootless:
            roots = {key: f"{{root[{key}]}}" for key in _ROOT_RE.findall(template)}
        else:
            roots = self._platform_roots(template)
        try:
            return format_template(template, {**data, "root": roots})
        except MissingKeyError as exc:
            raise AnatomyError(f"the '{category}/{name}' template of project "
                               f"'{self.project_name}' needs '{{{exc.key}}}', which this "
                               "publish does not provide") from None

    def fill_root(self, rootless_path: str) -> Path:
        """Turn a stored ``{root[work]}/...`` path into a local one."""
        return Path(format_template(rootless_path,
                                    {"root": self._platform_roots(rootless_path)}))

    def _platform_roots(self, text: str) -> dict[str, str]:
        """The roots of this platform, which must have every ``{root[...]}`` of ``text``."""
        missing = [key for key in _ROOT_RE.findall(text) if key not in self.roots]
        if missing:
            raise AnatomyError(f"project '{self.project_name}' has no root '{missing[0]}' "
                               f"for platform {current_platform()}")
        return self.roots
