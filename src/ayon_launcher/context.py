"""The launcher's run context: global flags and derived settings shared by every command."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError

LOG_LEVEL_NAMES = {
    "notset": 0,
    "debug": 10,
    "info": 20,
    "warning": 30,
    "error": 40,
    "critical": 50,
}


def parse_log_level(value: str | int | None) -> int | None:
    """Parse ``--verbose``: an integer 0-50 or a level name; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in LOG_LEVEL_NAMES:
        return LOG_LEVEL_NAMES[text]
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not 0 <= number <= 50:
        names = ", ".join(LOG_LEVEL_NAMES)
        raise UsageError(f"invalid log level {value!r}: use an integer 0-50 or one of {names}")
    return number


@dataclass
class LauncherContext:
    """Everything decided by the global flags and the environment before a command runs."""

    headless: bool = False
    use_staging: bool = False
    use_dev: bool = False
    bundle_name: str | None = None
    log_level: int = logging.INFO
    debug: bool = False
    skip_bootstrap: bool = False
    # Filled in by connection/bootstrap.
    server_url: str | None = None
    # The session token or API key; never shown in a repr (logs, tracebacks).
    token: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)
