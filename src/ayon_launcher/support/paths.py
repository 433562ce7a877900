"""Every local folder the launcher uses, from platformdirs and the override variables."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "AYON"
APP_AUTHOR = "Ynput"

# Overrides, so studios (and tests) can relocate everything.
LOCAL_DIR_ENV = "AYON_LAUNCHER_LOCAL_DIR"
# As the official launcher names them: where add-ons and dependency packages are stored
# (can be shared by machines), and each of the two folders on its own.
STORAGE_DIR_ENV = "AYON_LAUNCHER_STORAGE_DIR"
ADDONS_DIR_ENV = "AYON_ADDONS_DIR"
DEPENDENCIES_DIR_ENV = "AYON_DEPENDENCIES_DIR"
CONFIG_DIR_ENV = "AYON_LAUNCHER_CONFIG_DIR"
SERVER_DATA_DIR_ENV = "AYON_LOCAL_SERVER_DIR"


def _platformdirs():  # noqa: ANN202 - the module
    """platformdirs, imported when a folder is not given by its variable (a farm sets them;
    the import is a visible share of a script's start)."""
    import platformdirs

    return platformdirs


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name)
    # Absolute: children (DCCs) change their working folder, and state files keep paths.
    return Path(value).expanduser().absolute() if value else None


def local_dir() -> Path:
    """Root of downloaded add-ons, dependency packages and launcher state."""
    return _from_env(LOCAL_DIR_ENV) or Path(_platformdirs().user_data_dir(APP_NAME, APP_AUTHOR))


def config_dir() -> Path:
    """Per-user configuration (credentials fallback file, preferences)."""
    return _from_env(CONFIG_DIR_ENV) or Path(
        _platformdirs().user_config_dir(APP_NAME, APP_AUTHOR))


def storage_dir() -> Path:
    """Root of the add-on and dependency package store (the local folder by default)."""
    return _from_env(STORAGE_DIR_ENV) or local_dir()


def addons_dir() -> Path:
    """``{name}_{version}/`` of each installed add-on."""
    return _from_env(ADDONS_DIR_ENV) or storage_dir() / "addons"


def dependency_packages_dir() -> Path:
    return _from_env(DEPENDENCIES_DIR_ENV) or storage_dir() / "dependency_packages"


def logs_dir() -> Path:
    return local_dir() / "logs"


def state_dir() -> Path:
    """Small state files: last installed bundle, locks."""
    return local_dir() / "state"


def local_server_dir() -> Path:
    """Default data directory of the embedded local AYON server."""
    return _from_env(SERVER_DATA_DIR_ENV) or Path(
        _platformdirs().user_data_dir("AYON-local-server", APP_AUTHOR)
    )
