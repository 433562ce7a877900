"""Every local folder the launcher uses, from platformdirs and the override variables."""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
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
    """platformdirs, imported when a folder is neither given by its variable nor one of the
    plain defaults below (its import, with pathlib and tempfile, costs a script's start
    more than python's own start-up)."""
    import platformdirs

    return platformdirs


def _plain_default(kind: str) -> str | None:
    """``~/.local/share`` (kind "data") or ``~/.config`` (kind "config") on Linux, ``~/Library/
    Application Support`` on macOS, when no XDG variable and an absolute HOME leave no doubt:
    what platformdirs answers then (tests/test_paths.py compares), without importing it.
    None: ask platformdirs (Windows, an XDG variable, an unusual HOME)."""
    home = os.environ.get("HOME", "")
    if not home.startswith("/") or os.environ.get(f"XDG_{kind.upper()}_HOME"):
        return None
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support")
    if sys.platform.startswith("linux"):
        return os.path.join(home, ".local", "share") if kind == "data" else os.path.join(
            home, ".config")
    return None


def _user_dir(kind: str, app: str) -> str:
    base = _plain_default(kind)
    if base is not None:
        return os.path.join(base, app)
    module = _platformdirs()
    find = module.user_data_dir if kind == "data" else module.user_config_dir
    return find(app, APP_AUTHOR)


def _from_env(name: str) -> str | None:
    value = os.environ.get(name)
    # Absolute: children (DCCs) change their working folder, and state files keep paths.
    return os.path.abspath(os.path.expanduser(value)) if value else None


# str forms, for the paths a script's start needs (pathlib alone costs more than that start).

def local_folder() -> str:
    """Root of downloaded add-ons, dependency packages and launcher state."""
    return _from_env(LOCAL_DIR_ENV) or _user_dir("data", APP_NAME)


def storage_folder() -> str:
    """Root of the add-on and dependency package store (the local folder by default)."""
    return _from_env(STORAGE_DIR_ENV) or local_folder()


def addons_folder() -> str:
    """``{name}_{version}/`` of each installed add-on."""
    return _from_env(ADDONS_DIR_ENV) or os.path.join(storage_folder(), "addons")


def dependency_packages_folder() -> str:
    return _from_env(DEPENDENCIES_DIR_ENV) or os.path.join(storage_folder(),
                                                           "dependency_packages")


def state_folder() -> str:
    """Small state files: last installed bundle, locks."""
    return os.path.join(local_folder(), "state")


def logs_folder() -> str:
    return os.path.join(local_folder(), "logs")


# Path forms, for everything else.

def local_dir() -> "Path":
    """Root of downloaded add-ons, dependency packages and launcher state."""
    return _path(local_folder())


def config_dir() -> "Path":
    """Per-user configuration (credentials fallback file, preferences)."""
    return _path(_from_env(CONFIG_DIR_ENV) or _user_dir("config", APP_NAME))


def storage_dir() -> "Path":
    """Root of the add-on and dependency package store (the local folder by default)."""
    return _path(storage_folder())


def addons_dir() -> "Path":
    """``{name}_{version}/`` of each installed add-on."""
    return _path(addons_folder())


def dependency_packages_dir() -> "Path":
    return _path(dependency_packages_folder())


def logs_dir() -> "Path":
    return local_dir() / "logs"


def state_dir() -> "Path":
    """Small state files: last installed bundle, locks."""
    return local_dir() / "state"


def local_server_dir() -> "Path":
    """Default data directory of the embedded local AYON server."""
    return _path(_from_env(SERVER_DATA_DIR_ENV) or _user_dir("data", "AYON-local-server"))


def _path(folder: str) -> "Path":
    from pathlib import Path

    return Path(folder)
