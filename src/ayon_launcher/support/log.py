"""Logging set-up with a filter that keeps secrets out of every log record.

A script run that starts warm (``ayon script.py``, nothing to install) would spend a fifth of
its time importing ``logging`` (re, traceback, threading, weakref, string) only to append two
DEBUG lines to the support log. So that start is "light" (``setup_logging(lazy=True)``): the
log file is opened as logging would open it, and the launcher's loggers are light ones
(``get_logger`` in a process without ``logging``) that write their records straight to it,
in the file handler's format, and those of the screen's level to stderr as its handler
would. The full set-up is made, on the same open file, the moment anything imports
``logging``: a library (ayon_api, requests, keyring), the user's script, or a light logger
whose record needs it (a traceback, any other option), which then forwards to the real
logger. A ``sys.meta_path`` hook runs the set-up right after ``logging`` executes, so every
library and script finds it configured as an eager start would have it. A process that
imported ``logging`` already is set up eagerly.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

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


def get_logger(name: str | None = None) -> logging.Logger:
    """The launcher's logger ``name``: a light one while ``logging`` is not imported."""
    full = f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME
    if "logging" in sys.modules:
        import logging

        return logging.getLogger(full)
    light = _LIGHT_LOGGERS.get(full)
    if light is None:
        light = _LIGHT_LOGGERS[full] = _LightLogger(full)
    return light  # type: ignore[return-value] - has what the launcher uses of a Logger


_LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}


class _LightLogger:
    """A logger made before ``logging`` was imported: its records below the screen's level go
    to a light start's file; anything else goes to the real logger (set up on its import)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def debug(self, msg: object, *args: object, **kwargs: object) -> None:
        self._log(10, msg, args, kwargs)

    def info(self, msg: object, *args: object, **kwargs: object) -> None:
        self._log(20, msg, args, kwargs)

    def warning(self, msg: object, *args: object, **kwargs: object) -> None:
        self._log(30, msg, args, kwargs)

    def error(self, msg: object, *args: object, **kwargs: object) -> None:
        self._log(40, msg, args, kwargs)

    def critical(self, msg: object, *args: object, **kwargs: object) -> None:
        self._log(50, msg, args, kwargs)

    def exception(self, msg: object, *args: object, exc_info: object = True,
                  **kwargs: object) -> None:
        self._log(40, msg, args, {**kwargs, "exc_info": exc_info})

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        self._log(level, msg, args, kwargs)

    def _log(self, level: int, msg: object, args: tuple, kwargs: dict) -> None:
        # Any keyword (exc_info, extra, stack_info...) needs logging itself.
        if not kwargs and _LIGHT_STREAM is not None and _light_record(self.name, level, msg,
                                                                      args):
            return
        # The caller of debug()/log(), not this class, is the record's origin.
        stacklevel = kwargs.pop("stacklevel", 1)
        self.real().log(level, msg, *args, stacklevel=stacklevel + 2, **kwargs)

    def real(self) -> logging.Logger:
        import logging  # completes a light start's set-up (_LoggingImport)

        return logging.getLogger(self.name)

    def __getattr__(self, name: str) -> object:  # any other Logger attribute: the real one's
        return getattr(self.real(), name)


_LIGHT_LOGGERS: dict[str, _LightLogger] = {}
# A light start's open log file (None once logging is set up, or without a light start).
_LIGHT_STREAM = None
_LIGHT_PATH: str | None = None
_LIGHT_LOCK = _thread.RLock()


def _light_record(name: str, level: int, msg: object, args: tuple) -> bool:
    """Whether a light start wrote the record to the file, and to the screen at the screen's
    level (as the screen handler of a start that is not --debug formats it); False: the
    record needs logging (logging would format it otherwise)."""
    if level not in _LEVEL_NAMES:
        return False
    if len(args) == 1 and args[0] and hasattr(args[0], "keys"):
        return False  # a mapping of named arguments
    try:
        message = str(msg) % args if args else str(msg)
    except Exception:  # noqa: BLE001 - logging decides what a bad format does
        return False
    if not _write(name, level, message):
        return False
    if level >= _SCREEN_LEVEL:
        # A studio bundle's warm start says which launcher it names: a warning that would
        # otherwise import logging (and traceback, threading...) to print one line.
        try:
            sys.stderr.write(redact(f"{_LEVEL_NAMES[level]}: {message}") + "\n")
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass  # no usable stderr (pythonw): logging's handler would drop it too
    return True


def _write(name: str, level: int, message: str) -> bool:
    """One record in the light start's file, as RotatingLogFile formats and rotates it;
    False when there is no light start (any more)."""
    global _LIGHT_STREAM
    with _LIGHT_LOCK:
        stream = _LIGHT_STREAM
        if stream is None or _LIGHT_PATH is None:
            return False
        now = time.time_ns()
        seconds = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now // 1_000_000_000))
        line = redact(f"{seconds},{now // 1_000_000 % 1000:03d} {os.getpid()} "
                      f"{_LEVEL_NAMES.get(level, f'Level {level}')} {name}: {message}")
        try:
            if stream.tell() + len(line) >= LOG_FILE_MAX_BYTES:
                stream.close()
                try:
                    rotate_files(_LIGHT_PATH)
                finally:  # reopened even when a rename failed, as FileHandler reopens
                    stream = _LIGHT_STREAM = open(_LIGHT_PATH, "a", encoding="utf-8")
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # a file that cannot be written never disturbs the run
        return True


def rotate_files(base: str) -> None:
    """Move ``base`` to ``base.1`` (and each older one a number up, keeping LOG_FILE_BACKUPS),
    as logging.handlers.RotatingFileHandler does."""
    for index in range(LOG_FILE_BACKUPS - 1, 0, -1):
        if os.path.exists(f"{base}.{index}"):
            os.replace(f"{base}.{index}", f"{base}.{index + 1}")
    if os.path.exists(base):
        os.replace(base, f"{base}.1")


def _start_light() -> bool:
    """Open the log file for a light start and write its first line; False when it cannot
    be opened (the full set-up then says why, as it would)."""
    global _LIGHT_STREAM, _LIGHT_PATH, _RUN_START
    from ayon_launcher.support.paths import local_folder

    try:
        folder = os.path.join(local_folder(), "logs")
        os.makedirs(folder, exist_ok=True)
        path = os.path.abspath(os.path.join(folder, LOG_FILE_NAME))
        stream = open(path, "a", encoding="utf-8")
    except OSError:
        return False
    try:
        info = os.stat(path)
        _RUN_START = (path, info.st_ino, info.st_size)
    except OSError:
        _RUN_START = None
    _LIGHT_STREAM, _LIGHT_PATH = stream, path
    sys.meta_path.insert(0, _LOGGING_IMPORT)
    _write(LOGGER_NAME, 10, f"start: {' '.join(sys.argv)}")
    return True


def _finish_light_start() -> None:
    """The set-up of setup_logging, made now that logging is imported, on the light start's
    open file (its first line is written: no second one)."""
    global _LIGHT_STREAM
    with _LIGHT_LOCK:
        stream, _LIGHT_STREAM = _LIGHT_STREAM, None
        if _LOGGING_IMPORT in sys.meta_path:
            sys.meta_path.remove(_LOGGING_IMPORT)
        if stream is not None:
            _setup(_SCREEN_LEVEL, False, True, stream)


class _LoggingImport:
    """The ``sys.meta_path`` hook of a light start: finds ``logging`` as the next finders do,
    with a loader that sets logging up right after the module has run."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name != "logging":
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None:
                        spec.loader = _SetUpAfterLoading(spec.loader)
                    return spec
        return None


class _SetUpAfterLoading:
    def __init__(self, loader: object) -> None:
        self.loader = loader

    def create_module(self, spec: object) -> object:
        return self.loader.create_module(spec)  # type: ignore[attr-defined]

    def exec_module(self, module: object) -> None:
        self.loader.exec_module(module)  # type: ignore[attr-defined]
        _finish_light_start()

    def __getattr__(self, name: str) -> object:  # get_source, is_package... of the loader
        return getattr(self.loader, name)


_LOGGING_IMPORT = _LoggingImport()


# Loggers of the libraries the launcher drives; ayon_api names several after its classes.
LIBRARY_LOGGERS = ("ayon_api", "ServerAPI", "GlobalServerAPI", "RestApiResponse", "EventHub",
                   "EntityHub", "urllib3", "requests", "keyring")


def _has_our_handler(logger: logging.Logger) -> bool:
    return any(getattr(h, "_ayon_launcher", False) and not getattr(h, "_ayon_file", False)
               for h in logger.handlers)


LOG_FILE_NAME = "ayon.log"
LOG_FILE_MAX_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 3
_FILE_HANDLER: logging.Handler | None = None
# Where this process's run starts in the log file: (path, inode, size before its first line).
_RUN_START: tuple[str, int, int] | None = None
_SCREEN_LEVEL = 20  # INFO


def screen_level() -> int:
    """The level the screen shows (the logger's own level is DEBUG when a log file is kept)."""
    return _SCREEN_LEVEL


def run_log_start() -> tuple[str, int, int] | None:
    """Where this run starts in the log file: (path, inode, offset); None when this process
    keeps no log file (or its records no longer go there)."""
    if _LIGHT_STREAM is not None:
        return _RUN_START
    if _FILE_HANDLER is None:
        return None
    import logging

    if _FILE_HANDLER not in logging.getLogger(LOGGER_NAME).handlers:
        return None
    return _RUN_START


def run_log_stream_inode() -> int | None:
    """The inode of the file this process's log records go to now (it changes when the log
    rotates); None without a log file."""
    stream = _LIGHT_STREAM or getattr(_FILE_HANDLER, "stream", None)
    try:
        return os.fstat(stream.fileno()).st_ino if stream is not None else None
    except (OSError, ValueError):
        return None


def close_log_file() -> None:
    """Stop writing the log file (a test that opened one in-process ends with this)."""
    global _FILE_HANDLER, _RUN_START
    if _LIGHT_STREAM is not None:
        import logging  # noqa: F401 - a light start's file becomes its handler's first
    handler, _FILE_HANDLER, _RUN_START = _FILE_HANDLER, None, None
    if handler is None:
        return
    import logging

    for name in (LOGGER_NAME, *LIBRARY_LOGGERS):
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def log_file() -> str | None:
    """The support log file of this run; None when it could not be opened."""
    if _LIGHT_STREAM is not None:
        return _LIGHT_PATH
    return getattr(_FILE_HANDLER, "baseFilename", None)


def error_log_file() -> str | None:
    """The log file an error line names: this run's, opened now when the run had none yet (a
    bad argument before logging started, a lean script run); None when it cannot be written."""
    if _FILE_HANDLER is None and _LIGHT_STREAM is None:
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
    if _LIGHT_STREAM is not None and _write(LOGGER_NAME, level, message):
        return
    if _FILE_HANDLER is not None:
        import logging

        record = logging.LogRecord(LOGGER_NAME, level, __file__, 0, message, None, None)
        _FILE_HANDLER.handle(record)


def _open_log_file(light_stream: object = None) -> logging.Handler | None:
    """The rotating support log in the local folder; None (with a warning) when unwritable.
    ``light_stream``: the file a light start opened (and measured _RUN_START of)."""
    global _FILE_HANDLER, _RUN_START
    if _FILE_HANDLER is not None:
        return _FILE_HANDLER
    import logging

    from ayon_launcher.support.log_handlers import RedactingFormatter, RotatingLogFile
    from ayon_launcher.support.paths import logs_dir

    if light_stream is not None:
        handler = RotatingLogFile(_LIGHT_PATH, encoding="utf-8", delay=True)
        handler.stream = light_stream
    else:
        try:
            folder = logs_dir()
            folder.mkdir(parents=True, exist_ok=True)
            handler = RotatingLogFile(folder / LOG_FILE_NAME, encoding="utf-8")
        except OSError as exc:
            # Quiet (seen with --debug): an unusable local folder has its own error, if it
            # matters.
            get_logger("log").debug("no log file (%s): %s", exc.strerror or exc,
                                      getattr(exc, "filename", "") or "")
            return None
        try:
            info = os.stat(handler.baseFilename)
            _RUN_START = (handler.baseFilename, info.st_ino, info.st_size)
        except OSError:
            _RUN_START = None
    handler.setFormatter(RedactingFormatter(
        "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG)
    handler._ayon_launcher = True  # type: ignore[attr-defined]
    handler._ayon_file = True  # type: ignore[attr-defined]
    _FILE_HANDLER = handler
    return handler


def setup_logging(level: int, debug: bool = False, with_file: bool = True,
                  lazy: bool = False) -> None:
    """Configure the launcher's loggers (stderr, and the support log file in the local folder
    unless ``with_file`` is false) and those of its libraries. Idempotent.

    Library loggers get their own handler (so Python's last-resort handler never prints a
    library's traceback) at WARNING, or at the launcher's level with ``--debug``.
    ``lazy``: a light start when ``logging`` is not imported yet (see the module docstring).
    """
    # Level 0 ("notset": everything) must not mean "ask the root logger" (WARNING).
    global _SCREEN_LEVEL
    level = max(level, 1)
    if (lazy and with_file and not debug and level > 10 and "logging" not in sys.modules
            and _FILE_HANDLER is None and _LIGHT_STREAM is None):
        _SCREEN_LEVEL = level
        if _start_light():
            return
    import logging  # noqa: F401 - after a light start: completes it, then this call adjusts

    _setup(level, debug, with_file)


def _setup(level: int, debug: bool, with_file: bool, light_stream: object = None) -> None:
    global _SCREEN_LEVEL
    import logging

    from ayon_launcher.support.log_handlers import LibraryFilter, RedactingFilter, screen_handler

    _SCREEN_LEVEL = level
    root = logging.getLogger(LOGGER_NAME)
    if not _has_our_handler(root):
        root.addHandler(screen_handler(debug, RedactingFilter()))
    for handler in root.handlers:
        if getattr(handler, "_ayon_launcher", False) and not getattr(handler, "_ayon_file",
                                                                     False):
            handler.setLevel(level)
    file_handler = _open_log_file(light_stream) if with_file else None
    # The log file gets DEBUG detail whatever the screen shows.
    root.setLevel(min(level, logging.DEBUG) if file_handler is not None else level)
    if file_handler is not None and file_handler not in root.handlers:
        root.addHandler(file_handler)
        if light_stream is None:  # a light start wrote it
            root.debug("start: %s", " ".join(sys.argv))
    for name in LIBRARY_LOGGERS:
        other = logging.getLogger(name)
        other.setLevel(min(level, logging.WARNING) if debug else max(level, logging.WARNING))
        if not _has_our_handler(other):
            other.addHandler(screen_handler(debug, LibraryFilter(debug)))
            other.propagate = False  # a script's own root handler must not print them twice
        if file_handler is not None and file_handler not in other.handlers:
            other.addHandler(file_handler)


def __getattr__(name: str) -> object:
    """RedactingFilter and LibraryFilter, as before they moved (they import logging)."""
    if name in ("RedactingFilter", "LibraryFilter"):
        from ayon_launcher.support import log_handlers

        return getattr(log_handlers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
