"""A workstation without the ``[server]`` extra: everything but the local server works.

The launcher runs in subprocesses where the extra's packages (FastAPI, uvicorn, argon2,
graphql-core, python-multipart, Starlette) cannot be imported. Simulated rather than real:
the test environment must have them (the session's embedded server runs on them), and a
second virtual environment without them would cost a minute of installing per run. The
simulation is a ``sitecustomize`` on ``PYTHONPATH`` that puts a finder first on
``sys.meta_path`` raising ``ModuleNotFoundError`` for those names: the same exception, at
the same import statement, as a package that is not installed. The finder also writes every
attempt to a file, so that an import tried and caught (a fallback that hides the
dependency) fails the test too. (``benchmarks/install_size.py`` installs the launcher for
real without the extra.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from ayon_launcher.localserver import EXTRA_MODULES
from conftest import isolated_env, run_ayon, start_tray_logging_in
from failure_helpers import error_messages
from pty_helpers import run_ayon_pty

BLOCKED = sorted({"starlette", *(n for names in EXTRA_MODULES
                                 for n in ((names,) if isinstance(names, str) else names))})
EXTRA_ERROR = 'ayon: error: the local server is not installed: pip install "ayon-launcher[server]"'

SHIM = '''\
"""Test shim (tests/test_without_server_extra.py): the [server] extra is not installed."""
import os
import sys
import traceback

BLOCKED = {blocked!r}


class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in BLOCKED:
            return None
        with open({attempts!r}, "a", encoding="utf-8") as out:
            out.write(f"{{os.getpid()}} import {{name}}\\n"
                      + "".join(traceback.format_stack(limit=12)) + "\\n")
        raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)


sys.meta_path.insert(0, _NotInstalled())
'''


def without_extra(tmp_path: Path, env: dict[str, str]) -> tuple[dict[str, str], Path]:
    """``env`` in which the extra cannot be imported; the file that lists attempts."""
    shim = tmp_path / "no-server-extra"
    shim.mkdir()
    attempts = tmp_path / "blocked-imports.txt"
    (shim / "sitecustomize.py").write_text(SHIM.format(blocked=BLOCKED,
                                                       attempts=str(attempts)))
    path = [str(shim), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": ":".join(path)}, attempts


def attempted(attempts: Path) -> str:
    return attempts.read_text() if attempts.exists() else ""


def test_the_simulation_is_an_import_failure(tmp_path):
    env, attempts = without_extra(tmp_path, isolated_env(tmp_path))
    probe = "import fastapi" if "fastapi" in BLOCKED else "import uvicorn"
    done = subprocess.run([sys.executable, "-c", f"{probe}\nprint('imported')"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "imported" not in done.stdout
    assert "ModuleNotFoundError: No module named" in done.stderr
    assert "import " in attempted(attempts)
    # Without the shim the same environment imports it: the shim is what takes it away.
    plain = subprocess.run([sys.executable, "-c", probe], env=isolated_env(tmp_path),
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr


def test_server_commands_say_which_extra_to_install(tmp_path):
    env, attempts = without_extra(tmp_path, isolated_env(tmp_path))
    data = tmp_path / "server-data"
    for args in (["server", "--demo", "--port", "0", "--data-dir", str(data)],
                 ["--local-server", "--headless"]):
        done = run_ayon(args, {**env, "AYON_LOCAL_SERVER_DIR": str(data)})
        assert done.returncode == 2, (args, done.stderr)
        assert error_messages(done.stderr.strip().splitlines()) == [EXTRA_ERROR], args
        assert done.stdout == ""
    assert not data.exists()  # nothing half-made
    assert "fastapi" in attempted(attempts)  # it was tried, and the import failed


def test_login_sync_scripts_and_commands_need_no_server_packages(tmp_path, any_server):
    """A person logs in at a terminal, the bundle is synchronised, an add-on command, a script
    and extractenvironments run: none of it even tries to import the extra."""
    env, attempts = without_extra(tmp_path, isolated_env(tmp_path, any_server.url))
    login = run_ayon_pty(["--headless", "addon", "demo_tools", "hello"], env,
                         [("User name", "admin"), ("Password", any_server.admin_password)])
    assert login.returncode == 0, login.output
    assert "Hello from demo_tools!" in login.output
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent("""\
        import os, sys
        print("job ran for", os.environ["AYON_BUNDLE_NAME"])
        sys.exit(7)
    """))
    run = run_ayon(["--headless", str(script)], env)
    assert run.returncode == 7, run.stderr
    assert "job ran for demo_production" in run.stdout
    out = tmp_path / "env.json"
    extract = run_ayon(["--headless", "extractenvironments", str(out)], env)
    assert extract.returncode == 0, extract.stderr
    assert json.loads(out.read_text())["AYON_SERVER_URL"] == any_server.url
    assert attempted(attempts) == ""


def test_tray_with_the_login_dialog_needs_no_server_packages(tmp_path, local_server):
    """The desktop path: the Qt login dialog (offscreen, answered by its test hook), the
    sync, and the tray with the add-ons' menu."""
    env, attempts = without_extra(tmp_path, isolated_env(tmp_path, local_server.url))
    data = start_tray_logging_in(tmp_path, env, local_server)
    assert "Say hello" in data["menu"]
    assert attempted(attempts) == ""
