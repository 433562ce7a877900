"""Broken add-ons (exit at import, raising hooks) never take the launcher or the others down.

Real add-on packages uploaded to the local server, real CLI subprocesses.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_message

BROKEN = {
    # A classic mistake: parsing sys.argv when imported.
    "exit_import": """
        import argparse
        argparse.ArgumentParser().parse_args(["--studio-flag"])
    """,
    "raise_cli": """
        from ayon_launcher.pipeline.addons import AYONAddon, TrayAction

        class Addon(AYONAddon):
            name = "raise_cli"
            version = "1.0.0"

            def cli(self, addon_group):
                raise TypeError("cli() exploded")

            def environment(self):
                raise SystemExit(3)
    """,
}


def broken_package(tmp_path: Path, name: str, code: str) -> Path:
    client = io.BytesIO()
    with zipfile.ZipFile(client, "w") as zf:
        zf.writestr(f"{name}_client/__init__.py", textwrap.dedent(code))
    path = tmp_path / f"{name}-1.0.0.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("package.py", f'name = "{name}"\nversion = "1.0.0"\n')
        zf.writestr("private/client.zip", client.getvalue())
    return path


@pytest.fixture
def env(fresh_server, tmp_path):
    for name, code in BROKEN.items():
        fresh_server.add_addon_zip(broken_package(tmp_path, name, code))
    fresh_server.create_bundle("broken", {"demo_tools": "1.0.0", "exit_import": "1.0.0",
                                          "raise_cli": "1.0.0"})
    environment = isolated_env(tmp_path, fresh_server.url)
    environment["AYON_API_KEY"] = fresh_server.service_api_key
    environment["AYON_BUNDLE_NAME"] = "broken"
    return environment


def test_other_addons_still_work(env, tmp_path):
    done = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from demo_tools! (demo_tools 1.0.0)"
    assert "exit_import 1.0.0 failed to load: called sys.exit(2)" in done.stderr
    assert "raise_cli: its cli() failed: TypeError: cli() exploded" in done.stderr
    assert "Traceback" not in done.stderr

    script = tmp_path / "env.py"
    script.write_text("import json, os; print(json.dumps(dict(os.environ)))")
    ran = run_ayon(["--headless", str(script)], env)
    assert ran.returncode == 0, ran.stderr
    child = json.loads(ran.stdout)
    assert child["AYON_BUNDLE_NAME"] == "broken"
    assert child["AYON_DEMO_TOOLS_VERSION"] == "1.0.0"
    assert "raise_cli: environment() failed: called sys.exit(3)" in ran.stderr


def test_broken_addon_commands_are_one_line_errors(env):
    for name, reason in (("raise_cli", "its cli() failed"), ("exit_import", "sys.exit(2)")):
        done = run_ayon(["--headless", "addon", name, "anything"], env)
        assert done.returncode == 2
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith(f"ayon: error: add-on '{name}' failed") and reason in last
    unknown = run_ayon(["--headless", "addon", "nope", "x"], env)
    # Only add-ons that registered commands are offered.
    assert error_message(unknown.stderr.strip().splitlines()[-1]) == (
        "ayon: error: unknown add-on 'nope' (add-ons with commands: demo_tools)")
