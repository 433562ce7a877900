"""Logging set-up with a filter that keeps secrets out of every log record."""

from __future__ import annotations

import logging
import re
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


_QUERY = re.compile(r"\?[^\s\"']+")

# Loggers of the libraries the launcher drives; ayon_api names several after its classes.
LIBRARY_LOGGERS = ("ayon_api", "ServerAPI", "GlobalServerAPI", "RestApiResponse", "EventHub",
                   "EntityHub", "urllib3", "requests", "keyring")


class LibraryFilter(RedactingFilter):
    """Library records: secrets redacted, and no traceback unless ``--debug`` asked for one."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.debug:
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        if record.name.startswith("urllib3"):
            # Request lines carry the full path: a signed download URL's query is a secret.
            record.msg, record.args = _QUERY.sub("?***", record.getMessage()), None
        return super().filter(record)


def _handler(debug: bool, record_filter: logging.Filter) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(levelname)s %(name)s: %(message)s" if debug else "%(levelname)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(record_filter)
    handler._ayon_launcher = True  # type: ignore[attr-defined]
    return handler


def _has_our_handler(logger: logging.Logger) -> bool:
    return any(getattr(h, "_ayon_launcher", False) for h in logger.handlers)


def setup_logging(level: int, debug: bool = False) -> None:
    """Configure the launcher's loggers (stderr) and those of its libraries. Idempotent.

    Library loggers get their own handler (so Python's last-resort handler never prints a
    library's traceback) at WARNING, or at the launcher's level with ``--debug``.
    """
    # Level 0 ("notset": everything) must not mean "ask the root logger" (WARNING).
    level = max(level, 1)
    root = logging.getLogger(LOGGER_NAME)
    root.setLevel(level)
    if not _has_our_handler(root):
        root.addHandler(_handler(debug, RedactingFilter()))
    for name in LIBRARY_LOGGERS:
        other = logging.getLogger(name)
        other.setLevel(min(level, logging.WARNING) if debug else max(level, logging.WARNING))
        if not _has_our_handler(other):
            other.addHandler(_handler(debug, LibraryFilter(debug)))
            other.propagate = False  # a script's own root handler must not print them twice
