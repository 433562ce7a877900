"""Errors the launcher reports to the user as one line with an exit code."""


class LauncherError(Exception):
    """An expected failure: printed as one line (no traceback) and turned into an exit code."""

    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(LauncherError):
    """Bad input from the user (arguments, environment variables, files)."""

    exit_code = 2


class ServerUnreachableError(LauncherError):
    """The AYON server could not be reached (network error, server down)."""

    exit_code = 3


class AuthenticationRequired(LauncherError):
    """No usable credentials and no way to ask for them."""

    exit_code = 4


class DistributionError(LauncherError):
    """An add-on or dependency package could not be made available locally."""

    exit_code = 5


def error_line(exc: BaseException) -> str:
    """``exc`` as one line for people: secrets redacted, white space folded, and the type
    named unless it is one of the launcher's expected errors (whose message says it all)."""
    from ayon_launcher.support.log import (
        redact,  # not at import: logging stays off the fast start path
    )

    text = " ".join(redact(str(exc)).split())
    if isinstance(exc, LauncherError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
