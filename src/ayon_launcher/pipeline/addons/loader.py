"""Add-on loader: put installed folders on sys.path, import client packages, create add-ons."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

from ayon_launcher.pipeline.addons.base import AYONAddon, failure_reason
from ayon_launcher.support.log import get_logger
from ayon_launcher.support.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

log = get_logger("addons")


class AddonFolder(Record):
    """An installed add-on: its server name, version and client folder."""

    _fields = ("name", "version", "path")

    def __init__(self, name: str, version: str, path: str) -> None:
        self.name = name
        self.version = version
        self.path = path


class LoadResult(Record):
    _fields = ("addons", "python_paths", "errors")

    def __init__(self, addons: list[AYONAddon] | None = None,
                 python_paths: list[str] | None = None,
                 errors: dict[str, str] | None = None) -> None:
        self.addons = [] if addons is None else addons
        self.python_paths = [] if python_paths is None else python_paths
        # add-on name -> one-line reason it failed to load
        self.errors = {} if errors is None else errors


def dependency_python_path(package_dir: str | Path) -> str:
    """The folder of a dependency package that goes on sys.path."""
    root = os.fspath(package_dir)
    inner = os.path.join(root, "dependencies")
    return inner if os.path.isdir(inner) else root


def python_paths(addons: Iterable[AddonFolder], dependency_package: str | None) -> list[str]:
    """Dependency package first, then the add-on folders sorted by add-on name."""
    result = [dependency_python_path(dependency_package)] if dependency_package else []
    result += [a.path for a in sorted(addons, key=lambda a: a.name)]
    return result


def apply_sys_path(folders: list[str]) -> None:
    """Put ``folders`` at the front of sys.path, keeping their order, without duplicates."""
    for folder in reversed(folders):
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)


def client_packages(folder: str | Path) -> list[str]:
    """Names of the importable packages at the top of an add-on folder."""
    try:
        entries = list(os.scandir(folder))
    except OSError:  # not a folder (any more)
        return []
    return sorted(
        entry.name for entry in entries
        if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py"))
        and entry.name.isidentifier() and not entry.name.startswith("_")
    )


def addon_classes(module: Any) -> list[type[AYONAddon]]:
    """AYONAddon subclasses a module exposes (defined there or re-exported)."""
    found = []
    for value in vars(module).values():
        # isinstance(value, type) and __abstractmethods__ rather than the inspect module,
        # which a start would import (with ast, dis and tokenize) for these two checks alone.
        if (isinstance(value, type) and issubclass(value, AYONAddon) and value is not AYONAddon
                and not getattr(value, "__abstractmethods__", None) and value.name
                and value not in found):
            found.append(value)
    return found


def load_addons(
    addons: Iterable[AddonFolder],
    settings: dict[str, Any] | None = None,
    dependency_package: str | None = None,
) -> LoadResult:
    """Import every add-on's client code and instantiate its AYONAddon classes.

    A failing add-on is logged as a warning naming it; the others still load.
    """
    folders = sorted(addons, key=lambda a: a.name)
    settings = settings or {}
    result = LoadResult(python_paths=python_paths(folders, dependency_package))
    apply_sys_path(result.python_paths)
    importlib.invalidate_caches()
    for folder in folders:
        try:
            instances = _load_one(folder, settings)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one broken add-on must not
            # stop the others; SystemExit too: a client that parses sys.argv at import exits.
            reason = failure_reason(exc)
            result.errors[folder.name] = reason
            log.warning("add-on %s %s failed to load: %s", folder.name, folder.version, reason)
            log.debug("add-on %s traceback", folder.name, exc_info=True)
            continue
        if not instances:
            log.debug("add-on %s %s exposes no AYONAddon class", folder.name, folder.version)
        result.addons.extend(instances)
    return result


def _load_one(folder: AddonFolder, settings: dict[str, Any]) -> list[AYONAddon]:
    instances = []
    for package in client_packages(folder.path):
        module = importlib.import_module(package)
        for cls in addon_classes(module):
            addon_settings = settings.get(cls.name)
            if addon_settings is None:
                addon_settings = settings.get(folder.name, {})
            instances.append(cls(dict(addon_settings or {})))
    return instances
