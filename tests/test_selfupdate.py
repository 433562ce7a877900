"""Self-update against the embedded server: real installers built from this checkout, uploaded
with ``ayon installer upload``, installed side by side by real pip into real venvs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ayon_launcher.selfupdate import identity
from ayon_launcher.version import __version__
from conftest import isolated_env, run_ayon

NEW = "0.2.0.dev7"  # the version the tests roll out (the running checkout is __version__)
SCRIPT = "import sys, ayon_launcher\nprint('RUNNING', ayon_launcher.__version__, sys.executable)\n"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """An installer of version NEW built from this checkout, and a wheelhouse of its lock, so
    that installs in the tests need no package index (pip's --no-index --find-links)."""
    out = tmp_path_factory.mktemp("installers")
    result = run_ayon(["installer", "build", "--version", NEW, "--out", str(out)],
                      isolated_env(out), timeout=300)
    assert result.returncode == 0, result.stderr
    installer = out / identity.installer_filename(NEW, _platform(), _python())
    assert installer.is_file(), result.stdout
    wheelhouse = out / "wheelhouse"
    lock = out / "requirements.lock"
    import zipfile

    with zipfile.ZipFile(installer) as archive:
        lock.write_bytes(archive.read("requirements.lock"))
    download = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d",
                               str(wheelhouse), "-r", str(lock)], capture_output=True, text=True)
    if download.returncode != 0:
        pytest.skip(f"no package index to make the test wheelhouse: {download.stderr[-300:]}")
    return {"installer": installer, "wheelhouse": wheelhouse}


def _platform() -> str:
    from ayon_launcher.distribution.models import platform_name

    return platform_name()


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _env(tmp_path: Path, server, built) -> dict[str, str]:
    env = isolated_env(tmp_path, server.url)
    env["AYON_API_KEY"] = server.service_api_key
    env["PIP_NO_INDEX"] = "1"
    env["PIP_FIND_LINKS"] = str(built["wheelhouse"])
    return env


def _upload(server, built, tmp_path) -> None:
    env = isolated_env(tmp_path / "uploader", server.url)
    env["AYON_API_KEY"] = server.service_api_key
    result = run_ayon(["installer", "upload", str(built["installer"])], env)
    assert result.returncode == 0, result.stderr
    assert identity.installer_version(NEW) in result.stdout


def _run_script(env: dict[str, str], tmp_path: Path, python: str = sys.executable,
                extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    script = tmp_path / "which.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return subprocess.run([python, "-m", "ayon_launcher", "--headless", *extra, str(script)],
                          env=env, capture_output=True, text=True, timeout=600)


def _running(result: subprocess.CompletedProcess) -> tuple[str, str]:
    line = next(line for line in result.stdout.splitlines() if line.startswith("RUNNING "))
    _, version, python = line.split(" ", 2)
    return version, python


def _set_launcher(server, version: str | None) -> None:
    """A new production bundle, as the demo one but naming launcher ``version`` (a bundle's
    launcher version cannot change once made, as on the real server)."""
    base = next(b for b in server.bundles() if b["name"] == "demo_production")
    name = f"launcher_{len(server.bundles())}"
    server.create_bundle(name, base["addons"], base.get("dependencyPackages"),
                         is_production=True, installer_version=version)


def test_switch_to_new_version_interrupted_then_installed_and_back(fresh_server, built,
                                                                   tmp_path):
    _upload(fresh_server, built, tmp_path)
    env = _env(tmp_path, fresh_server, built)
    local = Path(env["AYON_LAUNCHER_LOCAL_DIR"]) / "launcher"
    _set_launcher(fresh_server, identity.installer_version(NEW))

    # Interrupted install: killed while pip fills the new environment.
    script = tmp_path / "which.py"
    script.write_text(SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "ayon_launcher", "--headless", str(script)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((local / "versions").glob(".tmp-*/pyvenv.cfg")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (local / "versions" / NEW).exists()
    assert identity.installer_version(NEW) and NEW not in json.loads(
        (local / "registry.json").read_text() if (local / "registry.json").exists()
        else '{"versions": {}}')["versions"]
    # The running version still works meanwhile.
    skip = _run_script({**env, "AYON_AUTO_UPDATE": "skip"}, tmp_path)
    assert skip.returncode == 0, skip.stderr
    assert _running(skip)[0] == __version__

    # The next start installs it side by side and re-runs the same command line with it.
    result = _run_script(env, tmp_path)
    assert result.returncode == 0, result.stderr
    version, python = _running(result)
    assert version == NEW
    assert Path(python).is_relative_to(local / "versions" / NEW)
    switch_lines = [line for line in result.stderr.splitlines() if "restarting with it" in line]
    assert len(switch_lines) == 1, result.stderr
    assert not list((local / "versions").glob(".tmp-*")), "work folder of the kill left"
    registry = json.loads((local / "registry.json").read_text())["versions"]
    assert set(registry) == {NEW, __version__}
    assert (local / "current").read_text().strip() == python

    # Started as the new version with the bundle still naming it: no switch, no line.
    again = _run_script(env, tmp_path, python=python)
    assert again.returncode == 0, again.stderr
    assert _running(again)[0] == NEW and "restarting" not in again.stderr

    # Back: the bundle names this checkout's launcher again; the new version switches to it.
    _set_launcher(fresh_server, identity.installer_version(__version__))
    back = _run_script(env, tmp_path, python=python)
    assert back.returncode == 0, back.stderr
    assert _running(back) == (__version__, sys.executable)
    assert f"AYON launcher {__version__}: restarting" in back.stderr


def test_bad_checksum_keeps_the_running_version(fresh_server, built, tmp_path):
    _upload(fresh_server, built, tmp_path)
    stored = fresh_server.store.installer_path(built["installer"].name)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    stored.write_bytes(bytes(data))
    env = _env(tmp_path, fresh_server, built)
    _set_launcher(fresh_server, identity.installer_version(NEW))
    result = _run_script(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _running(result)[0] == __version__
    assert "checksum" in result.stderr.lower() and "installing it failed" in result.stderr
    local = Path(env["AYON_LAUNCHER_LOCAL_DIR"]) / "launcher"
    assert not (local / "versions" / NEW).exists()
    assert not (local / "installers").exists() or not any((local / "installers").iterdir())


def test_skip_and_block(fresh_server, built, tmp_path):
    env = _env(tmp_path, fresh_server, built)
    _set_launcher(fresh_server, identity.installer_version(NEW))
    skip = _run_script({**env, "AYON_AUTO_UPDATE": "skip"}, tmp_path)
    assert skip.returncode == 0, skip.stderr
    assert _running(skip)[0] == __version__
    assert f"wants AYON launcher {NEW}" in skip.stderr and "AYON_AUTO_UPDATE=skip" in skip.stderr

    block = _run_script({**env, "AYON_AUTO_UPDATE": "block"}, tmp_path)
    assert block.returncode == 5
    assert "RUNNING" not in block.stdout
    lines = block.stderr.strip().splitlines()
    assert lines[-1].startswith("ayon: error: ") and "AYON_AUTO_UPDATE=block" in lines[-1]
    assert "Traceback" not in block.stderr

    bad = _run_script({**env, "AYON_AUTO_UPDATE": "sometimes"}, tmp_path)
    assert bad.returncode == 2 and "AYON_AUTO_UPDATE" in bad.stderr


def test_no_installer_of_this_launcher_keeps_running(fresh_server, built, tmp_path):
    """The bundle names a version of ours the server has no installer for."""
    env = _env(tmp_path, fresh_server, built)
    _set_launcher(fresh_server, identity.installer_version("9.9.9"))
    result = _run_script(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _running(result)[0] == __version__
    assert "has no installer of AYON launcher 9.9.9" in result.stderr


def test_official_launcher_version_is_never_installed(fresh_server, built, tmp_path):
    """A bundle naming an official launcher build, which the server has an installer of: this
    launcher keeps running with one warning and never downloads the other launcher."""
    official = "1.6.4"
    fresh_server.store.put("installer", f"AYON-{official}-linux.sh", {
        "filename": f"AYON-{official}-linux.sh", "platform": _platform(), "version": official,
        "checksum": "0" * 64, "checksumAlgorithm": "sha256", "size": 10,
        "sources": [{"type": "server"}], "pythonModules": {}})
    env = _env(tmp_path, fresh_server, built)
    _set_launcher(fresh_server, official)
    result = _run_script(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _running(result)[0] == __version__
    warnings = [line for line in result.stderr.splitlines() if f"launcher {official}" in line]
    assert len(warnings) == 1 and identity.CONTRACT_VERSION in warnings[0], result.stderr
    assert not (Path(env["AYON_LAUNCHER_LOCAL_DIR"]) / "launcher" / "installers").exists()


def test_unchanged_version_costs_nothing(fresh_server, built, tmp_path):
    """The bundle names the running launcher: no switch module imported, no request."""
    env = _env(tmp_path, fresh_server, built)
    script = tmp_path / "mods.py"
    script.write_text("import sys\nprint('SWITCH' if 'ayon_launcher.selfupdate.switch' in "
                      "sys.modules else 'NONE')\n", encoding="utf-8")
    result = run_ayon(["--headless", str(script)], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "NONE"


def test_upload_refuses_a_file_that_is_not_an_installer(fresh_server, tmp_path):
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = fresh_server.service_api_key
    other = tmp_path / "ayon-openlauncher-1-linux-py3.11.zip"
    other.write_bytes(b"not a zip")
    result = run_ayon(["installer", "upload", str(other)], env)
    assert result.returncode == 2
    assert result.stderr.startswith("ayon: error: ") and "not an installer" in result.stderr


def test_identity_and_ranges():
    mine = identity.installer_version("0.3.0")
    assert identity.own_version_of(mine) == "0.3.0"
    assert identity.own_version_of("1.6.4") is None
    assert identity.own_version_of("1.6.4+build.5") is None
    # The server checks add-on ranges on the contract part, ignoring the build metadata.
    assert identity.satisfies(mine, f">={identity.CONTRACT_VERSION}")
    assert not identity.satisfies(mine, ">1.6.0,<2")
    assert identity.satisfies("1.6.4-dev", ">=1.6.3") and not identity.satisfies("1.6.4-dev",
                                                                                ">=1.6.4")
    record = {"filename": identity.installer_filename("0.3.0", "linux", "3.11"),
              "version": mine, "pythonModules": {identity.KIND: "0.3.0"}}
    assert identity.is_own_installer(record)
    assert not identity.is_own_installer({**record, "filename": "AYON-1.6.4-linux.sh"})
    assert not identity.is_own_installer({**record, "pythonModules": {}})
