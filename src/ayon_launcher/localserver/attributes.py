"""The attribute schema the local server announces (``GET /api/attributes``) and its defaults."""

from __future__ import annotations

from typing import Any

_ENTITY = ["project", "folder", "task"]
_MEDIA = ["project", "folder", "task", "version", "representation"]

# (name, type, title, default, scope)
_ATTRIBUTES: list[tuple[str, str, str, Any, list[str]]] = [
    ("fps", "float", "FPS", 25.0, _MEDIA),
    ("resolutionWidth", "integer", "Width", 1920, _MEDIA),
    ("resolutionHeight", "integer", "Height", 1080, _MEDIA),
    ("pixelAspect", "float", "Pixel aspect", 1.0, _MEDIA),
    ("clipIn", "integer", "Clip in", 1, _MEDIA),
    ("clipOut", "integer", "Clip out", 1, _MEDIA),
    ("frameStart", "integer", "Start frame", 1001, _MEDIA),
    ("frameEnd", "integer", "End frame", 1100, _MEDIA),
    ("handleStart", "integer", "Handle start", 0, _MEDIA),
    ("handleEnd", "integer", "Handle end", 0, _MEDIA),
    ("startDate", "datetime", "Start date", None, ["project"]),
    ("endDate", "datetime", "End date", None, ["project"]),
    ("description", "string", "Description", "", [*_ENTITY, "product", "version"]),
    ("intent", "string", "Intent", None, ["version"]),
    ("families", "list_of_strings", "Families", [], ["version"]),
    ("source", "string", "Source", None, ["version"]),
    ("comment", "string", "Comment", None, ["version"]),
    ("colorSpace", "string", "Color space", None, ["version"]),
    ("path", "string", "Path", None, ["representation"]),
    ("template", "string", "Template", None, ["representation"]),
    ("extension", "string", "Extension", None, ["representation", "workfile"]),
    ("fullName", "string", "Full name", "", ["user"]),
    ("email", "string", "E-mail", "", ["user"]),
    ("avatarUrl", "string", "Avatar URL", None, ["user"]),
]


def attributes_schema() -> dict[str, Any]:
    """Body of ``GET /api/attributes``."""
    return {
        "attributes": [
            {
                "name": name,
                "position": position,
                "scope": scope,
                "builtin": True,
                "data": {"type": kind, "title": title, "default": default, "example": default},
            }
            for position, (name, kind, title, default, scope) in enumerate(_ATTRIBUTES)
        ]
    }


def attribute_defaults(entity_type: str) -> dict[str, Any]:
    """Default value of every attribute of an entity type."""
    return {name: default for name, _k, _t, default, scope in _ATTRIBUTES if entity_type in scope}


def attribute_names(entity_type: str) -> list[str]:
    return [name for name, _k, _t, _d, scope in _ATTRIBUTES if entity_type in scope]
