"""A real studio bundle (ayon-core + ayon-applications) run through this launcher.

A real studio bundle (ayon-core + ayon-applications on the real AYON server) run through
this launcher: the same environment as ynput's official launcher (differential), app launch,
a farm publish through ayon-core, `version`, scripts, ayon-core's own sub-processes, and
ayon-core's tray offscreen with a screenshot.

Fixtures ``studio_bundle`` and ``official_launcher`` come from tests/harness (the real server,
the add-ons built with their own create_package.py, the official launcher from source); they
skip with a printed reason when ../shared/peers is absent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ARTIFACTS_DIR, run_ayon
from failure_helpers import FaultProxy

studio = pytest.importorskip("harness.studio", reason="the studio bundle harness is missing")

pytestmark = pytest.mark.timeout(900)

# Variables that name the launcher itself (or its own folders, its own Python modules): they
# differ between two launchers by design. Values under each launcher's work folder are
# compared with that folder replaced, so the store layout ($AYON_ADDONS_DIR/{name}_{version})
# is checked too.
IDENTITY = {
    "AYON_EXECUTABLE",  # the official one runs from source: its venv's python + start.py
    "AYON_ROOT",  # its source folder; ours bootstrapper/ayon_root (version.py, start.py)
    "AYON_VERSION",  # 1.6.x vs this launcher's version
    "AYON_SITE_ID",  # each local folder makes its own id
    "SSL_CERT_FILE",  # certifi's bundle inside each launcher's environment
    "PATH", "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT",  # each launcher's environment
    "PYTHONPATH",  # launcher's own modules first; compared below for the bundle's part
}
# Older names this launcher also gives (documented in the README); nothing else may be extra.
ALIASES = {"OPENPYPE_EXECUTABLE", "OPENPYPE_HEADLESS_MODE", "OPENPYPE_LOG_LEVEL",
           "OPENPYPE_REPOS_ROOT", "OPENPYPE_ROOT", "OPENPYPE_VERSION", "OPENPYPE_DEBUG",
           "OPENPYPE_USE_STAGING"}


def _base_env(work: Path, bundle, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The same caller environment for both launchers: a service key, own folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AYON_", "OPENPYPE_", "USE_AYON", "VIRTUAL_ENV", "PYTHON"))}
    env.update(AYON_SERVER_URL=bundle.url, AYON_API_KEY=bundle.server.service_api_key,
               AYON_LAUNCHER_STORAGE_DIR=str(work / "storage"),
               AYON_LAUNCHER_LOCAL_DIR=str(work / "local"),
               AYON_LAUNCHER_CONFIG_DIR=str(work / "config"),
               QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.update(extra or {})
    return env


def _context(bundle) -> list[str]:
    return ["--project", bundle.project_name, "--folder", bundle.folder_path,
            "--task", bundle.task_name, "--app", bundle.app_name]


def _ours(args: list[str], env: dict[str, str], timeout: float = 600):
    return run_ayon(args, env, timeout=timeout)


def _official(launcher, args: list[str], env: dict[str, str]):
    env = {**env, "PATH": os.pathsep.join([str(launcher.python.parent), env.get("PATH", "")])}
    return subprocess.run([str(launcher.python), str(launcher.start_py), *args],
                          cwd=launcher.root, env=env, capture_output=True, text=True,
                          timeout=600)


def _failure(done) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"


def _normalized(env: dict[str, str], work: Path) -> dict[str, str]:
    return {k: v.replace(str(work), "<work>") for k, v in env.items()}


def _bundle_paths(env: dict[str, str]) -> list[str]:
    """The PYTHONPATH entries of the bundle (under the store), the package folder's name
    reduced to its base (the official launcher keeps the archive's extension in it)."""
    entries = [p for p in env["PYTHONPATH"].split(os.pathsep) if p.startswith("<work>")]
    return [re.sub(r"\.(zip|tar\.gz|tgz)(?=/|$)", "", p) for p in entries]


def test_extractenvironments_is_the_official_launchers(studio_bundle, official_launcher,
                                                        tmp_path):
    results = {}
    for name in ("official", "ours"):
        work = tmp_path / name
        out = work / "env.json"
        env = _base_env(work, studio_bundle)
        args = ["--headless", "--bundle", studio_bundle.bundle_name, "addon", "applications",
                "extractenvironments", str(out), *_context(studio_bundle)]
        done = (_official(official_launcher, args, env) if name == "official"
                else _ours(args, env))
        assert done.returncode == 0, f"{name}: {_failure(done)}"
        results[name] = _normalized(json.loads(out.read_text()), work)
    official, ours = results["official"], results["ours"]
    assert (ours["AYON_APP_NAME"], ours["AYON_FOLDER_PATH"], ours["AYON_TASK_NAME"]) == (
        studio_bundle.app_name, studio_bundle.folder_path, studio_bundle.task_name)
    assert set(official) - set(ours) == set()
    assert set(ours) - set(official) <= ALIASES
    differing = {k for k in set(official) & set(ours) if official[k] != ours[k]}
    assert differing <= IDENTITY, {k: (official[k], ours[k]) for k in differing - IDENTITY}
    assert _bundle_paths(ours) == _bundle_paths(official)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    (ARTIFACTS_DIR / "core-extractenvironments-diff.json").write_text(json.dumps({
        "identity_variables_that_differ": sorted(differing),
        "only_ours": sorted(set(ours) - set(official)),
        "compared": len(official)}, indent=2))


def test_launch_starts_the_app(studio_bundle, tmp_path):
    record = tmp_path / "app-record.txt"
    env = _base_env(tmp_path, studio_bundle, {studio.APP_RECORD_ENV: str(record)})
    done = _ours(["--headless", "--bundle", studio_bundle.bundle_name, "addon", "applications",
                  "launch", *_context(studio_bundle)], env)
    assert done.returncode == 0, _failure(done)
    deadline = time.monotonic() + 60
    while not record.exists():  # started detached: it may finish after the launcher
        assert time.monotonic() < deadline, "the app never started"
        time.sleep(0.1)
    seen = studio.read_app_record(record)["env"]
    assert seen["AYON_PROJECT_NAME"] == studio_bundle.project_name
    assert seen["AYON_FOLDER_PATH"] == studio_bundle.folder_path
    assert seen["AYON_TASK_NAME"] == studio_bundle.task_name
    assert seen["AYON_APP_NAME"] == studio_bundle.app_name
    for name, value in {**studio.APP_GROUP_ENV, **studio.APP_VARIANT_ENV}.items():
        assert seen[name] == value


def test_farm_publish_creates_versions(studio_bundle, tmp_path):
    import ayon_api

    staging = tmp_path / "farm"
    staging.mkdir()
    (staging / "cache.abc").write_text("a farm job's output\n")
    product = f"pointcacheFarm{int(time.time() * 1000) % 10**8}"
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({
        "user": "admin", "comment": "farm job", "version": 1, "job": {"_id": "job-1"},
        "folderPath": studio_bundle.folder_path,
        "session": {"AYON_PROJECT_NAME": studio_bundle.project_name,
                    "AYON_FOLDER_PATH": studio_bundle.folder_path,
                    "AYON_TASK_NAME": studio_bundle.task_name},
        "instances": [{
            "productName": product, "productType": "pointcache", "family": "pointcache",
            "families": ["pointcache"], "folderPath": studio_bundle.folder_path,
            "task": studio_bundle.task_name, "frameStart": 1, "frameEnd": 1,
            "handleStart": 0, "handleEnd": 0, "fps": 25, "stagingDir": str(staging),
            "representations": [{"name": "abc", "ext": "abc", "files": "cache.abc",
                                 "stagingDir": str(staging), "tags": []}]}],
    }))
    env = _base_env(tmp_path, studio_bundle, {
        "AYON_PROJECT_NAME": studio_bundle.project_name,
        "AYON_FOLDER_PATH": studio_bundle.folder_path,
        "AYON_TASK_NAME": studio_bundle.task_name})
    done = _ours(["--headless", "--bundle", studio_bundle.bundle_name, "publish",
                  str(metadata), "--targets", "farm"], env)
    assert done.returncode == 0, _failure(done)
    api = ayon_api.ServerAPI(studio_bundle.url, token=studio_bundle.server.service_api_key)
    products = list(api.get_products(studio_bundle.project_name, product_names=[product]))
    assert len(products) == 1
    versions = {v["version"] for v in api.get_versions(studio_bundle.project_name,
                                                       product_ids=[products[0]["id"]])}
    assert 1 in versions
    assert any(v < 0 for v in versions), versions  # the hero version
    representations = list(api.get_representations(
        studio_bundle.project_name, version_ids=[v["id"] for v in api.get_versions(
            studio_bundle.project_name, product_ids=[products[0]["id"]])]))
    assert {r["name"] for r in representations} == {"abc"}


def test_version_and_scripts(studio_bundle, tmp_path):
    from ayon_launcher import __version__

    env = _base_env(tmp_path, studio_bundle)
    done = _ours(["--headless", "--bundle", studio_bundle.bundle_name, "version"], env)
    assert done.returncode == 0, _failure(done)
    assert done.stdout.strip().splitlines()[-1] == __version__
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import importlib.util, json, os, subprocess, sys
        out = {"argv": sys.argv[1:], "core_imported": "ayon_core" in sys.modules,
               "core_found": importlib.util.find_spec("ayon_core") is not None,
               "bundle": os.environ.get("AYON_BUNDLE_NAME")}
        if len(sys.argv) > 1 and sys.argv[1] == "subprocess":
            # As ayon-core starts the launcher: get_ayon_launcher_args() (AYON_EXECUTABLE,
            # with AYON_ROOT/start.py when it is a python).
            from ayon_core.lib import get_ayon_launcher_args
            child = subprocess.run(get_ayon_launcher_args("--headless", "version"),
                                   capture_output=True, text=True)
            out["child"] = [child.returncode, child.stdout.strip().splitlines()[-1:]]
        print(json.dumps(out))
    """))
    done = _ours(["--headless", "--bundle", studio_bundle.bundle_name, str(script), "a"], env)
    assert done.returncode == 0, _failure(done)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "argv": ["a"], "core_imported": False, "core_found": True,
        "bundle": studio_bundle.bundle_name}
    # Without bootstrap: no server call (the URL points at nothing), no add-ons.
    offline = {**env, "AYON_SERVER_URL": "http://127.0.0.1:9"}
    done = _ours(["--skip-bootstrap", str(script), "b"], offline, timeout=120)
    assert done.returncode == 0, _failure(done)
    assert json.loads(done.stdout.strip().splitlines()[-1])["argv"] == ["b"]
    # ayon-core's own way to start the launcher again re-enters this one.
    done = _ours(["--headless", "--bundle", studio_bundle.bundle_name, str(script),
                  "subprocess"], env)
    assert done.returncode == 0, _failure(done)
    assert json.loads(done.stdout.strip().splitlines()[-1])["child"] == [0, [__version__]]


TRAY_SHOT = textwrap.dedent("""
    # ayon-core's `tray` command in this bootstrapped process (as the hand-off runs it), with
    # a timer that saves the tray menu once the add-ons filled it, then ends the process.
    import os, sys
    from ayon_core import AYON_CORE_ROOT, cli
    sys.path.insert(0, os.path.join(AYON_CORE_ROOT, "vendor", "python"))
    from ayon_core.tools.tray.ui import tray as core_tray
    from qtpy import QtCore, QtWidgets

    out, original = sys.argv[1], core_tray.TrayStarter.__init__

    def starter(self, app):
        original(self, app)

        def grab():
            widget = self._tray_widget
            if widget is None or widget.initializing_addons or not widget.menu.actions():
                QtCore.QTimer.singleShot(300, grab)
                return
            widget.menu.adjustSize()
            widget.menu.show()
            QtWidgets.QApplication.processEvents()
            print("MENU", [a.text() for a in widget.menu.actions() if a.text()], flush=True)
            os._exit(0 if widget.menu.grab().save(out) else 3)

        QtCore.QTimer.singleShot(500, grab)

    core_tray.TrayStarter.__init__ = starter
    sys.argv = [os.environ["AYON_EXECUTABLE"], "tray"]
    cli.main()
""")


def test_core_tray_offscreen(studio_bundle, tmp_path):
    from ayon_launcher import __version__

    ARTIFACTS_DIR.mkdir(exist_ok=True)
    shot = ARTIFACTS_DIR / "core-tray-menu.png"
    shot.unlink(missing_ok=True)
    script = tmp_path / "tray_shot.py"
    script.write_text(TRAY_SHOT)
    env = _base_env(tmp_path, studio_bundle)
    done = _ours(["--bundle", studio_bundle.bundle_name, str(script), str(shot)], env,
                 timeout=300)
    assert done.returncode == 0, _failure(done)
    menu = next(line for line in done.stdout.splitlines() if line.startswith("MENU "))
    assert "'Exit'" in menu and f"'{__version__}'" in menu  # ayon-core shows AYON_VERSION
    assert shot.stat().st_size > 0
    # And the real command starts the tray and keeps it running until stopped.
    process = subprocess.Popen([sys.executable, "-m", "ayon_launcher", "--bundle",
                                studio_bundle.bundle_name, "tray"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for line in process.stdout:  # pytest-timeout ends a tray that never gets there
            seen.append(line)
            if "Starting WebServer" in line:  # the tray's add-ons are up
                break
        assert process.poll() is None, "".join(seen)[-3000:]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_bundle_naming_the_official_launcher_starts_warm(studio_bundle, tmp_path):
    """A real studio bundle names ynput's official launcher (installerVersion): once a full
    start accepted running it under that launcher's contract, the next start is a warm one
    (one request), saying which launcher the bundle names; a changed AYON_AUTO_UPDATE
    brings the full start back."""
    proxy = FaultProxy(studio_bundle.url)
    try:
        env = {**_base_env(tmp_path, studio_bundle), "AYON_SERVER_URL": proxy.url}
        probe = tmp_path / "probe.py"
        probe.write_text("import json, os, sys\nprint(json.dumps({'bundle': os.environ.get("
                         "'AYON_BUNDLE_NAME'), 'api': 'ayon_api' in sys.modules, "
                         "'logging': 'logging' in sys.modules}))\n")
        args = ["--headless", "--bundle", studio_bundle.bundle_name, str(probe)]
        cold = _ours(args, env)
        assert cold.returncode == 0, _failure(cold)
        proxy.hits.clear()
        warm = _ours(args, env)
        assert warm.returncode == 0, _failure(warm)
        seen = json.loads(warm.stdout.strip().splitlines()[-1])
        # Its warning line is printed without importing logging (a light start's record).
        assert seen == {"bundle": studio_bundle.bundle_name, "api": False, "logging": False}, \
            seen
        assert dict(proxy.hits) == {"/api/bundles": 1}
        warning = [line for line in warm.stderr.splitlines() if "names official" in line]
        assert warning == [f"WARNING: bundle {studio_bundle.bundle_name} names official AYON "
                           f"launcher {studio.INSTALLER_VERSION}; running this launcher in its "
                           "place (its add-ons' launcher ranges were checked at the last full "
                           "start)"], warm.stderr
        proxy.hits.clear()
        skip = _ours(args, {**env, "AYON_AUTO_UPDATE": "skip"})
        assert skip.returncode == 0, _failure(skip)
        assert "/api/users/me" in proxy.hits  # the full bootstrap ran again
    finally:
        proxy.close()
