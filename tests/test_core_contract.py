"""The official launcher's contract, piece by piece, with no AYON server.

The official launcher's contract, piece by piece (no AYON server needed): flags and the
arguments ayon-core gets, project bundle choice, runtime variables, site id, path order,
the ayon_common names ayon-core imports, app_launcher, AYON_ROOT/AYON_EXECUTABLE."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_messages

PEERS = Path("/tmp/peers")
CORE_CLIENT = PEERS / "ayon-core" / "client" / "ayon_core"


# --- flags and the arguments ayon-core gets -------------------------------------------------

def test_core_args_drop_the_official_flags_wherever_they_are_and_keep_project():
    from ayon_launcher.pipeline.handoff import core_args

    args = ["--headless", "--verbose", "debug", "--bundle=studio", "--local-server", "addon",
            "applications", "extractenvironments", "out.json", "--project", "P",
            "--use-staging", "--folder", "/f", "--studio-bundle", "s2", "--skip-headers",
            "--project-bundle", "pb", "--debug", "--local-server"]
    assert core_args(args) == ["addon", "applications", "extractenvironments", "out.json",
                               "--project", "P", "--folder", "/f", "--local-server"]
    # This launcher's own flags go only before the command; the official ones anywhere.
    assert core_args(["--verify", "tray", "--verify"]) == ["tray", "--verify"]
    assert core_args([]) == []


def test_which_command_lines_may_go_to_ayon_core():
    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.pipeline.handoff import command_of, may_go_to_core

    ctx = LauncherContext()
    assert command_of(["--bundle", "b", "--project", "P", "publish", "x"]) == "publish"
    assert command_of(["--headless"]) is None
    assert may_go_to_core([], ctx)  # no command: the tray (or ayon-core's help, headless)
    assert may_go_to_core(["--headless", "version"], ctx)
    assert may_go_to_core(["publish-report-viewer"], ctx)  # ayon-core's, unknown here
    for own in (["server", "--demo"], ["login"], ["logout"], ["--help"], ["--version"],
                ["--local-server", "tray"]):
        assert not may_go_to_core(own, ctx), own
    assert not may_go_to_core(["tray"], LauncherContext(skip_bootstrap=True))


def test_global_flags_read_as_the_official_launcher_reads_them(monkeypatch):
    from ayon_launcher.pipeline.handoff import global_flags, launcher_for

    for name in ("AYON_STUDIO_BUNDLE_NAME", "AYON_BUNDLE_NAME", "AYON_PROJECT_NAME",
                 "AYON_HEADLESS_MODE", "AYON_USE_DEV", "AYON_LOG_LEVEL", "AYON_API_KEY",
                 "AYON_IN_LOGIN_MODE"):
        monkeypatch.setenv(name, "")  # recorded, so that what the launcher sets is undone
        monkeypatch.delenv(name)
    flags = global_flags(["tray", "--studio-bundle", "S", "--project=P", "--ayon-login"])
    assert flags == {"--bundle": "S", "--project": "P", "--ayon-login": True}
    monkeypatch.setenv("AYON_BUNDLE_NAME", "proj_bundle")
    monkeypatch.setenv("AYON_STUDIO_BUNDLE_NAME", "studio_bundle")
    monkeypatch.setenv("AYON_PROJECT_NAME", "from_env")
    monkeypatch.setenv("AYON_USE_DEV", "1")
    ctx = launcher_for(["--verbose", "warning", "version"])
    assert (ctx.bundle_name, ctx.project_bundle_name, ctx.project_name) == (
        "studio_bundle", "proj_bundle", "from_env")
    assert ctx.use_dev and ctx.log_level == 30 and not ctx.headless
    assert ctx.login_mode is True  # no AYON_API_KEY given: the user's own login
    # Decided once, at start, for this process and its children (a login made later puts a
    # token in AYON_API_KEY, which must not turn it into "a key given by the caller").
    assert os.environ["AYON_IN_LOGIN_MODE"] == "1"
    monkeypatch.setenv("AYON_API_KEY", "k" * 32)
    assert launcher_for([]).login_mode is True
    monkeypatch.delenv("AYON_IN_LOGIN_MODE")
    assert launcher_for([]).login_mode is False
    assert os.environ["AYON_IN_LOGIN_MODE"] == "0"
    from ayon_launcher.support.errors import UsageError

    with pytest.raises(UsageError, match="--project-bundle needs a value"):
        global_flags(["version", "--project-bundle"])


def test_ayon_login_with_headless_is_one_line_exit_2(tmp_path):
    env = isolated_env(tmp_path, "http://127.0.0.1:9")
    for args in (["--headless", "--ayon-login", "version"],
                 ["--headless", "--ayon-login", "tray"]):
        done = run_ayon(args, env, timeout=60)
        assert done.returncode == 2, done.stderr
        assert error_messages(done.stderr.strip().splitlines()) == [
            "ayon: error: --ayon-login shows the login window: it cannot be used with "
            "--headless (set AYON_SERVER_URL and AYON_API_KEY instead)"]


def test_official_flags_are_accepted_before_a_script(tmp_path):
    env = isolated_env(tmp_path)
    script = tmp_path / "show.py"
    script.write_text("import os, sys\nprint(sys.argv[1:], os.environ.get('AYON_PROJECT_NAME'),"
                      " os.environ.get('AYON_STUDIO_BUNDLE_NAME'),"
                      " os.environ.get('AYON_BUNDLE_NAME'))\n")
    done = run_ayon(["--skip-headers", "--skip-bootstrap", "--studio-bundle", "S",
                     "--project-bundle", "PB", "--project", "P", str(script), "--debug", "x"],
                    env, timeout=60)
    assert done.returncode == 0, done.stderr
    # Script arguments are the script's, flags or not.
    assert done.stdout.strip() == "['--debug', 'x'] P S PB"


def test_a_folder_with_main_runs_as_a_script(tmp_path):
    env = isolated_env(tmp_path)
    folder = tmp_path / "tool"
    folder.mkdir()
    (folder / "__main__.py").write_text("import sys\nprint(sys.argv, __file__)\n")
    done = run_ayon(["--skip-bootstrap", str(folder), "a"], env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{[str(folder), 'a']} {folder / '__main__.py'}"
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_ayon(["--skip-bootstrap", "run", "--script", str(empty)], env, timeout=60)
    assert done.returncode == 2
    assert f"ayon: error: no __main__.py in folder {empty}" in done.stderr


# --- project bundles -----------------------------------------------------------------------

PAYLOAD = {
    "productionBundle": "prod",
    "stagingBundle": "stage",
    "bundles": [
        {"name": "prod", "isProduction": True, "addons": {"core": "1.0.0"}},
        {"name": "stage", "isStaging": True, "addons": {"core": "1.1.0"}},
        {"name": "dev_ann", "isDev": True, "activeUser": "ann", "addons": {"core": "2.0.0"}},
        {"name": "proj_a", "isProject": True, "addons": {"core": "1.0.1"},
         "dependencyPackages": {}},
        {"name": "old_studio", "addons": {"core": "0.9.0"}},
    ],
}


def test_project_bundle_choice_follows_the_official_launcher():
    from ayon_launcher.bootstrapper.distribution.bundles import (
        BundleNotFoundError,
        choose_bundle,
        choose_project_bundle,
        project_bundle_wanted,
        studio_bundle_name,
    )

    prod = choose_bundle(PAYLOAD)
    dev = choose_bundle(PAYLOAD, use_dev=True, username="ann")
    assert prod.name == "prod" and dev.name == "dev_ann"
    # Named, or named by the project's data for this variant; the studio bundle's own name
    # and a dev studio bundle mean "no project bundle".
    assert project_bundle_wanted(prod, project_bundle_name="proj_a",
                                 project_bundles=None) == "proj_a"
    assert project_bundle_wanted(prod, project_bundle_name=None,
                                 project_bundles={"production": "proj_a"}) == "proj_a"
    assert project_bundle_wanted(prod, project_bundle_name=None, use_staging=True,
                                 project_bundles={"production": "proj_a"}) is None
    assert project_bundle_wanted(prod, project_bundle_name="prod", project_bundles=None) is None
    assert project_bundle_wanted(dev, project_bundle_name="proj_a", project_bundles=None) is None
    assert choose_project_bundle(PAYLOAD, prod, "proj_a").name == "proj_a"
    assert choose_project_bundle(PAYLOAD, prod, None) is prod
    # AYON_BUNDLE_NAME holding a studio bundle's name: the studio bundle ("auto-fix").
    assert choose_project_bundle(PAYLOAD, prod, "old_studio") is prod
    with pytest.raises(BundleNotFoundError, match="project bundle 'gone' does not exist"):
        choose_project_bundle(PAYLOAD, prod, "gone")
    # A project bundle is never the studio's production/staging bundle, even if flagged so.
    flagged = {"bundles": [{"name": "p", "isProject": True, "isProduction": True}]}
    with pytest.raises(BundleNotFoundError):
        choose_bundle(flagged)
    # Older launchers (and their farm jobs) set only AYON_BUNDLE_NAME, to a studio bundle.
    assert studio_bundle_name(PAYLOAD, None, "old_studio") == "old_studio"
    assert studio_bundle_name(PAYLOAD, None, "proj_a") is None
    assert studio_bundle_name(PAYLOAD, "stage", "proj_a") == "stage"


def test_project_bundle_gets_the_resolved_addon_versions():
    from ayon_launcher.bootstrapper.distribution.bundles import choose_bundle, with_addon_versions
    from ayon_launcher.bootstrapper.distribution.models import Bundle

    studio = Bundle.from_dict({"name": "prod", "isProduction": True, "addons": {"core": "1"},
                               "dependencyPackages": {"linux": "deps.zip"}})
    project = Bundle.from_dict(PAYLOAD["bundles"][3])
    merged = with_addon_versions(project, studio, [{"name": "core", "version": "1.0.1"},
                                                   {"name": "applications", "version": "2"},
                                                   {"name": "off", "version": None}])
    assert merged.name == "proj_a" and merged.is_project
    assert merged.addons == {"core": "1.0.1", "applications": "2"}
    assert merged.dependency_packages == {"linux": "deps.zip"}
    assert choose_bundle(PAYLOAD).addons == {"core": "1.0.0"}  # the payload is left alone


# --- runtime variables and the site id -------------------------------------------------------

def _clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("AYON_", "OPENPYPE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))


def test_runtime_variables_have_the_official_meaning(monkeypatch, tmp_path):
    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult
    from ayon_launcher.bootstrapper.context import LauncherContext
    from ayon_launcher.bootstrapper.runtime import child_environment

    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AYON_USE_STAGING", "1")  # inherited, but this run is not staging
    monkeypatch.setenv("AYON_USERNAME", "artist")  # a farm job's: publish acts as this user
    ctx = LauncherContext(log_level=30, project_name="P", login_mode=True, token="tok")
    ctx.extra["username"] = "service"
    result = BootstrapResult(server_url="http://s", bundle_name="proj_a",
                             studio_bundle_name="prod", core=True)
    env = child_environment(ctx, result)
    expected = {
        "AYON_BUNDLE_NAME": "proj_a", "AYON_STUDIO_BUNDLE_NAME": "prod",
        "AYON_PROJECT_NAME": "P", "AYON_DEFAULT_SETTINGS_VARIANT": "production",
        "AYON_IN_LOGIN_MODE": "1", "AYON_MENU_LABEL": "AYON", "AYON_LOG_LEVEL": "30",
        "AYON_SERVER_URL": "http://s", "AYON_API_KEY": "tok", "AYON_USERNAME": "artist",
        "AYON_LAUNCHER_LOCAL_DIR": str(tmp_path / "local"),
        "AYON_LAUNCHER_STORAGE_DIR": str(tmp_path / "local"),
        "AYON_ADDONS_DIR": str(tmp_path / "local" / "addons"),
        "AYON_DEPENDENCIES_DIR": str(tmp_path / "local" / "dependency_packages"),
    }
    assert {k: env.get(k) for k in expected} == expected
    # Modes are "1" or not set at all, as the official launcher leaves them.
    for name in ("AYON_HEADLESS_MODE", "AYON_USE_STAGING", "AYON_USE_DEV", "AYON_DEBUG",
                 "OPENPYPE_HEADLESS_MODE", "OPENPYPE_USE_STAGING"):
        assert name not in env, name
    assert env["AYON_SITE_ID"] == (tmp_path / "local" / "site_id").read_text()
    assert Path(env["SSL_CERT_FILE"]).is_file()
    dev = child_environment(LauncherContext(use_dev=True, use_staging=True, headless=True),
                            BootstrapResult(bundle_name="dev_ann"))
    assert (dev["AYON_DEFAULT_SETTINGS_VARIANT"], dev["AYON_USE_DEV"], dev["AYON_HEADLESS_MODE"],
            dev["AYON_STUDIO_BUNDLE_NAME"]) == ("dev_ann", "1", "1", "dev_ann")
    assert "AYON_USE_STAGING" not in dev  # dev wins over staging
    # Store locations follow the official variables.
    monkeypatch.setenv("AYON_LAUNCHER_STORAGE_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("AYON_DEPENDENCIES_DIR", str(tmp_path / "deps"))
    env = child_environment(ctx, result)
    assert env["AYON_ADDONS_DIR"] == str(tmp_path / "shared" / "addons")
    assert env["AYON_DEPENDENCIES_DIR"] == str(tmp_path / "deps")


def test_site_id_is_made_once_and_shared(monkeypatch, tmp_path):
    from ayon_launcher.bootstrapper.site_id import local_site_id

    _clean_env(monkeypatch, tmp_path)
    code = ("from ayon_launcher.bootstrapper.site_id import local_site_id; "
            "print(local_site_id())")
    # Several processes at once agree on one id.
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    ids = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(ids) == 1
    site_id = ids.pop()
    assert len(site_id.split("-")) == 3
    assert (tmp_path / "local" / "site_id").read_text() == site_id
    assert local_site_id() == site_id
    assert not [p for p in (tmp_path / "local").iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setenv("AYON_SITE_ID", "farm-site")
    assert local_site_id() == "farm-site"


# --- paths of a core bundle -----------------------------------------------------------------

def test_core_bundle_paths_are_in_the_official_order(tmp_path):
    from ayon_launcher.bootstrapper.bootstrap import BootstrapResult
    from ayon_launcher.bootstrapper.distribution.store import InstalledAddon, InstalledBundle
    from ayon_launcher.bootstrapper.runtime import core_paths, launcher_python_paths, python_path
    from ayon_launcher.pipeline.handoff import core_sys_path

    package = tmp_path / "deps_pkg"
    (package / "dependencies").mkdir(parents=True)
    (package / "runtime").mkdir()
    addons = []
    for name in ("applications", "core"):
        (tmp_path / f"{name}_1").mkdir()
        addons.append(InstalledAddon(name, "1", str(tmp_path / f"{name}_1")))
    addons.append(InstalledAddon("gone", "1", str(tmp_path / "gone_1")))  # no folder
    installed = InstalledBundle("b", addons=addons, dependency_package=str(package))
    python_paths, sys_paths = core_paths(installed)
    assert python_paths == [str(tmp_path / "applications_1"), str(tmp_path / "core_1"),
                            str(package / "dependencies")]
    assert sys_paths == [str(package / "runtime")]
    result = BootstrapResult(python_paths=python_paths, sys_paths=sys_paths, core=True)
    assert core_sys_path(result) == [str(package / "runtime"), str(package / "dependencies"),
                                     str(tmp_path / "core_1"), str(tmp_path / "applications_1")]
    # Children: the launcher's own modules (ayon_common, ayon_api: DCC integrations import
    # them from the launcher), what was there, the add-ons and dependencies; never runtime/.
    own = launcher_python_paths()
    import ayon_api

    import ayon_common

    assert own == list(dict.fromkeys(str(Path(m.__file__).parent.parent)
                                     for m in (ayon_common, ayon_api)))
    joined = python_path(result, os.pathsep.join(["/studio/lib", str(tmp_path / "core_1")]))
    assert joined.split(os.pathsep) == [*own, "/studio/lib", str(tmp_path / "core_1"),
                                        str(tmp_path / "applications_1"),
                                        str(package / "dependencies")]


# --- ayon_common: exactly the names ayon-core imports --------------------------------------

def _ayon_core_imports() -> dict[str, set[str]]:
    """module -> names, from every `from ayon_common... import ...` in ayon-core's client."""
    found: dict[str, set[str]] = {}
    for path in CORE_CLIENT.rglob("*.py"):
        tree = ast.parse(path.read_bytes(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ayon_common"):
                found.setdefault(node.module, set()).update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("ayon_common"):
                        found.setdefault(alias.name, set())
    return found


def test_ayon_common_has_exactly_what_ayon_core_imports():
    if not CORE_CLIENT.is_dir():
        pytest.skip(f"ayon-core sources not unpacked at {CORE_CLIENT} (../shared/peers)")
    import importlib

    wanted = _ayon_core_imports()
    assert wanted, "ayon-core imports nothing from ayon_common any more: check the scan"
    for module_name, names in wanted.items():
        module = importlib.import_module(module_name)
        assert set(module.__all__) >= names, module_name
        for name in names:
            assert callable(getattr(module, name)), (module_name, name)
    ours = {
        "ayon_common.utils": {"get_local_site_id"},
        "ayon_common.connection.credentials": {"change_user_ui", "ChangeUserResult"},
    }
    # Nothing beyond what ayon-core uses (and the result type change_user_ui returns).
    for module_name, names in ours.items():
        assert set(importlib.import_module(module_name).__all__) == names
        assert wanted.get(module_name, set()) <= names


def test_change_user_result_reads_as_ayon_core_reads_it():
    from ayon_common.connection.credentials import ChangeUserResult

    same = ChangeUserResult(False, "http://a", "t1", "ann", "http://a", "t1", "ann")
    assert not (same.token_changed or same.restart or same.shutdown)
    new_token = ChangeUserResult(False, "http://a", "t1", "ann", "http://a", "t2", "bob")
    assert new_token.token_changed and not new_token.restart
    new_server = ChangeUserResult(False, "http://a", "t1", "ann", "http://b", "t3", "ann")
    assert new_server.restart and new_server.token_changed
    assert ChangeUserResult(True, "http://a", "t1", "ann", None, None, None).shutdown
    assert "t2" not in repr(new_token)


CHANGE_USER = (
    "import json; from ayon_common.connection.credentials import change_user_ui; "
    "r = change_user_ui(); print(json.dumps({'changed': r.token_changed, 'restart': r.restart,"
    " 'shutdown': r.shutdown, 'user': r.new_username, 'url': r.new_url}))"
)


def test_change_user_ui_shows_this_launchers_login(tmp_path, local_server):
    """ayon-core's tray calls change_user_ui(); the login dialog (offscreen, answered by the
    test hook) logs in for real against the local server and stores the new login."""
    from ayon_launcher.gui.display import LOGIN_DIALOG_TEST_HOOK_ENV

    env = isolated_env(tmp_path, local_server.url)
    env.update({"AYON_API_KEY": local_server.service_api_key, "AYON_IN_LOGIN_MODE": "1",
                LOGIN_DIALOG_TEST_HOOK_ENV: "admin:" + local_server.admin_password})

    def change(**extra: str) -> dict:
        done = subprocess.run([sys.executable, "-c", CHANGE_USER], env={**env, **extra},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert change() == {"changed": True, "restart": False, "shutdown": False, "user": "admin",
                        "url": local_server.url}
    stored = json.loads((tmp_path / "config" / "credentials.json").read_text())
    assert "admin" in json.dumps(stored)
    # Closing the dialog changes nothing.
    assert change(**{LOGIN_DIALOG_TEST_HOOK_ENV: "cancel"})["changed"] is False
    # Credentials given by the caller (AYON_IN_LOGIN_MODE=0) cannot be changed here.
    assert change(AYON_IN_LOGIN_MODE="0") == {"changed": False, "restart": False,
                                              "shutdown": False, "user": None, "url": None}


# --- AYON_ROOT, AYON_EXECUTABLE, app_launcher ----------------------------------------------

def test_ayon_root_and_executable_reenter_this_launcher(monkeypatch):
    from ayon_launcher import __version__
    from ayon_launcher.bootstrapper.runtime import executable, launcher_root

    root = Path(launcher_root())
    namespace: dict = {}
    exec((root / "version.py").read_text(), namespace)  # as ayon-core reads it
    assert namespace["__version__"] == __version__
    exe = executable()
    launch = [exe] + ([str(root / "start.py")] if "python" in Path(exe).name.lower() else [])
    done = subprocess.run([*launch, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and __version__ in done.stdout, done.stderr
    # Without an installed `ayon` beside python: python + AYON_ROOT/start.py (ayon-core adds
    # start.py for a name with "python" in it), which re-enters the launcher too, from any
    # folder (start.py's own folder must not shadow modules).
    python = sys.executable
    monkeypatch.setattr(sys, "argv", ["x"])
    monkeypatch.setattr(sys, "executable", "/nonexistent/bin/python3")
    assert executable() == "/nonexistent/bin/python3"
    done = subprocess.run([python, str(root / "start.py"), "--version"], capture_output=True,
                          text=True, timeout=60, cwd=str(root))
    assert done.returncode == 0 and __version__ in done.stdout, done.stderr


def test_app_launcher_starts_the_app_detached(tmp_path):
    from ayon_launcher.bootstrapper.runtime import executable

    app_launcher = Path(executable()).parent / "app_launcher"
    if sys.platform == "win32" or not app_launcher.is_file():
        pytest.skip("app_launcher is a Linux/macOS helper installed beside `ayon`")
    report = tmp_path / "app.json"
    app = tmp_path / "app.py"
    app.write_text(
        "import json, os, sys, time\n"
        "print('out line'); sys.stderr.write('err line\\n'); sys.stdout.flush()\n"
        f"json.dump({{'pid': os.getpid(), 'sid': os.getsid(0), 'ppid': os.getppid(),"
        f" 'var': os.environ.get('APP_VAR'), 'pidfile': os.environ.get('AYON_PID_FILE'),"
        f" 'argv': sys.argv[1:]}}, open({str(report)!r}, 'w'))\n"
        "time.sleep(1)\n")
    data = {"args": [sys.executable, str(app), "a b"], "env": {"APP_VAR": "from json"},
            "stdout": str(tmp_path / "out.txt"), "stderr": str(tmp_path / "out.txt")}
    job = tmp_path / "launch.json"
    job.write_text(json.dumps(data))
    done = subprocess.run([str(app_launcher), str(job)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    pid = json.loads(job.read_text())["pid"]
    deadline = time.monotonic() + 30
    while not report.exists() or not report.read_text().endswith("}"):
        assert time.monotonic() < deadline, "the app never ran"
        time.sleep(0.05)
    seen = json.loads(report.read_text())
    assert seen["pid"] == pid
    assert seen["sid"] == pid  # a session of its own: it outlives the launcher
    assert seen["var"] == "from json" and seen["argv"] == ["a b"]
    deadline = time.monotonic() + 30
    while "err line" not in (tmp_path / "out.txt").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (tmp_path / "out.txt").read_text().splitlines() == ["out line", "err line"]
    bad = subprocess.run([str(app_launcher), "nope.txt"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("app_launcher: error: ")
