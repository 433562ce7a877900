"""The launcher's folders and certifi's bundle, found without importing their libraries.

The launcher's folders: the plain defaults it works out without importing platformdirs
are platformdirs' answers, and certifi's bundle is found without importing certifi."""

from __future__ import annotations

import os
import subprocess
import sys

import platformdirs
import pytest

from ayon_launcher.bootstrapper.runtime import certifi_bundle
from ayon_launcher.support import paths

FOLDER_VARIABLES = ("AYON_LAUNCHER_LOCAL_DIR", "AYON_LAUNCHER_CONFIG_DIR",
                    "AYON_LAUNCHER_STORAGE_DIR", "AYON_ADDONS_DIR", "AYON_DEPENDENCIES_DIR",
                    "AYON_LOCAL_SERVER_DIR")


@pytest.mark.parametrize(("home", "xdg_data", "xdg_config"), [
    ("/home/artist", None, None),
    ("/home/artist/", "", ""),
    ("/home/artist", "relative/data", "relative/config"),  # not absolute: ignored by XDG
    ("/home/artist", "/studio/data", "/studio/config"),
    ("relative-home", None, None),  # not absolute: platformdirs looks the user up
])
def test_the_default_folders_are_platformdirs_answers(monkeypatch, home, xdg_data, xdg_config):
    for name in FOLDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", home)
    for name, value in (("XDG_DATA_HOME", xdg_data), ("XDG_CONFIG_HOME", xdg_config)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    data = platformdirs.user_data_dir(paths.APP_NAME, paths.APP_AUTHOR)
    assert paths.local_folder() == data
    assert str(paths.local_dir()) == data
    assert paths.addons_folder() == os.path.join(data, "addons")
    assert str(paths.dependency_packages_dir()) == os.path.join(data, "dependency_packages")
    assert str(paths.config_dir()) == platformdirs.user_config_dir(paths.APP_NAME,
                                                                   paths.APP_AUTHOR)
    assert str(paths.local_server_dir()) == platformdirs.user_data_dir("AYON-local-server",
                                                                       paths.APP_AUTHOR)


def test_folder_variables_are_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", "local")
    monkeypatch.setenv("AYON_ADDONS_DIR", "~/addons")
    monkeypatch.delenv("AYON_LAUNCHER_STORAGE_DIR", raising=False)
    monkeypatch.delenv("AYON_DEPENDENCIES_DIR", raising=False)
    assert paths.local_folder() == str(tmp_path / "local")
    assert paths.addons_folder() == os.path.join(os.path.expanduser("~"), "addons")
    assert paths.dependency_packages_folder() == str(tmp_path / "local"
                                                     / "dependency_packages")


def test_a_script_start_imports_neither_platformdirs_nor_certifi(tmp_path):
    """Without any folder variable or CA bundle set (a farm node): the folders and certifi's
    bundle are the libraries' answers, and neither library (nor pathlib) is imported."""
    env = {k: v for k, v in os.environ.items()
           if k not in (*FOLDER_VARIABLES, "SSL_CERT_FILE", "XDG_DATA_HOME")}
    env["HOME"] = str(tmp_path)
    code = ("import sys; from ayon_launcher.support import paths;"
            " from ayon_launcher.bootstrapper.runtime import certifi_bundle;"
            " print(paths.local_folder()); print(certifi_bundle());"
            " print(sorted({'platformdirs', 'certifi', 'pathlib', 'importlib.resources'}"
            " & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    folder, bundle, imported = done.stdout.splitlines()
    import certifi

    assert folder == os.path.join(str(tmp_path), ".local", "share", "AYON")
    assert bundle == certifi.where()
    assert imported == "[]"


def test_certifi_bundle_is_certifis_where():
    import certifi

    assert certifi_bundle() == certifi.where()
