"""Numeric settings from environment variables: defaults, bounds, one-line errors."""

from __future__ import annotations

import os

from ayon_launcher.support.errors import UsageError


def env_number(name: str, default: float, *, minimum: float | None = None,
               maximum: float | None = None, integer: bool = False) -> float:
    """``name``'s value as a number (``default`` when unset or empty).

    A value that is not a number, or out of bounds, is a UsageError naming the variable: a
    typo in a farm's environment should say so, not fall back silently or crash.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return int(default) if integer else default
    try:
        value: float = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise UsageError(f"{name}={text!r} is not {kind}") from None
    if value != value or (minimum is not None and value < minimum) or (
            maximum is not None and value > maximum):  # value != value: NaN
        bounds = " and ".join(part for part in (
            f">= {minimum:g}" if minimum is not None else "",
            f"<= {maximum:g}" if maximum is not None else "") if part)
        raise UsageError(f"{name}={text!r} is out of range (it must be {bounds})")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    return int(env_number(name, default, minimum=minimum, maximum=maximum, integer=True))
