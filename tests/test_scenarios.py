"""End-to-end scenarios, each run against the embedded server and against ynput's real one.

The real ``ayon`` CLI in subprocesses (a pseudo-terminal where a person would type); the
servers are the session's ``any_server`` (see tests/harness). Tests that change a server's
shared state (bundles) put it back.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest

from ayon_launcher.localserver import seed
from conftest import isolated_env, run_ayon
from pty_helpers import run_ayon_pty

ARTIST = "scenario_artist"
ARTIST_PASSWORD = "Sc3nario-Passw0rd!"  # distinctive, so that a leak cannot hide in output
PROJECT = seed.DEMO_PROJECT
ROBOT = "/assets/characters/robot"


@pytest.fixture
def artist(any_server) -> str:
    """A person's account (password login), made once per server."""
    if ARTIST not in getattr(any_server, "_passwords", {}):
        any_server.create_user(ARTIST, ARTIST_PASSWORD)
    return ARTIST


@pytest.fixture
def env(tmp_path, any_server) -> dict[str, str]:
    """A launcher home of the test's own, pointed at the server, no credentials yet."""
    return isolated_env(tmp_path, any_server.url)


@pytest.fixture
def key_env(env, any_server) -> dict[str, str]:
    return {**env, "AYON_API_KEY": any_server.service_api_key}


def login_answers(user: str = ARTIST, password: str = ARTIST_PASSWORD) -> list[tuple[str, str]]:
    return [("User name", user), ("Password", password)]


def stored_token(home: Path, server_url: str) -> str:
    data = json.loads((home / "config" / "credentials.json").read_text())
    return next(entry["token"] for service, entry in data.items()
                if server_url in service and "token" in entry)


def hello(env: dict[str, str], *flags: str):
    return run_ayon(["--headless", *flags, "addon", "demo_tools", "hello", "--name", "Ann"], env)


def no_traceback(done) -> None:
    text = getattr(done, "stderr", None) or getattr(done, "output", "")
    assert "Traceback" not in text


# --------------------------------------------------------------------------- logins


def test_password_login_on_a_terminal_then_token_reused(any_server, artist, env, tmp_path):
    first = run_ayon_pty(["--headless", "addon", "demo_tools", "hello"], env, login_answers())
    assert first.returncode == 0, first.output
    assert first.unanswered == []
    assert ARTIST_PASSWORD not in first.output
    assert "Hello from demo_tools! (demo_tools 1.0.0)" in first.output
    token = stored_token(tmp_path, any_server.url)
    assert any_server.token_is_valid(token)
    # Second start: no terminal, no login: the stored session is used.
    second = hello(env)
    assert second.returncode == 0, second.stderr
    assert "Hello from demo_tools, Ann!" in second.stdout
    assert stored_token(tmp_path, any_server.url) == token


def test_api_key_of_a_service_user(any_server, key_env):
    done = hello(key_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("Hello from demo_tools, Ann! (demo_tools 1.0.0)")
    assert any_server.service_api_key not in done.stdout + done.stderr


def test_wrong_api_key_is_exit_4_in_one_line(any_server, env):
    done = hello({**env, "AYON_API_KEY": "0" * 32})
    assert done.returncode == 4, done.stderr
    no_traceback(done)
    assert done.stderr.strip().splitlines()[-1].startswith("ayon: error: ")


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_ended_session_asks_again_and_keeps_the_url(any_server, artist, env, tmp_path, how):
    first = run_ayon_pty(["--headless", "addon", "demo_tools", "hello"], env, login_answers())
    assert first.returncode == 0, first.output
    token = stored_token(tmp_path, any_server.url)
    if how == "expired":
        any_server.expire_token(token)
    else:
        any_server.revoke_token(token)
    assert not any_server.token_is_valid(token)
    # Without a terminal: exit 4 in one line, nothing else.
    refused = hello(env)
    assert refused.returncode == 4, refused.stderr
    no_traceback(refused)
    # On a terminal: asked again (not for the URL), then working with a new session.
    env_without_url = {k: v for k, v in env.items() if k != "AYON_SERVER_URL"}
    again = run_ayon_pty(["--headless", "addon", "demo_tools", "hello"], env_without_url,
                         login_answers())
    assert again.returncode == 0, again.output
    assert "AYON server URL" not in again.output
    new_token = stored_token(tmp_path, any_server.url)
    assert new_token != token and any_server.token_is_valid(new_token)


def test_logout_ends_the_session_on_the_server(any_server, artist, env, tmp_path):
    assert run_ayon_pty(["--headless", "addon", "demo_tools", "hello"], env,
                        login_answers()).returncode == 0
    token = stored_token(tmp_path, any_server.url)
    out = run_ayon(["logout"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Logged out of {any_server.url}."
    assert not any_server.token_is_valid(token)
    assert token not in (tmp_path / "config" / "credentials.json").read_text()
    assert hello(env).returncode == 4


# --------------------------------------------------------------------------- bundles


def test_bundle_choice_production_staging_named(any_server, key_env):
    production = hello(key_env)
    assert production.returncode == 0, production.stderr
    assert "(demo_tools 1.0.0)" in production.stdout
    staging = hello(key_env, "--use-staging")
    assert staging.returncode == 0, staging.stderr
    assert "(demo_tools 1.1.0)" in staging.stdout
    named = f"scenario_named_{uuid.uuid4().hex[:6]}"
    any_server.create_bundle(named, {"demo_tools": "1.1.0"})
    try:
        chosen = hello(key_env, "--bundle", named)
        assert chosen.returncode == 0, chosen.stderr
        assert "(demo_tools 1.1.0)" in chosen.stdout
    finally:
        any_server.delete_bundle(named)
    missing = hello(key_env, "--bundle", named)
    assert missing.returncode == 5, missing.stderr
    no_traceback(missing)
    assert named in missing.stderr


def test_dev_bundle_of_the_logged_in_user(any_server, env):
    # The seeded dev bundle belongs to the admin; the admin's session token stands in for a
    # login (the launcher takes a person's token in AYON_API_KEY as a child launcher does).
    admin_env = {**env, "AYON_API_KEY": any_server.login_token()}
    done = hello(admin_env, "--use-dev")
    assert done.returncode == 0, done.stderr
    assert "(demo_tools 1.1.0)" in done.stdout
    assert any_server.bundle("demo_dev")["activeUser"] == "admin"


def test_cold_then_warm_sync(any_server, key_env, tmp_path):
    from ayon_launcher.bootstrapper.distribution import store

    cold = hello(key_env)
    assert cold.returncode == 0, cold.stderr
    addons = tmp_path / "local" / "addons"
    demo_dir = addons / "demo_tools_1.0.0"
    assert (demo_dir / "ayon_demo_tools" / "addon.py").is_file()
    assert (addons / "applications_1.0.0" / "ayon_applications_demo").is_dir()
    meta = store.read_metadata(demo_dir)
    inode = demo_dir.stat().st_ino
    warm = hello(key_env)
    assert warm.returncode == 0, warm.stderr
    assert "installed" not in warm.stderr  # nothing fetched again
    assert store.read_metadata(demo_dir)["installed_at"] == meta["installed_at"]
    assert demo_dir.stat().st_ino == inode


# --------------------------------------------------------------------------- damaged install


def test_emptied_addon_folder_is_repaired_on_the_next_start(any_server, key_env, tmp_path):
    """The real server announces no checksum for add-on archives: the repair must bring back
    the archive recorded at install, and say so in one line."""
    import shutil

    first = hello(key_env)
    assert first.returncode == 0, first.stderr
    demo_dir = tmp_path / "local" / "addons" / "demo_tools_1.0.0"
    package = demo_dir / "ayon_demo_tools"
    shutil.rmtree(package)  # the folder stays, its code is gone
    again = hello(key_env)
    assert again.returncode == 0, again.stderr
    assert "(demo_tools 1.0.0)" in again.stdout
    damaged = [line for line in again.stderr.splitlines() if "is damaged" in line]
    assert len(damaged) == 1 and "demo_tools 1.0.0" in damaged[0], again.stderr
    assert (package / "addon.py").is_file()
    quiet = hello(key_env)
    assert quiet.returncode == 0, quiet.stderr
    assert "damaged" not in quiet.stderr


# --------------------------------------------------------------------------- commands


def test_extractenvironments_with_context_and_app(any_server, key_env, tmp_path):
    out = tmp_path / "env.json"
    done = run_ayon(["--headless", "extractenvironments", str(out), "--project", PROJECT,
                     "--asset", "robot", "--task", "modeling", "--app", "maya/2024"], key_env)
    assert done.returncode == 0, done.stderr
    values = json.loads(out.read_text())
    assert values["AYON_PROJECT_NAME"] == PROJECT
    assert values["AYON_FOLDER_PATH"] == ROBOT
    assert values["AYON_TASK_NAME"] == "modeling"
    assert values["MAYA_VERSION"] == "2024"
    assert values["MAYA_LOCATION"] == "/usr/autodesk/maya2024"
    assert values["AYON_DEMO_TOOLS_VERSION"] == "1.0.0"
    assert values["AYON_BUNDLE_NAME"] == seed.PRODUCTION_BUNDLE


def test_extractenvironments_unknown_task_is_exit_2(any_server, key_env, tmp_path):
    out = tmp_path / "env.json"
    done = run_ayon(["--headless", "extractenvironments", str(out), "--project", PROJECT,
                     "--asset", "robot", "--task", "no_such_task", "--app", "maya/2024"],
                    key_env)
    assert done.returncode == 2, done.stderr
    no_traceback(done)
    assert not out.exists()


def test_scripts_see_the_dependency_package_and_pass_the_exit_code(any_server, key_env,
                                                                  tmp_path):
    script = tmp_path / "deps.py"
    script.write_text(textwrap.dedent("""
        import sys
        import ayon_demo_deps
        print("answer", ayon_demo_deps.answer(), sys.argv[1:])
        sys.exit(7)
    """))
    done = run_ayon(["--headless", str(script), "a", "b"], key_env)
    assert done.returncode == 7, done.stderr
    assert "answer 42 ['a', 'b']" in done.stdout


def test_addon_commands(any_server, key_env):
    listed = run_ayon(["--headless", "addon", "demo_tools", "--help"], key_env)
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout
    unknown = run_ayon(["--headless", "addon", "no_such_addon", "x"], key_env)
    assert unknown.returncode == 2, unknown.stderr
    no_traceback(unknown)


def test_publish_twice_makes_v001_then_v002(any_server, key_env, tmp_path):
    product = f"modelScenario{uuid.uuid4().hex[:6]}"
    out = tmp_path / "out"
    out.mkdir()
    (out / "robot.abc").write_bytes(b"alembic " * 64)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({
        "project": PROJECT, "folder": ROBOT, "task": "modeling", "comment": "scenario",
        "instances": [{"productName": product, "productType": "model",
                       "files": ["out/robot.abc"]}],
    }))
    first = run_ayon(["--headless", "publish", str(job), "--targets", "farm"], key_env)
    assert first.returncode == 0, first.stderr
    assert f"{product} v001 (1 file)" in first.stdout
    second = run_ayon(["--headless", "publish", str(job), "--targets", "farm"], key_env)
    assert second.returncode == 0, second.stderr
    assert f"{product} v002 (1 file)" in second.stdout

    api = any_server.admin_api()
    folder = api.get_folder_by_path(PROJECT, ROBOT)
    entity = api.get_product_by_name(PROJECT, product, folder["id"])
    versions = sorted(api.get_versions(PROJECT, product_ids=[entity["id"]]),
                      key=lambda v: v["version"])
    assert [v["version"] for v in versions] == [1, 2]
    for version in versions:
        [representation] = api.get_representations(PROJECT, version_ids=[version["id"]])
        [file_info] = representation["files"]
        path = Path(file_info["path"].replace("{root[work]}",
                                              Path(any_server.projects_root).as_posix()))
        assert path.read_bytes() == (out / "robot.abc").read_bytes()
        assert f"v{version['version']:03d}" in path.name


def test_contextselection_writes_the_choice(any_server, key_env, tmp_path):
    from ayon_launcher.gui.display import CONTEXT_DIALOG_TEST_HOOK_ENV

    out = tmp_path / "choice.json"
    env = {**key_env, CONTEXT_DIALOG_TEST_HOOK_ENV: "accept:rigging"}
    done = run_ayon(["contextselection", str(out), "--project", PROJECT, "--asset", "robot"],
                    env)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == {
        "project": PROJECT, "asset": "robot", "folder_path": ROBOT, "task": "rigging",
    }
