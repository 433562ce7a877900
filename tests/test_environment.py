"""Environment definitions: platforms, lists, references, merging, errors; applications."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayon_launcher.localserver.seed import DEMO_ADDONS_DIR
from ayon_launcher.pipeline.environment.applications import ApplicationsSettings
from ayon_launcher.pipeline.environment.definitions import (
    EnvironmentDefinitionError,
    compute_environment,
    current_platform,
    parse_definition,
)
from ayon_launcher.support.errors import LauncherError

SEP = os.pathsep


def test_list_values_are_joined_with_pathsep_and_empty_items_dropped():
    env = compute_environment([("g", {"A": ["/a", "", "/b"], "N": 5, "T": True})], base={})
    assert env == {"A": f"/a{SEP}/b", "N": "5", "T": "1"}


def test_per_platform_values_pick_the_platform_and_skip_missing_ones():
    definition = {
        "ROOT": {"windows": "C:/root", "linux": "/mnt/root", "darwin": "/Volumes/root"},
        "ONLY_WINDOWS": {"windows": "x"},
        "PATHS": {"linux": ["/l1", "/l2"], "windows": ["w1", "w2"], "darwin": ["/d1", "/d2"]},
    }
    for platform, root, paths in (
        ("linux", "/mnt/root", ["/l1", "/l2"]),
        ("windows", "C:/root", ["w1", "w2"]),
        ("darwin", "/Volumes/root", ["/d1", "/d2"]),
    ):
        env = compute_environment([("g", definition)], base={}, platform=platform)
        assert env["ROOT"] == root
        assert env["PATHS"] == SEP.join(paths)
        assert ("ONLY_WINDOWS" in env) == (platform == "windows")
    # The default is this machine's platform.
    env = compute_environment([("g", definition)], base={})
    expected = {"windows": "C:/root", "linux": "/mnt/root", "darwin": "/Volumes/root"}
    assert env["ROOT"] == expected[current_platform()]


def test_references_resolve_in_dependency_order_and_fall_back_to_base():
    env = compute_environment(
        [("g", {"C": "{B}/c", "B": "{A}/b", "A": "{HOME_X}/a", "LIT": "{not a ref} {{A}}"})],
        base={"HOME_X": "/home/x"},
    )
    assert env == {"A": "/home/x/a", "B": "/home/x/a/b", "C": "/home/x/a/b/c",
                   "LIT": "{not a ref} {A}"}


def test_self_reference_appends_to_previous_layer_then_base():
    layers = [
        ("global", {"PATH": ["{PATH}", "/global/bin"], "__environment_keys__": {"g": ["PATH"]}}),
        ("app", {"PATH": ["/app/bin", "{PATH}"], "APP_ROOT": "/opt/app"}),
        ("tool", json.dumps({"PATH": ["{PATH}", "{APP_ROOT}/tool"]})),
    ]
    env = compute_environment(layers, base={"PATH": "/usr/bin"})
    assert env["PATH"] == SEP.join(["/app/bin", "/usr/bin", "/global/bin", "/opt/app/tool"])
    assert "__environment_keys__" not in env
    # Nothing before: the self-reference is empty and leaves no stray separator.
    env = compute_environment(layers, base={})
    assert env["PATH"] == SEP.join(["/app/bin", "/global/bin", "/opt/app/tool"])


def test_later_layers_override_and_earlier_layers_see_final_values():
    env = compute_environment(
        [("group", {"LOC": "{ROOT}/maya{VERSION}", "VERSION": "0"}),
         ("variant", {"VERSION": "2024", "ROOT": "/usr/autodesk"})],
        base={},
    )
    assert env["LOC"] == "/usr/autodesk/maya2024"
    assert env["VERSION"] == "2024"


def test_cycle_names_the_keys():
    with pytest.raises(EnvironmentDefinitionError) as info:
        compute_environment([("g", {"A": "{B}", "B": "{C}", "C": "{A}", "D": "ok"})], base={})
    message = str(info.value)
    assert "cycle" in message and "A -> B -> C -> A" in message
    assert isinstance(info.value, LauncherError)


def test_missing_reference_names_key_and_reference():
    with pytest.raises(EnvironmentDefinitionError) as info:
        compute_environment([("g", {"A": "{NOPE}/x", "B": "{A}"})], base={"OTHER": "1"})
    assert "A uses {NOPE}" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_definitions_are_one_line_errors():
    with pytest.raises(EnvironmentDefinitionError, match="maya: invalid JSON"):
        compute_environment([("maya", "{not json")], base={})
    with pytest.raises(EnvironmentDefinitionError, match="unknown platform key"):
        parse_definition({"A": {"linux": "x", "amiga": "y"}}, "linux")
    with pytest.raises(EnvironmentDefinitionError, match="must be an object"):
        compute_environment([("x", "[1, 2]")], base={})


def _demo_settings() -> dict:
    return json.loads((DEMO_ADDONS_DIR / "applications" / "settings.json").read_text())


def test_applications_from_demo_settings():
    apps = ApplicationsSettings(_demo_settings())
    assert {"maya/2024", "maya/2025", "nuke/15-0", "nuke/14-0"} <= set(apps.applications)
    assert "houdini/20-5" not in apps.applications  # disabled group
    maya = apps.find_application("maya-2024")
    assert maya is apps.find_application("maya/2024")
    assert maya.host_name == "maya"
    assert apps.find_application("nuke-15-0").full_name == "nuke/15-0"
    assert "mtoa/5.3" in apps.tools
    assert [t.full_name for t in apps.tools_for(maya, ["mtoa/5.3", "unknown/1"])] == ["mtoa/5.3"]
    nuke = apps.find_application("nuke/15-0")
    assert apps.tools_for(nuke, ["mtoa/5.3"]) == []  # limited to host "maya"


@pytest.mark.parametrize("name, expected", [
    ("maya-2042", "maya-2024"),
    ("maya/2023", "maya/2024"),
    ("nuk/15-0", "nuke/15-0"),
])
def test_unknown_application_suggests_closest(name, expected):
    apps = ApplicationsSettings(_demo_settings())
    with pytest.raises(LauncherError) as info:
        apps.find_application(name)
    message = str(info.value)
    assert f"unknown application {name!r}" in message and expected in message
    assert "\n" not in message


def test_no_applications_settings():
    with pytest.raises(LauncherError, match="define no application"):
        ApplicationsSettings({}).find_application("maya/2024")


def test_empty_reference_in_a_string_path_leaves_no_separator_and_text_is_kept():
    env = compute_environment(
        [("g", {"P": f"{{P}}{SEP}/x", "URL": "http://127.0.0.1:5000/a::b"})], base={})
    assert env == {"P": "/x", "URL": "http://127.0.0.1:5000/a::b"}
    env = compute_environment([("g", {"P": f"{{P}}{SEP}/x"})], base={"P": "/y"})
    assert env["P"] == f"/y{SEP}/x"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=7, unique=True),
       st.randoms(use_true_random=False))
def test_resolution_does_not_depend_on_key_order(chain, rng):
    # A chain K0 <- K1 <- ... : each key appends to the one before.
    definition = {chain[0]: "/root"}
    for before, key in zip(chain, chain[1:], strict=False):
        definition[key] = f"{{{before}}}/{key.lower()}"
    shuffled = list(definition.items())
    rng.shuffle(shuffled)
    env = compute_environment([("g", dict(shuffled))], base={})
    assert env[chain[-1]] == "/root" + "".join(f"/{k.lower()}" for k in chain[1:])
    assert env == compute_environment([("g", definition)], base={})


@pytest.mark.parametrize("executables, expected", [
    (["/usr/bin/maya"], ["/usr/bin/maya"]),  # a plain list: every platform
    ({"linux": "/opt/maya/bin/maya", "windows": ["C:/maya.exe"]}, ["/opt/maya/bin/maya"]),
    ("/usr/local/bin/maya", ["/usr/local/bin/maya"]),
    (42, []),
])
def test_executables_in_any_reasonable_shape(executables, expected):
    settings = {"applications": {"maya": {"variants": [
        {"name": "2025", "executables": executables}]}}}
    app = ApplicationsSettings(settings, platform="linux").find_application("maya/2025")
    assert app.executables == expected
