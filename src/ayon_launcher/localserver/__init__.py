"""The embedded AYON-compatible local server (FastAPI app, SQLite store, demo seed).

Its web stack is the optional ``ayon-launcher[server]`` extra: a workstation that only
launches does not install it. ``require_installed()`` is what ``ayon server`` and
``ayon --local-server`` call first; nothing else of the launcher imports this package.
"""

from __future__ import annotations

from ayon_launcher.support.errors import UsageError

# The import names of the ``server`` extra in pyproject.toml (python-multipart is imported by
# Starlette only when a form is read: an import check here is the only early one).
EXTRA_MODULES = ("fastapi", "uvicorn", "argon2", "graphql", ("python_multipart", "multipart"))
INSTALL_HINT = 'pip install "ayon-launcher[server]"'


class LocalServerNotInstalled(UsageError):
    """``ayon server`` or ``--local-server`` without the ``[server]`` extra (exit 2)."""


def missing_modules() -> list[str]:
    """The extra's modules that cannot be imported here (empty: the local server can run)."""
    import importlib

    missing = []
    for names in EXTRA_MODULES:
        for name in (names,) if isinstance(names, str) else names:
            try:
                importlib.import_module(name)
            except ImportError:
                continue
            break
        else:
            missing.append(names if isinstance(names, str) else names[0])
    return missing


def require_installed() -> None:
    """Raise LocalServerNotInstalled (one line naming the extra) unless its modules import."""
    missing = missing_modules()
    if missing:
        from ayon_launcher.support.log import get_logger

        get_logger("localserver").debug("cannot import %s", ", ".join(missing))
        raise LocalServerNotInstalled(f"the local server is not installed: {INSTALL_HINT}")
