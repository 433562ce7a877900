"""Context environment against the real local server: look-ups, suggestions, tools, variables."""

from __future__ import annotations

import os

import ayon_api
import pytest

from ayon_launcher.pipeline.environment.context import context_environment, resolve_context
from ayon_launcher.pipeline.environment.definitions import current_platform
from ayon_launcher.pipeline.environment.entities import ServerContextSource
from ayon_launcher.support.errors import LauncherError

PROJECT = "demo_Commercial"
SEP = os.pathsep
MAYA_ROOT = {"windows": "C:/Program Files/Autodesk", "linux": "/usr/autodesk",
             "darwin": "/Applications/Autodesk"}[current_platform()]
MAYA_LOCATION = {"windows": f"{MAYA_ROOT}/Maya2024", "linux": f"{MAYA_ROOT}/maya2024",
                 "darwin": f"{MAYA_ROOT}/maya2024/Maya.app/Contents"}[current_platform()]


def _api(server) -> ayon_api.ServerAPI:
    return ayon_api.ServerAPI(server.url, token=server.service_api_key)


@pytest.fixture(scope="module")
def server_source(local_server):
    api = _api(local_server)
    return ServerContextSource(api), api.get_addons_settings(bundle_name="demo_production")


def test_full_context_environment(server_source):
    source, settings = server_source
    context = resolve_context(source, settings, PROJECT, "robot", "modeling", "maya-2024")
    base = {"PATH": "/usr/bin", "AYON_SERVER_URL": "http://127.0.0.1:1"}
    env = context_environment(context, settings, base)
    assert env["AYON_PROJECT_NAME"] == PROJECT
    assert env["AYON_FOLDER_PATH"] == "/assets/characters/robot"
    assert env["AYON_TASK_NAME"] == "modeling"
    assert env["AYON_HOST_NAME"] == "maya"
    assert env["AYON_APP_NAME"] == "maya/2024"
    # Group values referencing variant values and per-platform values, resolved exactly.
    assert env["MAYA_ROOT"] == MAYA_ROOT
    assert env["MAYA_VERSION"] == "2024"
    assert env["MAYA_LOCATION"] == MAYA_LOCATION
    assert env["MAYA_SCRIPT_PATH"] == f"{MAYA_LOCATION}/scripts/ayon"
    # A definition referencing the context variables.
    assert env["AYON_MAYA_WORKSPACE_HINT"] == f"{PROJECT}/modeling"
    # The base (global) environment is kept; no tool set on this context.
    assert env["PATH"] == "/usr/bin" and env["AYON_SERVER_URL"] == "http://127.0.0.1:1"
    assert "MTOA" not in env


def test_folder_by_path_and_list_joining(server_source):
    source, settings = server_source
    context = resolve_context(source, settings, PROJECT, "/shots/sq01/sh010", "compositing",
                              "nuke/15-0")
    env = context_environment(context, settings, {"NUKE_PATH": "/studio/nuke"})
    studio = {"windows": "P:/pipeline/nuke", "linux": "/mnt/pipeline/nuke",
              "darwin": "/Volumes/pipeline/nuke"}[current_platform()]
    assert env["NUKE_PATH"] == SEP.join(["/studio/nuke", f"{studio}/gizmos", f"{studio}/python"])
    assert env["AYON_FOLDER_PATH"] == "/shots/sq01/sh010"
    assert env["NUKE_VERSION"] == "15.0"


@pytest.mark.parametrize("project, asset, task, app, expected", [
    ("demo_Comercial", "robot", "modeling", "maya/2024", "demo_Commercial"),
    (PROJECT, "robto", "modeling", "maya/2024", "robot"),
    (PROJECT, "/assets/characters/robo", "modeling", "maya/2024", "/assets/characters/robot"),
    (PROJECT, "robot", "modelling", "maya/2024", "modeling"),
    (PROJECT, "robot", "modeling", "maya-2034", "maya-2024"),
])
def test_unknown_names_suggest_closest(server_source, project, asset, task, app, expected):
    source, settings = server_source
    with pytest.raises(LauncherError) as info:
        resolve_context(source, settings, project, asset, task, app)
    message = str(info.value)
    assert message.startswith("unknown ") and expected in message and "\n" not in message


def test_tools_from_folder_attribute(fresh_server):
    api = _api(fresh_server)
    robot = api.get_folder_by_path(PROJECT, "/assets/characters")
    api.update_folder(PROJECT, robot["id"], attrib={"tools": ["mtoa/5.3"]})
    source = ServerContextSource(api)
    settings = api.get_addons_settings(bundle_name="demo_production")
    # Set on the parent folder: inherited by robot's task.
    context = resolve_context(source, settings, PROJECT, "robot", "rigging", "maya/2025")
    assert context.tools == ["mtoa/5.3"]
    env = context_environment(context, settings, {"MAYA_MODULE_PATH": "/studio/modules"})
    mtoa_root = {"windows": "C:/solidangle", "linux": "/opt/solidangle",
                 "darwin": "/Applications/solidangle"}[current_platform()]
    assert env["MTOA"] == f"{mtoa_root}/mtoa/5.3/2025"
    assert env["MAYA_MODULE_PATH"] == SEP.join([env["MTOA"], "/studio/modules"])
    # nuke is not a host of the tool: no tool environment.
    context = resolve_context(source, settings, PROJECT, "robot", "rigging", "nuke/15-0")
    assert "MTOA" not in context_environment(context, settings, {})


def test_demo_bundles_hold_the_applications_addon(local_server):
    api = _api(local_server)
    bundles = {b["name"]: b for b in api.get_bundles()["bundles"]}
    assert bundles["demo_production"]["addons"]["applications"] == "1.0.0"
    assert bundles["demo_staging"]["addons"]["applications"] == "1.0.0"
    settings = api.get_addons_settings(bundle_name="demo_production")
    assert set(settings["applications"]["applications"]) >= {"maya", "nuke"}
