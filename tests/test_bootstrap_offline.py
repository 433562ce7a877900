"""Offline start: the last fully installed bundle is used when the server cannot be reached."""

from __future__ import annotations

from conftest import isolated_env, run_ayon
from failure_helpers import error_message


def test_offline_uses_last_installed_bundle_then_errors_without_one(fresh_server, tmp_path):
    env = isolated_env(tmp_path / "a", fresh_server.url)
    env["AYON_API_KEY"] = fresh_server.service_api_key
    online = run_ayon(["--use-staging", "addon", "demo_tools", "hello"], env)
    assert online.returncode == 0, online.stderr
    assert "(demo_tools 1.1.0)" in online.stdout

    fresh_server.stop()
    offline = run_ayon(["--use-staging", "addon", "demo_tools", "hello"], env, timeout=120)
    assert offline.returncode == 0, offline.stderr
    assert "(demo_tools 1.1.0)" in offline.stdout
    assert "OFFLINE" in offline.stderr and "demo_staging" in offline.stderr
    # Settings come from the snapshot taken at the last sync.
    assert "Hello from demo_tools!" in offline.stdout

    nothing = isolated_env(tmp_path / "b", fresh_server.url)
    nothing["AYON_API_KEY"] = fresh_server.service_api_key
    failed = run_ayon(["addon", "demo_tools", "hello"], nothing, timeout=120)
    assert failed.returncode == 3
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert ("; no production bundle was ever fully installed here, so the launcher cannot "
            "start offline") \
        in lines[-1]

    # A named bundle is that one or nothing, and the message says it was never installed.
    named = run_ayon(["--bundle", "nope", "addon", "demo_tools", "hello"], env, timeout=120)
    assert named.returncode == 3
    lines = named.stderr.strip().splitlines()
    assert "; bundle 'nope' was never fully installed here, so the launcher cannot start " \
        "offline" in lines[-1]
    assert "demo_staging" not in named.stderr and "(demo_tools" not in named.stdout


def test_offline_start_asked_for_a_context_is_exit_3(fresh_server, tmp_path):
    """Started offline from the installed bundle, a command that needs the server (a context,
    a publish) says so in one line, exit 3 (server unreachable), and writes nothing."""
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = fresh_server.service_api_key
    online = run_ayon(["addon", "demo_tools", "hello"], env)
    assert online.returncode == 0, online.stderr
    fresh_server.stop()

    out = tmp_path / "env.json"
    context = run_ayon(["--headless", "extractenvironments", str(out), "--project",
                        "demo_Commercial", "--asset", "robot", "--task", "modeling",
                        "--app", "maya/2024"], env, timeout=120)
    assert context.returncode == 3, context.stderr
    assert "OFFLINE" in context.stderr  # the start itself worked, offline
    lines = [line for line in context.stderr.splitlines() if line.startswith("ayon: error:")]
    assert len(lines) == 1 and "Traceback" not in context.stderr, context.stderr
    assert error_message(lines[0]) == (
        "ayon: error: the context needs the AYON server, but it cannot be reached "
        "(started offline)")
    assert not out.exists()
    # Only a project: its name cannot be checked offline, so it is no context either.
    partial = run_ayon(["--headless", "extractenvironments", str(out), "--project", "nope"],
                       env, timeout=120)
    assert partial.returncode == 3, partial.stderr
    assert error_message([line for line in partial.stderr.splitlines()
                          if line.startswith("ayon: error:")][-1]) == (
        "ayon: error: the context needs the AYON server, but it cannot be reached "
        "(started offline)")
    assert not out.exists()
