"""Logging set-up with a filter that keeps secrets out of every log record."""

from __future__ import annotations

import logging
import os
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
    return any(getattr(h, "_ayon_launcher", False) and not getattr(h, "_ayon_file", False)
               for h in logger.handlers)


LOG_FILE_NAME = "ayon.log"
LOG_FILE_MAX_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 3
_FILE_HANDLER: logging.Handler | None = None
# Where this process's run starts in the log file: (path, inode, size before its first line).
_RUN_START: tuple[str, int, int] | None = None
_SCREEN_LEVEL = logging.INFO


def screen_level() -> int:
    """The level the screen shows (the logger's own level is DEBUG when a log file is kept)."""
    return _SCREEN_LEVEL


class _RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _RotatingLogFile(logging.FileHandler):
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
        import os

        if self.stream is not None:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        base = self.baseFilename
        for index in range(LOG_FILE_BACKUPS - 1, 0, -1):
            if os.path.exists(f"{base}.{index}"):
                os.replace(f"{base}.{index}", f"{base}.{index + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")
        self.stream = self._open()

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


def run_log_start() -> tuple[str, int, int] | None:
    """Where this run starts in the log file: (path, inode, offset); None when this process
    keeps no log file (or its records no longer go there)."""
    if _FILE_HANDLER is None or _FILE_HANDLER not in logging.getLogger(LOGGER_NAME).handlers:
        return None
    return _RUN_START


def run_log_stream_inode() -> int | None:
    """The inode of the file this process's log records go to now (it changes when the log
    rotates); None without a log file."""
    stream = getattr(_FILE_HANDLER, "stream", None)
    try:
        return os.fstat(stream.fileno()).st_ino if stream is not None else None
    except (OSError, ValueError):
        return None


def close_log_file() -> None:
    """Stop writing the log file (a test that opened one in-process ends with this)."""
    global _FILE_HANDLER, _RUN_START
    handler, _FILE_HANDLER, _RUN_START = _FILE_HANDLER, None, None
    if handler is None:
        return
    for name in (LOGGER_NAME, *LIBRARY_LOGGERS):
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def log_file() -> str | None:
    """The support log file of this run; None when it could not be opened."""
    return getattr(_FILE_HANDLER, "baseFilename", None)


def error_log_file() -> str | None:
    """The log file an error line names: this run's, opened now when the run had none yet (a
    bad argument before logging started, a lean script run); None when it cannot be written."""
    if _FILE_HANDLER is None:
        try:
            _open_log_file()
        except Exception:  # noqa: BLE001 - an error is being reported: never a second one
            return None
    return log_file()


def log_suffix(path: str | None) -> str:
    """What ends an error line: where the log file is (nothing when there is none)."""
    return f" (log: {path})" if path else ""


def log_to_file(level: int, message: str) -> None:
    """A record for the log file only (the screen has already shown it)."""
    if _FILE_HANDLER is not None:
        record = logging.LogRecord(LOGGER_NAME, level, __file__, 0, message, None, None)
        _FILE_HANDLER.handle(record)


def _open_log_file() -> logging.Handler | None:
    """The rotating support log in the local folder; None (with a warning) when unwritable."""
    global _FILE_HANDLER, _RUN_START
    if _FILE_HANDLER is not None:
        return _FILE_HANDLER
    from ayon_launcher.support.paths import logs_dir

    try:
        folder = logs_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = _RotatingLogFile(folder / LOG_FILE_NAME, encoding="utf-8")
    except OSError as exc:
        # Quiet (seen with --debug): an unusable local folder has its own error, if it matters.
        get_logger("log").debug("no log file (%s): %s", exc.strerror or exc,
                                  getattr(exc, "filename", "") or "")
        return None
    try:
        info = os.stat(handler.baseFilename)
        _RUN_START = (handler.baseFilename, info.st_ino, info.st_size)
    except OSError:
        _RUN_START = None
    handler.setFormatter(_RedactingFormatter(
        "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG)
    handler._ayon_launcher = True  # type: ignore[attr-defined]
    handler._ayon_file = True  # type: ignore[attr-defined]
    _FILE_HANDLER = handler
    return handler


def setup_logging(level: int, debug: bool = False, with_file: bool = True) -> None:
    """Configure the launcher's loggers (stderr, and the support log file in the local folder
    unless ``with_file`` is false) and those of its libraries. Idempotent.

    Library loggers get their own handler (so Python's last-resort handler never prints a
    library's traceback) at WARNING, or at the launcher's level with ``--debug``.
    """
    # Level 0 ("notset": everything) must not mean "ask the root logger" (WARNING).
    global _SCREEN_LEVEL
    level = max(level, 1)
    _SCREEN_LEVEL = level
    root = logging.getLogger(LOGGER_NAME)
    if not _has_our_handler(root):
        root.addHandler(_handler(debug, RedactingFilter()))
    for handler in root.handlers:
        if getattr(handler, "_ayon_launcher", False) and not getattr(handler, "_ayon_file",
                                                                     False):
            handler.setLevel(level)
    file_handler = _open_log_file() if with_file else None
    # The log file gets DEBUG detail whatever the screen shows.
    root.setLevel(min(level, logging.DEBUG) if file_handler is not None else level)
    if file_handler is not None and file_handler not in root.handlers:
        root.addHandler(file_handler)
        root.debug("start: %s", " ".join(sys.argv))
    for name in LIBRARY_LOGGERS:
        other = logging.getLogger(name)
        other.setLevel(min(level, logging.WARNING) if debug else max(level, logging.WARNING))
        if not _has_our_handler(other):
            other.addHandler(_handler(debug, LibraryFilter(debug)))
            other.propagate = False  # a script's own root handler must not print them twice
        if file_handler is not None and file_handler not in other.handlers:
            other.addHandler(file_handler)
