"""The hand-off to ayon-core, end to end against the local server.

The hand-off to ayon-core, end to end against the local server: a bundle with a `core`
add-on runs commands through ``ayon_core.cli.main()`` after bootstrap, scripts run without
importing it, offline too. ayon-core's own behaviour is covered against the real server (see
test_studio_core.py); here a stand-in `core` add-on whose ``ayon_core.cli.main()`` writes
down what it was given (argv, sys.path, variables) checks the launcher's side exactly."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_message

STANDIN_CLI = '''
import json, os, sys

def main():
    with open(os.environ["STANDIN_OUT"], "w") as handle:
        json.dump({"argv": sys.argv, "sys_path": sys.path, "env": dict(os.environ),
                   "deps": __import__("standin_dep").VALUE,
                   "runtime": __import__("standin_runtime").VALUE}, handle)
    sys.exit(int(os.environ.get("STANDIN_EXIT", "0")))
'''


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def core_package(path: Path) -> Path:
    """A server package of the stand-in `core` add-on 1.0.0."""
    client = _zip({"ayon_core/__init__.py": "", "ayon_core/cli.py": STANDIN_CLI})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("package.py", 'name = "core"\nversion = "1.0.0"\n')
        zf.writestr("private/client.zip", client)
    return path


DEPS = {"dependencies/standin_dep.py": "VALUE = 'dependency package'\n",
        "runtime/standin_runtime.py": "VALUE = 'runtime'\n"}


@pytest.fixture(scope="module")
def core_server(tmp_path_factory):
    """A local server with a `core_standin` bundle: a `core` add-on and a dependency package
    with `dependencies/` and `runtime/`."""
    from ayon_launcher.localserver.seed import add_dependency_package, platform_name
    from ayon_launcher.localserver.testing import start_test_server

    folder = tmp_path_factory.mktemp("core-handoff")
    with start_test_server(folder / "server", demo=True) as server:
        server.add_addon_zip(core_package(folder / "core-1.0.0.zip"))
        add_dependency_package(server.store, "standin_deps.zip", _zip(DEPS))
        server.create_bundle("core_standin", {"core": "1.0.0"},
                             {platform_name(): "standin_deps.zip"})
        yield server


@pytest.fixture
def env(tmp_path, core_server):
    env = isolated_env(tmp_path, core_server.url)
    env.update(AYON_API_KEY=core_server.service_api_key, STANDIN_OUT=str(tmp_path / "out.json"))
    return env


def _seen(env) -> dict:
    return json.loads(Path(env["STANDIN_OUT"]).read_text())


def test_commands_go_to_ayon_core_with_the_official_arguments(env, tmp_path):
    done = run_ayon(["--headless", "--bundle", "core_standin", "--verbose", "info", "addon",
                     "applications", "extractenvironments", "out.json", "--project",
                     "demo_Commercial", "--debug", "--skip-headers"], env)
    assert done.returncode == 0, done.stderr
    seen = _seen(env)
    child = seen["env"]
    assert seen["argv"] == [child["AYON_EXECUTABLE"], "addon", "applications",
                            "extractenvironments", "out.json", "--project", "demo_Commercial"]
    assert Path(child["AYON_EXECUTABLE"]).name in ("ayon", "ayon_console") or \
        "python" in Path(child["AYON_EXECUTABLE"]).name
    local = tmp_path / "local"
    core = str(local / "addons" / "core_1.0.0")
    package = local / "dependency_packages" / "standin_deps"
    # sys.path: runtime/, dependencies/, add-ons first; PYTHONPATH: add-ons, dependencies/.
    assert seen["sys_path"][:3] == [str(package / "runtime"), str(package / "dependencies"),
                                    core]
    assert (seen["deps"], seen["runtime"]) == ("dependency package", "runtime")
    python_path = child["PYTHONPATH"].split(os.pathsep)
    assert python_path[-2:] == [core, str(package / "dependencies")]
    # DCCs import ayon_api and ayon_common from the launcher, as from the official one.
    import ayon_api

    assert str(Path(ayon_api.__file__).parent.parent) in python_path[:2]
    assert str(package / "runtime") not in python_path
    expected = {"AYON_BUNDLE_NAME": "core_standin", "AYON_STUDIO_BUNDLE_NAME": "core_standin",
                "AYON_PROJECT_NAME": "demo_Commercial", "AYON_HEADLESS_MODE": "1",
                "AYON_DEBUG": "1", "AYON_LOG_LEVEL": "20", "AYON_IN_LOGIN_MODE": "0",
                "AYON_ADDONS_DIR": str(local / "addons"),
                "AYON_DEPENDENCIES_DIR": str(local / "dependency_packages"),
                "AYON_SERVER_URL": env["AYON_SERVER_URL"], "USE_AYON_SERVER": "1",
                "AYON_DEFAULT_SETTINGS_VARIANT": "production"}
    assert {k: child.get(k) for k in expected} == expected
    assert child["AYON_SITE_ID"] == (local / "site_id").read_text()


def test_ayon_core_exit_code_is_ours(env):
    done = run_ayon(["--headless", "--bundle", "core_standin", "version"],
                    {**env, "STANDIN_EXIT": "3"})
    assert done.returncode == 3, done.stderr
    assert _seen(env)["argv"][1:] == ["version"]


def test_unknown_project_is_one_line(env):
    # --project chooses the project's bundle: a project the server does not have is bad input.
    done = run_ayon(["--headless", "--bundle", "core_standin", "--project", "nope", "version"],
                    env)
    assert done.returncode == 2, done.stderr
    assert error_message(done.stderr.strip().splitlines()[-1]) == (
        "ayon: error: project 'nope' does not exist on the server (--project, "
        "AYON_PROJECT_NAME)")
    assert not Path(env["STANDIN_OUT"]).exists()


def test_scripts_run_bootstrapped_without_ayon_core(env, tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        "import json, os, sys\n"
        "import standin_dep, standin_runtime\n"
        "json.dump({'argv': sys.argv, 'core': 'ayon_core' in sys.modules,"
        " 'click': 'click' in sys.modules, 'bundle': os.environ.get('AYON_BUNDLE_NAME')},"
        " open(os.environ['STANDIN_OUT'], 'w'))\n")
    done = run_ayon(["--bundle", "core_standin", str(script), "--headless", "x"], env)
    assert done.returncode == 0, done.stderr
    assert _seen(env) == {"argv": [str(script), "--headless", "x"], "core": False,
                          "click": False, "bundle": "core_standin"}
    # --skip-bootstrap: no server call at all (the URL points at nothing).
    done = run_ayon(["--skip-bootstrap", str(script)],
                    {**env, "AYON_SERVER_URL": "http://127.0.0.1:9"}, timeout=60)
    assert done.returncode == 1  # standin_dep is not on the path without a bootstrap
    assert "ModuleNotFoundError" in done.stderr and "127.0.0.1:9" not in done.stderr


def test_bundles_without_core_keep_the_builtin_commands(env):
    done = run_ayon(["--headless", "addon", "demo_tools", "hello", "--name", "x"], env)
    assert done.returncode == 0, done.stderr
    assert "Hello from demo_tools, x!" in done.stdout
    assert not Path(env["STANDIN_OUT"]).exists()


def test_core_bundle_starts_offline(tmp_path, tmp_path_factory):
    """The bundle installed once, the server gone: the hand-off still happens."""
    from ayon_launcher.localserver.seed import add_dependency_package, platform_name
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("offline-core"), demo=True) as server:
        server.add_addon_zip(core_package(tmp_path / "core-1.0.0.zip"))
        add_dependency_package(server.store, "standin_deps.zip", _zip(DEPS))
        server.create_bundle("core_production", {"core": "1.0.0"},
                             {platform_name(): "standin_deps.zip"}, is_production=True)
        env = isolated_env(tmp_path, server.url)
        env.update(AYON_API_KEY=server.service_api_key, STANDIN_OUT=str(tmp_path / "out.json"))
        first = run_ayon(["--headless", "version"], env)
        assert first.returncode == 0, first.stderr
    os.remove(env["STANDIN_OUT"])
    again = run_ayon(["--headless", "version"], env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "starting OFFLINE with bundle core_production" in again.stderr
    assert _seen(env)["argv"][1:] == ["version"]


def test_ayon_login_shows_the_login_first(env, core_server, tmp_path):
    """--ayon-login: this launcher's login dialog (offscreen, answered by the test hook) comes
    first; the new login is the one children get, as the user's own (AYON_IN_LOGIN_MODE=1)."""
    from ayon_launcher.gui.display import LOGIN_DIALOG_TEST_HOOK_ENV

    script = tmp_path / "who.py"
    script.write_text("import json, os\nimport ayon_api\n"
                      "print(json.dumps([ayon_api.get_user()['name'],"
                      " os.environ['AYON_IN_LOGIN_MODE']]))\n")
    hooked = {**env, LOGIN_DIALOG_TEST_HOOK_ENV: f"admin:{core_server.admin_password}"}
    done = run_ayon(["--ayon-login", "--bundle", "core_standin", str(script)], hooked)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["admin", "1"]
    # The same through a command that goes to ayon-core.
    done = run_ayon(["--ayon-login", "--bundle", "core_standin", "version"], hooked)
    assert done.returncode == 0, done.stderr
    assert _seen(env)["env"]["AYON_IN_LOGIN_MODE"] == "1"
    # Closing the dialog: nothing runs.
    Path(env["STANDIN_OUT"]).unlink()
    done = run_ayon(["--ayon-login", "--bundle", "core_standin", "version"],
                    {**env, LOGIN_DIALOG_TEST_HOOK_ENV: "cancel"})
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("ayon: error: login cancelled")
    assert not Path(env["STANDIN_OUT"]).exists()
