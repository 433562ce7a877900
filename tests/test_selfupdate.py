"""Self-update against the embedded and the real server, with real installers.

Self-update against the embedded and the real server: real installers built from this
checkout, uploaded with ``ayon installer upload``, installed side by side by real pip into real
venvs; and ``ayon-launcher://`` web actions against the real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ayon_launcher import __version__
from ayon_launcher.bootstrapper.selfupdate import identity
from conftest import isolated_env, run_ayon

NEW = "0.2.0.dev7"  # the version the tests roll out (the running checkout is __version__)
SCRIPT = "import sys, ayon_launcher\nprint('RUNNING', ayon_launcher.__version__, sys.executable)\n"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """An installer of version NEW built from this checkout, and a wheelhouse of its lock, so
    that installs in the tests need no package index (pip's --no-index --find-links)."""
    out = tmp_path_factory.mktemp("installers")
    # --source: CI installs the launcher as a plain (non-editable) package.
    checkout = Path(__file__).resolve().parent.parent
    result = run_ayon(["installer", "build", "--version", NEW, "--out", str(out),
                       "--source", str(checkout)], isolated_env(out), timeout=300)
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
    from ayon_launcher.bootstrapper.distribution.models import platform_name

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
    # The installer's download showed as the add-ons' do (a line each on a farm log).
    killed_stderr = proc.stderr.read().decode()
    assert f"installed launcher installer {built['installer'].name}" in killed_stderr
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
    assert f"installed AYON launcher {NEW}" in result.stderr  # its install, as an add-on's
    assert not list((local / "versions").glob(".tmp-*")), "work folder of the kill left"
    # Installed: the downloaded installer's files are not kept.
    assert not [p for p in (local / "installers").iterdir() if not p.name.startswith(".")]
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


def test_unchanged_version_costs_nothing(fresh_server, tmp_path):
    """The bundle names the running launcher: no switch module imported, no request."""
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = fresh_server.service_api_key
    script = tmp_path / "mods.py"
    script.write_text("import sys\nprint('SWITCH' if "
                      "'ayon_launcher.bootstrapper.selfupdate.switch' in "
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


# -- ynput's real server (tests/harness) --------------------------------------------------

def _real_env(tmp_path: Path, server, token: str) -> dict[str, str]:
    env = isolated_env(tmp_path, server.url)
    env["AYON_API_KEY"] = token
    return env


def _demo(server) -> dict:
    return server.bundle("demo_production")


def test_real_server_switch_and_back(real_server, built, tmp_path):
    admin = real_server.login_token()
    upload = run_ayon(["installer", "upload", str(built["installer"]), "--force"],
                      _real_env(tmp_path / "up", real_server, admin))
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
    env = _real_env(tmp_path, real_server, real_server.service_api_key)
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
    """An add-on declares ``ayon_launcher_version = ">=1.7.0"``; a bundle with it names the
    official launcher 1.7.0 (the real server accepts it): this launcher, implementing the
    1.6.0 contract, refuses in one line (exit 5); AYON_AUTO_UPDATE=skip runs anyway."""
    import shutil

    from ayon_launcher.localserver.seed import demo_addon_folders
    from harness.real_server import real_addon_package

    source = next(f for f in demo_addon_folders() if f.name == "demo_tools")
    folder = tmp_path / "selftest_range"
    shutil.copytree(source, folder)
    (folder / "package.py").write_text(
        'name = "selftest_range"\ntitle = "Self-update range test"\nversion = "1.0.0"\n'
        'client_dir = "ayon_demo_tools"\nayon_launcher_version = ">=1.7.0"\n')
    package = tmp_path / "selftest_range-1.0.0.zip"
    package.write_bytes(real_addon_package(folder))
    real_server.install_addon_zip(package)
    name = "selfupdate_needs_1_7"
    real_server.delete_bundle(name)
    real_server.create_bundle(name, {"selftest_range": "1.0.0"}, installer_version="1.7.0")
    env = _real_env(tmp_path, real_server, real_server.service_api_key)
    try:
        refused = _run_script(env, tmp_path, extra=("--bundle", name))
        assert refused.returncode == 5, refused.stderr
        last = refused.stderr.strip().splitlines()[-1]
        assert last.startswith("ayon: error: ") and "selftest_range requires >=1.7.0" in last
        assert identity.CONTRACT_VERSION in last and "RUNNING" not in refused.stdout
        skipped = _run_script({**env, "AYON_AUTO_UPDATE": "skip"}, tmp_path,
                              extra=("--bundle", name))
        assert skipped.returncode == 0, skipped.stderr
        assert _running(skipped)[0] == __version__
    finally:
        real_server.delete_bundle(name)


def test_real_server_official_version_accepted_with_one_warning(real_server, tmp_path):
    """A bundle naming an official launcher whose add-ons accept this one's contract."""
    demo = _demo(real_server)
    name = "selfupdate_official"
    real_server.delete_bundle(name)
    real_server.create_bundle(name, demo["addons"], demo.get("dependencyPackages"),
                              installer_version="1.6.4")
    env = _real_env(tmp_path, real_server, real_server.service_api_key)
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
    result = run_ayon(["--headless", uri], _real_env(tmp_path, real_server, admin))
    assert result.returncode == 0, result.stderr
    seen = json.loads(out.read_text())
    assert seen["args"] == ["one", "two"]
    assert seen["AYON_WEBACTION_EVENT_ID"] == event_id
    assert seen["AYON_BUNDLE_NAME"] == "demo_staging"  # the staging variant's bundle
    assert _event(real_server, event_id)["status"] == "finished"

    # The token is used: a second click of the same link is refused in one line.
    again = run_ayon([uri], _real_env(tmp_path, real_server, admin))
    assert again.returncode == 2 and again.stderr.startswith("ayon: error: ")


def test_real_server_web_action_of_a_failing_command_fails(real_server, tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("raise SystemExit(3)\n")
    admin = real_server.login_token()
    token = os.urandom(32).hex()
    event_id = _dispatch_action(real_server, token, args=[str(script)], variant="production",
                                user_token=admin)
    uri = f"ayon-launcher://action?server_url={real_server.url}&token={token}"
    result = run_ayon(["--headless", uri], _real_env(tmp_path, real_server, admin))
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
    env = _real_env(tmp_path, real_server, real_server.service_api_key)
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


def test_action_link_to_a_server_that_is_down_says_why_in_words(tmp_path):
    from conftest import dead_url
    from failure_helpers import error_message

    url = dead_url()
    result = run_ayon([f"ayon-launcher://action?server_url={url}&token={'ab12' * 16}"],
                      isolated_env(tmp_path))
    assert result.returncode == 3, result.stderr
    assert error_message(result.stderr.strip().splitlines()[-1]) == (
        f"ayon: error: cannot reach the AYON server {url.split('://')[1]}: connection refused")


_ACTION_ADDON = '''"""Server part of a test add-on with one launcher action."""

from ayon_server.actions import ActionExecutor, ExecuteResponseModel, SimpleActionManifest
from ayon_server.addons import BaseServerAddon

ARGS = {args!r}


class SelftestActionsAddon(BaseServerAddon):
    async def get_simple_actions(self, project_name=None, variant="production"):
        return [SimpleActionManifest(identifier="selftest.run", label="Self-test run",
                                     entity_type="project", category="Test")]

    async def execute_action(self, executor: ActionExecutor) -> ExecuteResponseModel:
        return await executor.get_launcher_response(args=ARGS)
'''


def test_real_server_web_action_of_a_server_addon_end_to_end(real_server, tmp_path):
    """An add-on's server part defines a launcher action; the action is triggered through
    /api/actions/execute as the web UI does; the link it answers runs and finishes the event."""
    from harness.real_server import real_addon_package

    out = tmp_path / "ran.txt"
    script = tmp_path / "action.py"
    script.write_text(f"import os, sys\nopen({str(out)!r}, 'w').write("
                      "os.environ['AYON_WEBACTION_EVENT_ID'] + ' ' + ' '.join(sys.argv[1:]))\n")
    folder = tmp_path / "selftest_actions"
    (folder / "server").mkdir(parents=True)
    (folder / "package.py").write_text('name = "selftest_actions"\ntitle = "Self-test actions"\n'
                                       'version = "1.0.0"\nclient_dir = "ayon_selftest_actions"\n')
    client = folder / "client" / "ayon_selftest_actions"
    client.mkdir(parents=True)
    (client / "__init__.py").write_text(
        '"""Client part of the self-test actions add-on."""\n'
        "from ayon_launcher.pipeline.addons import AYONAddon\n\n\n"
        "class SelftestActionsAddon(AYONAddon):\n    name = 'selftest_actions'\n")
    (folder / "server" / "__init__.py").write_text(
        _ACTION_ADDON.format(args=[str(script), "from-the-web"]))
    package = tmp_path / "selftest_actions-1.0.0.zip"
    package.write_bytes(real_addon_package(folder))
    real_server.install_addon_zip(package)
    demo = _demo(real_server)
    name = "selfupdate_actions"
    real_server.delete_bundle(name)
    real_server.create_bundle(name, {**demo["addons"], "selftest_actions": "1.0.0"},
                              demo.get("dependencyPackages"))
    real_server.update_bundle(name, isProduction=True)
    admin = real_server.login_token()
    try:
        listed = real_server.request("POST", "/api/actions/list?mode=simple", token=admin,
                                     json={"projectName": "demo_Commercial",
                                           "entityType": "project", "entityIds": []}).json()
        assert any(a["identifier"] == "selftest.run" for a in listed["actions"]), listed
        answer = real_server.request(
            "POST", "/api/actions/execute?addonName=selftest_actions&addonVersion=1.0.0"
            "&identifier=selftest.run&variant=production", token=admin,
            headers={"Referer": real_server.url + "/projects", "Authorization":
                     f"Bearer {admin}"},
            json={"projectName": "demo_Commercial", "entityType": "project",
                  "entityIds": []}).json()
        assert answer["type"] == "launcher", answer
        uri = answer["payload"]["uri"]
        result = run_ayon(["--headless", uri], _real_env(tmp_path, real_server, admin))
        assert result.returncode == 0, result.stderr
        event_id, args = out.read_text().split(" ", 1)
        assert args == "from-the-web"
        assert _event(real_server, event_id)["status"] == "finished"
    finally:
        real_server.update_bundle("demo_production", isProduction=True)
        real_server.delete_bundle(name)


def _fake_version(local: Path, version: str, installed_at: str) -> dict:
    """A side-by-side version as the install leaves it: a real virtual environment (no pip)
    under ``launcher/versions``; its registry entry."""
    venv = local / "launcher" / "versions" / version
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return {"python": str(venv / "bin" / "python"), "installed_at": installed_at}


def test_old_versions_are_removed_unless_recent_kept_running_or_foreign(tmp_path, monkeypatch):
    import sysconfig

    import ayon_launcher
    from ayon_launcher.bootstrapper.selfupdate import in_use, registry

    if os.name == "nt":
        pytest.skip("in-use marks are shared file locks (POSIX); Windows locks files in use")
    local = tmp_path / "local"
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(local))
    monkeypatch.setenv(in_use.KEEP_VERSIONS_ENV, "1")
    versions = {v: _fake_version(local, v, f"2026-0{i + 1}-01T00:00:00+0000")
                for i, v in enumerate(["0.1.0", "0.1.1", "0.1.2", "0.1.3"])}
    versions["0.0.9"] = {"python": sys.executable, "origin": "external",
                         "installed_at": "2025-01-01T00:00:00+0000"}
    (local / "launcher" / "registry.json").write_text(json.dumps({"versions": versions}))

    # A job still runs from 0.1.1, started through the launcher's own entry point.
    hold = tmp_path / "hold.py"
    hold.write_text("print('running', flush=True)\ninput()\n")
    env = {**isolated_env(tmp_path), "AYON_LAUNCHER_LOCAL_DIR": str(local),
           "PYTHONPATH": os.pathsep.join([str(Path(ayon_launcher.__file__).parents[1]),
                                          sysconfig.get_paths()["purelib"]])}
    job = subprocess.Popen([versions["0.1.1"]["python"], "-m", "ayon_launcher",
                            "--skip-bootstrap", str(hold)], env=env, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert job.stdout.readline() == "running\n", job.stderr.read()
        # 0.1.3 is the newest (kept by the count), 0.1.0 is asked to be kept (running here).
        removed = in_use.remove_old_versions({"0.1.0"})
        assert removed == ["0.1.2"]
        assert set(registry.load()) == {"0.0.9", "0.1.0", "0.1.1", "0.1.3"}
        assert (local / "launcher" / "versions" / "0.1.1" / "bin").is_dir()  # in use
    finally:
        job.communicate("\n", timeout=60)
    assert job.returncode == 0
    # The job has ended, but a program it started (a DCC) may still use that version's
    # modules: a version started in the last days stays.
    assert in_use.remove_old_versions({"0.1.0"}) == []
    mark = Path(in_use.mark_path(str(local / "launcher" / "versions" / "0.1.1")))
    week_ago = time.time() - (in_use.UNUSED_DAYS + 1) * 86400
    os.utime(mark, (week_ago, week_ago))
    # Not started for a week: removed; never a foreign install.
    assert in_use.remove_old_versions({"0.1.0"}) == ["0.1.1"]
    assert set(registry.load()) == {"0.0.9", "0.1.0", "0.1.3"}
    left = sorted(p.name for p in (local / "launcher" / "versions").iterdir())
    assert left == ["0.1.0", "0.1.3"]  # no trash, no marks left behind
    assert Path(sys.executable).is_file()
