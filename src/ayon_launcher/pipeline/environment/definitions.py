"""Environment definitions (acre / AYON style): parse per platform, merge layers, resolve refs.

A definition is a mapping ``KEY -> value`` where a value is

* a string,
* a list of strings (joined with ``os.pathsep``; empty items are dropped),
* a dict per platform (``windows`` / ``linux`` / ``darwin``) whose values are again a string
  or a list; a platform missing from the dict means "not set on that platform".

Values reference other variables as ``{KEY}``. When several definitions are merged (global,
application group, variant, tools), a later ``{KEY}`` inside ``KEY``'s own value means the
value defined before (earlier layers, else the existing environment): ``PATH: ["{PATH}",
"/opt/bin"]`` appends. Any other ``{OTHER}`` refers to the final merged definition of
``OTHER``, else to the existing environment. Resolution is topological: cycles and
references to undefined variables raise :class:`LauncherError` naming the keys.
A self-reference with no earlier value is empty (the usual "append to PATH" idiom).
Keys starting with ``__`` (``__environment_keys__`` metadata) are ignored.
``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping

from ayon_launcher.support.errors import LauncherError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PLATFORMS = ("windows", "linux", "darwin")
# Only identifier-like placeholders are references; other braces stay literal text.
# Compiled (and cached) by re when first used: nothing to compile at import.
_REFERENCE = r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}"
_WHOLE_REFERENCE = r"\{[A-Za-z_][A-Za-z0-9_]*\}"

# A parsed value: list of path items (a plain string is a one-item list).
Segments = list[str]


class EnvironmentDefinitionError(LauncherError):
    """An environment definition cannot be parsed or resolved."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        # Keys and values come from settings and may hold line breaks: keep the message one
        # line and show them as Python would.
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"), exit_code)


def current_platform() -> str:
    """``windows``, ``linux`` or ``darwin`` for this machine."""
    return {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")


def load_definition(value: Any, where: str = "environment") -> dict[str, Any]:
    """A definition given as a dict or as a JSON string (as settings store it); ``{}`` if empty."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise EnvironmentDefinitionError(
                f"{where}: invalid JSON environment ({exc.msg} at line {exc.lineno})"
            ) from None
    if not isinstance(value, Mapping):
        raise EnvironmentDefinitionError(
            f"{where}: environment must be an object of KEY: value, not {type(value).__name__}"
        )
    return dict(value)


def _segments(key: str, value: Any, where: str) -> Segments:
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if isinstance(item, (dict, list, tuple)):
                raise EnvironmentDefinitionError(
                    f"{where}: {key}: list items must be strings, not {type(item).__name__}"
                )
            if item is not None:
                items.append(_scalar(item))
        return items
    return [_scalar(value)]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def parse_definition(definition: Mapping[str, Any], platform: str | None = None,
                     where: str = "environment") -> dict[str, Segments]:
    """Pick the platform's values and normalise lists; metadata keys and ``None`` are dropped."""
    platform = platform or current_platform()
    result: dict[str, Segments] = {}
    for key, value in definition.items():
        key = str(key)
        if key.startswith("__") or value is None:
            continue
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(PLATFORMS))
            if unknown:
                raise EnvironmentDefinitionError(
                    f"{where}: {key}: unknown platform key(s) {', '.join(unknown)} "
                    f"(use {', '.join(PLATFORMS)})"
                )
            if value.get(platform) is None:
                continue  # not defined for this platform
            value = value[platform]
            if isinstance(value, Mapping):
                raise EnvironmentDefinitionError(f"{where}: {key}: nested platform values")
        result[key] = _segments(key, value, where)
    return result


def merge_definitions(layers: Iterable[Mapping[str, Segments]]) -> dict[str, Segments]:
    """Merge parsed layers in order; a self-reference takes the previous layer's value."""
    merged: dict[str, Segments] = {}
    for layer in layers:
        for key, segments in layer.items():
            previous = merged.get(key)
            merged[key] = (_substitute_self(key, segments, previous)
                           if previous is not None else list(segments))
    return merged


def _substitute_self(key: str, segments: Segments, previous: Segments) -> Segments:
    token = "{" + key + "}"
    result: Segments = []
    for segment in segments:
        if segment == token:
            result.extend(previous)  # list item that is exactly {KEY}: splice the old items
        elif token in segment:
            joined = os.pathsep.join(previous)
            result.append(re.sub(
                _REFERENCE, lambda m, joined=joined: joined if m.group(1) == key else m.group(0),
                segment))
        else:
            result.append(segment)
    return result


def _references(segments: Segments) -> list[str]:
    names: list[str] = []
    for segment in segments:
        for match in re.finditer(_REFERENCE, segment):
            if match.group(1) and match.group(1) not in names:
                names.append(match.group(1))
    return names


def resolve(merged: Mapping[str, Segments], base: Mapping[str, str] | None = None
            ) -> dict[str, str]:
    """Resolve every ``{KEY}`` of ``merged`` in dependency order against ``base``."""
    base = dict(os.environ if base is None else base)
    deps = {key: [r for r in _references(segs) if r != key and r in merged]
            for key, segs in merged.items()}
    missing = {key: [r for r in _references(segs)
                     if r != key and r not in merged and r not in base]
               for key, segs in merged.items()}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        details = "; ".join(f"{key} uses {', '.join('{' + r + '}' for r in refs)}"
                            for key, refs in sorted(missing.items()))
        raise EnvironmentDefinitionError(
            f"environment references undefined variable(s): {details}")

    order = _topological_order(deps)
    values: dict[str, str] = {}
    for key in order:
        def lookup(match: re.Match[str], key: str = key) -> str:
            token = match.group(0)
            if token == "{{":
                return "{"
            if token == "}}":
                return "}"
            name = match.group(1)
            if name == key:
                return base.get(key, "")
            if name in values:
                return values[name]
            return base[name]

        items = [_format_segment(segment, lookup) for segment in merged[key]]
        if len(items) > 1:
            items = [item for item in items if item != ""]
        values[key] = os.pathsep.join(items)
    return {key: values[key] for key in merged}


def _format_segment(segment: str, lookup: Callable[[re.Match[str]], str]) -> str:
    """Format one item; a ``{KEY}`` that is a whole path entry and empty leaves no separator."""
    parts = segment.split(os.pathsep)
    if len(parts) == 1 or not any(re.fullmatch(_WHOLE_REFERENCE, part) for part in parts):
        return re.sub(_REFERENCE, lookup, segment)
    # "{PATH};/x" with no PATH before gives "/x", not ";/x".
    formatted = []
    for part in parts:
        value = re.sub(_REFERENCE, lookup, part)
        if value or not re.fullmatch(_WHOLE_REFERENCE, part):
            formatted.append(value)
    return os.pathsep.join(formatted)


def _topological_order(deps: Mapping[str, list[str]]) -> list[str]:
    """Keys ordered so that every key comes after its dependencies; cycles raise."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    for start in sorted(deps):
        if state.get(start) == 2:
            continue
        # Iterative DFS so that long chains never hit the recursion limit.
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            key, index = stack.pop()
            if index == 0:
                if state.get(key) == 2:
                    continue
                state[key] = 1
                path.append(key)
            children = deps[key]
            if index < len(children):
                stack.append((key, index + 1))
                child = children[index]
                if state.get(child) == 1:
                    cycle = path[path.index(child):] + [child]
                    raise EnvironmentDefinitionError(
                        "environment has a reference cycle: " + " -> ".join(cycle))
                if state.get(child) != 2:
                    stack.append((child, 0))
            else:
                state[key] = 2
                path.pop()
                order.append(key)
    return order


def compute_environment(layers: Iterable[tuple[str, Any]],
                        base: Mapping[str, str] | None = None,
                        platform: str | None = None) -> dict[str, str]:
    """Parse, merge (in order) and resolve ``(label, raw definition)`` layers.

    Raw definitions are dicts or JSON strings; the label names the layer in error messages.
    Returns only the keys the layers define (``base`` is what the references fall back to).
    """
    parsed = [parse_definition(load_definition(raw, label), platform, label)
              for label, raw in layers]
    return resolve(merge_definitions(parsed), base)
