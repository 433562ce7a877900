"""Equality and a readable repr from a ``_fields`` tuple, for the plain classes of a start."""

from __future__ import annotations


class Record:
    """Compared, shown and (not) hashed like a dataclass: by the attributes in ``_fields``.

    The classes a start builds are plain classes with an explicit ``__init__``: the
    dataclasses module imports inspect, ast, dis and tokenize and writes and compiles the
    source of every class, a third of a warm start's own cost.
    """

    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value: unhashable

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({shown})"


class FrozenRecord(Record):
    """A Record whose attributes cannot change after ``__init__``; hashable by its values."""

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())

    def _set(self, **values: object) -> None:
        """Set the fields from ``__init__``."""
        for name, value in values.items():
            object.__setattr__(self, name, value)
