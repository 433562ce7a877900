"""Self-update and web actions against ynput's real AYON server (tests/harness)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ayon_launcher.selfupdate import identity
from ayon_launcher.version import __version__
from conftest import isolated_env, run_ayon
from test_selfupdate import NEW, _run_script, _running


def _env(tmp_path: Path, server, token: str) -> dict[str, str]:
    env = isolated_env(tmp_path, server.url)
    env["AYON_API_KEY"] = token
    return env


def _demo(server) -> dict:
    return server.bundle("demo_production")


def test_real_server_switch_and_back(real_server, built, tmp_path):
    admin = real_server.login_token()
    upload = run_ayon(["installer", "upload", str(built["installer"]), "--force"],
                      _env(tmp_path / "up", real_server, admin))
    assert upload.returncode == 0, upload.stderr
    listed = real_server.request("GET", "/api/desktop/installers").json()["installers"]
    record = next(r for r in listed if r["filename"] == built["installer"].name)
    assert identity.is_own_installer(record), record  # the identity survives the real server

    demo = _demo(real_server)
    new_bundle, back_bundle = "selfupdate_new", "selfupdate_back"
    for name, version in ((new_bundle, identity.installer_version(NEW)),
                          (back_bundle, identity.installer_version(__version__))):
        real_server.delete_bundle(name)
        real_server.create_bundle(name, demo["addons"], demo.get("dependencyPackages"),
                                  installer_version=version)
    env = _env(tmp_path, real_server, real_server.service_api_key)
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(built["wheelhouse"]))
    try:
        result = _run_script(env, tmp_path, extra=("--bundle", new_bundle))
        assert result.returncode == 0, result.stderr
        version, python = _running(result)
        assert version == NEW and "restarting with it" in result.stderr
        back = _run_script(env, tmp_path, python=python, extra=("--bundle", back_bundle))
        assert back.returncode == 0, back.stderr
        assert _running(back) == (__version__, sys.executable)
    finally:
        real_server.delete_bundle(new_bundle)
        real_server.delete_bundle(back_bundle)


def test_real_server_official_version_refused_when_addons_need_more(real_server, tmp_path):
    """A bundle naming an official launcher its add-ons need a newer contract of: refusal."""
    demo = _demo(real_server)
    name = "selfupdate_official"
    real_server.delete_bundle(name)
    real_server.create_bundle(name, demo["addons"], demo.get("dependencyPackages"),
                              installer_version="1.6.4")
    env = _env(tmp_path, real_server, real_server.service_api_key)
    try:
        ok = _run_script(env, tmp_path, extra=("--bundle", name))
        # The demo add-ons declare no launcher range: one warning, and it runs.
        assert ok.returncode == 0, ok.stderr
        assert _running(ok)[0] == __version__
        assert sum("official AYON launcher 1.6.4" in line
                   for line in ok.stderr.splitlines()) == 1, ok.stderr
    finally:
        real_server.delete_bundle(name)


def _dispatch_action(server, token: str, *, args: list[str], variant: str,
                     user_token: str | None = None) -> str:
    """The launcher action event, as the server's /api/actions/execute makes it."""
    body = {"topic": "action.launcher", "hash": token, "finished": False,
            "summary": {"addon_name": "selftest", "addon_version": "1.0.0",
                        "variant": variant, "action_identifier": "selftest-run"},
            "payload": {"args": args, "context": {}}}
    response = server.request("POST", "/api/events", json=body, token=user_token)
    return response.json()["id"]


def _event(server, event_id: str) -> dict:
    return server.request("GET", f"/api/events/{event_id}").json()


def test_real_server_web_action_runs_in_its_variant_and_finishes(real_server, tmp_path):
    out = tmp_path / "action.json"
    script = tmp_path / "action.py"
    script.write_text(
        "import json, os, sys\n"
        f"json.dump({{k: os.environ.get(k) for k in ('AYON_BUNDLE_NAME', 'AYON_USE_STAGING', "
        f"'AYON_WEBACTION_EVENT_ID')}} | {{'args': sys.argv[1:]}}, open({str(out)!r}, 'w'))\n")
    admin = real_server.login_token()
    token = os.urandom(32).hex()
    event_id = _dispatch_action(real_server, token, args=[str(script), "one", "two"],
                                variant="staging", user_token=admin)
    uri = f"ayon-launcher://action?server_url={real_server.url}&token={token}"
    result = run_ayon(["--headless", uri], _env(tmp_path, real_server, admin))
    assert result.returncode == 0, result.stderr
    seen = json.loads(out.read_text())
    assert seen["args"] == ["one", "two"]
    assert seen["AYON_WEBACTION_EVENT_ID"] == event_id
    assert seen["AYON_BUNDLE_NAME"] == "demo_staging"  # the staging variant's bundle
    assert _event(real_server, event_id)["status"] == "finished"

    # The token is used: a second click of the same link is refused in one line.
    again = run_ayon([uri], _env(tmp_path, real_server, admin))
    assert again.returncode == 2 and again.stderr.startswith("ayon: error: ")


def test_real_server_web_action_of_a_failing_command_fails(real_server, tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("raise SystemExit(3)\n")
    admin = real_server.login_token()
    token = os.urandom(32).hex()
    event_id = _dispatch_action(real_server, token, args=[str(script)], variant="production",
                                user_token=admin)
    uri = f"ayon-launcher://action?server_url={real_server.url}&token={token}"
    result = run_ayon(["--headless", uri], _env(tmp_path, real_server, admin))
    assert result.returncode == 3
    assert _event(real_server, event_id)["status"] == "failed"


def test_real_server_web_action_declined_login_aborts(real_server, tmp_path):
    """The action belongs to the admin; this machine is logged in as the service user and
    nobody can log in (no terminal, no display): the action is aborted with the reason."""
    admin = real_server.login_token()
    token = os.urandom(32).hex()
    event_id = _dispatch_action(real_server, token, args=["--version"], variant="production",
                                user_token=admin)
    uri = f"ayon-launcher://action?server_url={real_server.url}&token={token}"
    env = _env(tmp_path, real_server, real_server.service_api_key)
    result = subprocess.run([sys.executable, "-m", "ayon_launcher", "--headless", uri], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=120)
    assert result.returncode == 4, result.stderr
    event = _event(real_server, event_id)
    assert event["status"] == "aborted"
    assert "did not log in" in (event.get("description") or "")
    assert admin not in result.stderr + result.stdout


def test_action_link_bad_input():
    env = isolated_env(Path("/nonexistent"))
    for uri in ("ayon-launcher://action?token=abc", "ayon-launcher://other?server_url=http://x"):
        result = run_ayon([uri], env)
        assert result.returncode == 2 and result.stderr.startswith("ayon: error: ")
