"""The logging classes of support/log.py (imported only once ``logging`` itself is needed)."""

from __future__ import annotations

import logging
import re
import sys

from ayon_launcher.support.log import _SECRETS, LOG_FILE_MAX_BYTES, redact, rotate_files


class RedactingFilter(logging.Filter):
    """Replaces every registered secret in the formatted message by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = redact(record.getMessage())
            record.msg, record.args = message, None
        return True


_QUERY = re.compile(r"\?[^\s\"']+")


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


def screen_handler(debug: bool, record_filter: logging.Filter) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(levelname)s %(name)s: %(message)s" if debug else "%(levelname)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(record_filter)
    handler._ayon_launcher = True  # type: ignore[attr-defined]
    return handler


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RotatingLogFile(logging.FileHandler):
    """The support log: rotated as logging.handlers.RotatingFileHandler rotates (``ayon.log``
    moved to ``ayon.log.1``, ... up to LOG_FILE_BACKUPS) once it reaches LOG_FILE_MAX_BYTES,
    without importing logging.handlers (sockets, pickle, queues: a visible share of a warm
    start). A file that cannot be written (disk full, folder gone) never disturbs the run."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            if self.stream.tell() + len(self.format(record)) >= LOG_FILE_MAX_BYTES:
                self._rotate()
        except (OSError, ValueError):
            pass
        super().emit(record)

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        rotate_files(self.baseFilename)
        self.stream = self._open()

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass
