"""``ayon addon`` / ``ayon module`` end to end: real CLI subprocesses against the local server."""

from __future__ import annotations

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_messages


def messages(stderr: str) -> list[str]:
    """stderr without the log lines of a first sync (``INFO: installed ...``)."""
    return error_messages([line for line in stderr.strip().splitlines()
                           if not line.startswith("INFO: ")])


@pytest.fixture
def env(tmp_path, local_server):
    env = isolated_env(tmp_path, local_server.url)
    env["AYON_API_KEY"] = local_server.service_api_key
    return env


def test_addon_hello_production_then_up_to_date(env, tmp_path):
    done = run_ayon(["addon", "demo_tools", "hello", "--name", "Ann"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from demo_tools, Ann! (demo_tools 1.0.0)"
    assert (tmp_path / "local" / "addons" / "demo_tools_1.0.0").is_dir()
    again = run_ayon(["addon", "demo_tools", "hello"], env)
    assert again.returncode == 0, again.stderr
    assert "Hello from demo_tools! (demo_tools 1.0.0)" in again.stdout


def test_staging_and_named_bundle(env):
    staging = run_ayon(["--use-staging", "addon", "demo_tools", "hello"], env)
    assert staging.returncode == 0, staging.stderr
    assert "(demo_tools 1.1.0)" in staging.stdout
    named = run_ayon(["addon", "demo_tools", "hello"], {**env, "AYON_BUNDLE_NAME": "demo_staging"})
    assert named.returncode == 0, named.stderr
    assert "(demo_tools 1.1.0)" in named.stdout


def test_missing_named_bundle_is_one_clear_line(env):
    done = run_ayon(["--bundle", "nope", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 5
    lines = messages(done.stderr)
    assert len(lines) == 1 and "'nope'" in lines[0]
    assert "demo_production" in lines[0] and "demo_staging" in lines[0]


def test_module_alias_with_deprecation_note(env):
    done = run_ayon(["module", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    assert "Hello from demo_tools! (demo_tools 1.0.0)" in done.stdout
    assert "deprecated" in done.stderr and "ayon addon" in done.stderr


def test_unknown_addon_and_unknown_command(env):
    done = run_ayon(["addon", "nope", "hello"], env)
    assert done.returncode == 2
    assert messages(done.stderr) == [
        "ayon: error: unknown add-on 'nope' (add-ons with commands: applications, demo_tools)"
    ]
    done = run_ayon(["addon", "demo_tools", "bye"], env)
    assert done.returncode == 2
    assert messages(done.stderr) == [
        "ayon: error: add-on 'demo_tools' has no command 'bye' (commands: hello)"
    ]


def test_skip_bootstrap_has_no_addons(env):
    done = run_ayon(["--skip-bootstrap", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 2
    assert "unknown add-on 'demo_tools' (add-ons with commands: none)" in done.stderr


def test_two_launchers_at_once_share_one_store(env, tmp_path):
    import subprocess
    import sys

    from ayon_launcher.bootstrapper.distribution import store

    cmd = [sys.executable, "-m", "ayon_launcher", "addon", "demo_tools", "hello"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert all("(demo_tools 1.0.0)" in out for out, _ in outputs)
    addons = tmp_path / "local" / "addons"
    assert sorted(p.name for p in addons.iterdir()) == ["applications_1.0.0", "demo_tools_1.0.0"]
    assert store.read_metadata(addons / "demo_tools_1.0.0")["name"] == "demo_tools"


def test_addon_without_command_shows_its_help(env):
    done = run_ayon(["addon", "demo_tools"], env)
    assert done.returncode == 2
    assert done.stdout.startswith("Usage: ayon addon demo_tools")
    assert "hello" in done.stdout and "Print a greeting" in done.stdout
    assert "ayon: error" not in done.stderr


def test_one_launcher_never_says_it_waits_for_another(env):
    # Its own download workers share the store lock; only another process is "another launcher".
    done = run_ayon(["addon", "demo_tools", "hello"], env)
    assert done.returncode == 0, done.stderr
    assert "installed addon demo_tools" in done.stderr  # a real first sync happened
    assert "waiting for another AYON launcher" not in done.stderr
