"""``ayon init`` / ``init-ayon-launcher`` on Linux, for real, in a temporary XDG home."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ayon_launcher.gui.style import logo_svg
from conftest import isolated_env, run_ayon

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux XDG test")


@pytest.fixture
def xdg_env(tmp_path) -> dict[str, str]:
    if shutil.which("xdg-mime") is None:
        pytest.skip("xdg-mime is not installed (apt package xdg-utils)")
    env = isolated_env(tmp_path)
    home = tmp_path / "home"
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_DIRS=str(home / "data"),
               XDG_CURRENT_DESKTOP="X-Generic")
    return env


def _query(env: dict[str, str]) -> str:
    result = subprocess.run(["xdg-mime", "query", "default", "x-scheme-handler/ayon-launcher"],
                            env=env, capture_output=True, text=True)
    return result.stdout.strip()


def test_init_registers_scheme_and_remove_undoes_it(xdg_env, tmp_path):
    data = Path(xdg_env["XDG_DATA_HOME"])
    config = Path(xdg_env["XDG_CONFIG_HOME"])
    desktop = data / "applications" / "ayon-launcher.desktop"
    autostart = config / "autostart" / "ayon-launcher.desktop"

    first = run_ayon(["init", "--autostart"], xdg_env)
    assert first.returncode == 0, first.stderr
    assert _query(xdg_env) == "ayon-launcher.desktop"
    entry = desktop.read_text()
    assert "MimeType=x-scheme-handler/ayon-launcher;" in entry
    icon = next(line.split("=", 1)[1] for line in entry.splitlines() if line.startswith("Icon="))
    assert Path(icon).read_text() == logo_svg("connected")  # the tray's logo
    assert "tray" in autostart.read_text()

    # The desktop entry's command is the stable entry point; it starts the registered launcher.
    shim = Path(xdg_env["AYON_LAUNCHER_LOCAL_DIR"]) / "launcher" / "bin" / "ayon"
    assert f'Exec="{shim}" %u' in entry
    version = subprocess.run([str(shim), "--version"], env=xdg_env, capture_output=True,
                             text=True)
    assert version.returncode == 0 and "AYON launcher" in version.stdout

    # Idempotent, under both names.
    again = run_ayon(["init-ayon-launcher", "--autostart"], xdg_env)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stdout
    without = run_ayon(["init"], xdg_env)
    assert without.returncode == 0 and not autostart.exists()

    removed = run_ayon(["init", "--remove"], xdg_env)
    assert removed.returncode == 0, removed.stderr
    assert not desktop.exists() and not shim.exists() and not Path(icon).exists()
    assert _query(xdg_env) == ""
    assert "ayon-launcher" not in (config / "mimeapps.list").read_text()
    twice = run_ayon(["init", "--remove"], xdg_env)
    assert twice.returncode == 0 and "nothing to remove" in twice.stdout


def test_init_entry_point_follows_the_registry(xdg_env, tmp_path):
    assert run_ayon(["init"], xdg_env).returncode == 0
    launcher = Path(xdg_env["AYON_LAUNCHER_LOCAL_DIR"]) / "launcher"
    fake = tmp_path / "fake-python"
    fake.write_text("#!/bin/sh\necho fake launcher \"$@\"\n")
    fake.chmod(0o755)
    (launcher / "current").write_text(f"{fake}\n")
    result = subprocess.run([str(launcher / "bin" / "ayon"), "tray"], env=xdg_env,
                            capture_output=True, text=True)
    assert result.stdout.strip() == "fake launcher -m ayon_launcher tray"
    os.unlink(fake)  # a registered Python that is gone: the launcher that ran init starts
    result = subprocess.run([str(launcher / "bin" / "ayon"), "--version"], env=xdg_env,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "AYON launcher" in result.stdout


def test_init_bad_flags(xdg_env):
    result = run_ayon(["init", "--remove", "--autostart"], xdg_env)
    assert result.returncode == 2 and result.stderr.startswith("ayon: error:")
