"""``ayon extractenvironments`` through the real CLI against the local server."""

from __future__ import annotations

import json

import pytest

from ayon_launcher.pipeline.environment.definitions import current_platform
from conftest import isolated_env, run_ayon
from failure_helpers import error_message

PROJECT = "demo_Commercial"
MAYA_ROOT = {"windows": "C:/Program Files/Autodesk", "linux": "/usr/autodesk",
             "darwin": "/Applications/Autodesk"}[current_platform()]


@pytest.fixture
def env(tmp_path, local_server):
    environment = isolated_env(tmp_path, local_server.url)
    # The demo service user's API key: no interactive login in a subprocess.
    environment["AYON_API_KEY"] = local_server.service_api_key
    return environment


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    return lines[-1]


def test_full_context(tmp_path, env, local_server):
    out = tmp_path / "deep" / "er" / "env.json"
    result = run_ayon(["extractenvironments", str(out), "--project", PROJECT,
                       "--asset", "robot", "--task", "modeling", "--app", "maya-2024"], env)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())
    assert data["AYON_PROJECT_NAME"] == PROJECT
    assert data["AYON_FOLDER_PATH"] == "/assets/characters/robot"
    assert data["AYON_TASK_NAME"] == "modeling"
    assert data["AYON_HOST_NAME"] == "maya"
    assert data["AYON_APP_NAME"] == "maya/2024"
    assert data["MAYA_ROOT"] == MAYA_ROOT
    assert data["MAYA_VERSION"] == "2024"
    assert data["AYON_MAYA_WORKSPACE_HINT"] == f"{PROJECT}/modeling"
    # Global AYON variables of the launcher are part of it too.
    assert data["AYON_SERVER_URL"] == local_server.url
    assert data.get("AYON_BUNDLE_NAME") == "demo_production"
    assert not list(out.parent.glob("*.tmp"))


def test_partial_context_gives_global_environment_with_warning(tmp_path, env):
    out = tmp_path / "env.json"
    result = run_ayon(["extractenvironments", str(out), "--project", PROJECT,
                       "--app", "maya/2024"], env)
    assert result.returncode == 0, result.stderr
    assert "--asset" in result.stderr and "--task" in result.stderr
    assert "warning" in result.stderr.lower()
    data = json.loads(out.read_text())
    assert "AYON_PROJECT_NAME" not in data and "MAYA_VERSION" not in data
    assert data["AYON_SERVER_URL"] == env["AYON_SERVER_URL"]


@pytest.mark.parametrize("args, expected", [
    (["--project", "nope"], "'nope'"),  # an incomplete context is checked too
    (["--project", PROJECT, "--asset", "robott"], "robot"),
    (["--project", PROJECT, "--asset", "robot", "--task", "animation"], "modeling"),
    (["--project", "demo_Comercial", "--asset", "robot", "--task", "modeling",
      "--app", "maya/2024"], "demo_Commercial"),
    (["--project", PROJECT, "--asset", "robott", "--task", "modeling",
      "--app", "maya/2024"], "robot"),
    (["--project", PROJECT, "--asset", "robot", "--task", "animation",
      "--app", "maya/2024"], "modeling"),
    (["--project", PROJECT, "--asset", "sh010", "--task", "compositing",
      "--app", "nuke-15"], "nuke-15-0"),
])
def test_unknown_names_are_one_line_errors(tmp_path, env, args, expected):
    out = tmp_path / "env.json"
    result = run_ayon(["extractenvironments", str(out), *args], env)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("ayon: error: unknown") and expected in line
    assert not out.exists()


def test_skip_bootstrap_writes_global_environment(tmp_path):
    out = tmp_path / "env.json"
    environment = isolated_env(tmp_path)
    environment["SOME_STUDIO_VAR"] = "kept"
    result = run_ayon(["--skip-bootstrap", "extractenvironments", str(out)], environment)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["SOME_STUDIO_VAR"] == "kept"
    assert "AYON_PROJECT_NAME" not in data


def test_skip_bootstrap_with_full_context_is_a_usage_error(tmp_path):
    out = tmp_path / "env.json"
    result = run_ayon(["--skip-bootstrap", "extractenvironments", str(out), "--project", "p",
                       "--asset", "a", "--task", "t", "--app", "maya/2024"],
                      isolated_env(tmp_path))
    assert result.returncode == 2
    assert error_message(_one_line(result.stderr)) == (
        "ayon: error: the context needs the AYON server, but --skip-bootstrap was given")
    assert not out.exists()


def test_unwritable_output_is_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_ayon(["--skip-bootstrap", "extractenvironments",
                       str(blocker / "sub" / "env.json")], isolated_env(tmp_path))
    assert result.returncode == 2
    assert "cannot write" in _one_line(result.stderr)
    assert blocker.read_text() == "not a folder"
    for folder in ("", str(tmp_path)):  # a folder (or nothing) as the output file
        result = run_ayon(["--skip-bootstrap", "extractenvironments", folder],
                          isolated_env(tmp_path))
        assert result.returncode == 2
        line = _one_line(result.stderr)
        assert "is a folder" in line or "is a directory" in line


def test_output_is_checked_before_the_server_is_asked(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # No server at all: the bad output path is what gets reported, at once.
    env = isolated_env(tmp_path, "http://127.0.0.1:9")
    result = run_ayon(["--headless", "extractenvironments", str(blocker / "env.json")], env)
    assert result.returncode == 2
    assert "is not a folder" in _one_line(result.stderr)
