"""Logging set-up with a filter that keeps secrets out of every log record."""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "ayon_launcher"
_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a token, password or key so that no log record ever shows it."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """Replaces every registered secret in the formatted message by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = redact(record.getMessage())
            record.msg, record.args = message, None
        return True


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def setup_logging(level: int, debug: bool = False) -> None:
    """Configure the launcher's loggers (stderr). Idempotent."""
    root = logging.getLogger(LOGGER_NAME)
    root.setLevel(level)
    if not any(getattr(h, "_ayon_launcher", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        fmt = "%(levelname)s %(name)s: %(message)s" if debug else "%(levelname)s: %(message)s"
        handler.setFormatter(logging.Formatter(fmt))
        handler.addFilter(RedactingFilter())
        handler._ayon_launcher = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # Libraries we drive (ayon_api, urllib3) log through the same filter.
    for name in ("ayon_api", "urllib3"):
        other = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in other.filters):
            other.addFilter(RedactingFilter())
