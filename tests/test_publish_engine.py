"""Publish internals in-process, and the engine against a real local server.

Publish internals in-process: anatomy templates, metadata parsing, plug-in selection, the
transaction's staging and rollback, and the engine against a real local server."""

from __future__ import annotations

import json
from pathlib import Path

import ayon_api
import pytest

from ayon_launcher.localserver.seed import DEMO_ADDONS_DIR, demo_templates
from ayon_launcher.pipeline.publish.anatomy import Anatomy, AnatomyError, format_template
from ayon_launcher.pipeline.publish.engine import (
    PublishError,
    discover_plugins,
    effective_targets,
    run_publish,
    select_plugins,
)
from ayon_launcher.pipeline.publish.journal import journal_dir, recover, remove_placed
from ayon_launcher.pipeline.publish.metadata import (
    MetadataError,
    load_metadata,
    parse_metadata,
    sequence_frame,
)
from ayon_launcher.pipeline.publish.transaction import PublishTransaction, TransactionError
from ayon_launcher.support.errors import UsageError


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path, monkeypatch):
    """Publish journals go to the launcher's state folder: a test's own, not the user's."""
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "launcher-local"))


DEMO_PLUGINS = DEMO_ADDONS_DIR / "demo_tools/client/ayon_demo_tools/plugins/publish"
PROJECT = "demo_Commercial"


# -- anatomy --------------------------------------------------------------------------------
def _anatomy(root: str = "/mnt/proj") -> Anatomy:
    project = {"name": PROJECT, "config": {
        "roots": {"work": {"linux": root, "windows": "P:/proj", "darwin": "/Volumes/proj"}},
        "templates": demo_templates()}}
    return Anatomy.from_project(project, platform="linux")


_DATA = {"project": {"name": PROJECT, "code": "demo"}, "hierarchy": "assets/characters",
         "folder": {"name": "robot"}, "product": {"name": "modelMain", "type": "model"},
         "version": 7, "ext": "abc"}


def test_publish_path_from_demo_anatomy():
    anatomy = _anatomy()
    assert anatomy.format_path("publish", _DATA) == (
        "/mnt/proj/demo_Commercial/assets/characters/robot/publish/model/modelMain/v007/"
        "demo_robot_modelMain_v007.abc")
    assert anatomy.format_path("publish", {**_DATA, "frame": 12, "output": "review"},
                               rootless=True) == (
        "{root[work]}/demo_Commercial/assets/characters/robot/publish/model/modelMain/v007/"
        "demo_robot_modelMain_v007_review.0012.abc")
    rootless = anatomy.format_path("publish", _DATA, rootless=True)
    assert anatomy.fill_root(rootless) == Path(anatomy.format_path("publish", _DATA))


def test_references_resolve_from_common_templates_as_a_real_project_keeps_them():
    # A project made by the real server (and the demo project) keeps the version/frame formats
    # under templates["common"]; an older project may keep them at the top level: both work.
    templates = demo_templates()
    assert {"version", "version_padding", "frame", "frame_padding"} <= set(templates["common"])
    assert "version" not in templates
    legacy = {**{k: v for k, v in templates.items() if k != "common"}, **templates["common"]}
    project = {"name": PROJECT, "config": {"roots": {"work": {"linux": "/mnt/proj"}},
                                           "templates": legacy}}
    anatomy = Anatomy.from_project(project, platform="linux")
    assert anatomy.format_path("publish", _DATA) == _anatomy().format_path("publish", _DATA)
    assert "/v003/" in anatomy.format_path("publish", {**_DATA, "version": 3})


def test_template_references_optional_parts_and_errors():
    scopes = [{"pad": 3, "v": "v{version:0>{@pad}}"}]
    assert format_template("{@v}<_{missing}><.{frame:0>4}>.{ext}", {"version": 2, "ext": "x"},
                           scopes) == "v002.x"
    assert format_template("a<_{x[y]}>b", {"x": {"y": "z"}}) == "a_zb"
    with pytest.raises(AnatomyError, match=r"needs '\{task\[name\]\}'"):
        format_template("{task[name]}/{ext}", {"task": {}, "ext": "x"})
    with pytest.raises(AnatomyError, match=r"'\{@nope\}' points to no template"):
        format_template("{@nope}", {})
    with pytest.raises(AnatomyError, match="cycle"):
        format_template("{@a}", {}, [{"a": "{@b}", "b": "{@a}"}])
    with pytest.raises(AnatomyError, match="unclosed"):
        format_template("a<{b}", {"b": 1})
    with pytest.raises(AnatomyError, match="cannot format"):
        format_template("{version:0>3d}", {"version": "one"})


def test_anatomy_errors_name_the_project():
    anatomy = _anatomy()
    with pytest.raises(AnatomyError, match="no 'render' template named 'default'"):
        anatomy.format_path("render", _DATA)
    with pytest.raises(AnatomyError, match=r"'publish/default' template of project "
                                           r"'demo_Commercial' needs '\{ext\}'"):
        anatomy.format_path("publish", {k: v for k, v in _DATA.items() if k != "ext"})
    no_root = Anatomy(PROJECT, {}, demo_templates())
    with pytest.raises(AnatomyError, match="has no root 'work'"):
        no_root.format_path("publish", _DATA)


def test_rootless_path_without_a_root_on_this_platform():
    no_root = Anatomy(PROJECT, {}, demo_templates())
    rootless = no_root.format_path("publish", _DATA, rootless=True)
    assert rootless.startswith("{root[work]}/demo_Commercial/")
    with pytest.raises(AnatomyError, match="project 'demo_Commercial' has no root 'work' for "
                                           "platform "):
        no_root.fill_root(rootless)


# -- metadata -------------------------------------------------------------------------------
def test_metadata_aliases_shorthand_and_relative_paths(tmp_path):
    (tmp_path / "extra").mkdir()
    job = parse_metadata({
        "session": {"AYON_PROJECT_NAME": PROJECT, "AYON_FOLDER_PATH": "/shots/sq01/sh010",
                    "AYON_TASK_NAME": "animation"},
        "comment": "c", "pluginPaths": ["extra"],
        "instances": [
            {"subset": "animMain", "family": "animation", "stagingDir": "render",
             "files": ["a.abc", "b.1001.exr", "b.1002.exr"], "frameStart": 1001},
            {"productName": "cam", "productType": "camera", "folderPath": "/shots/sq01/sh020",
             "task": "compositing", "comment": "own",
             "representations": [{"name": "fbx", "files": "/abs/cam.fbx"}]},
        ]}, tmp_path / "job.json")
    assert (job.project, job.folder, job.task) == (PROJECT, "/shots/sq01/sh010", "animation")
    assert job.plugin_paths == [str(tmp_path / "extra")]
    first, second = job.instances
    assert (first["productName"], first["productType"], first["frameStart"]) == (
        "animMain", "animation", 1001)
    assert first["folderPath"] == "/shots/sq01/sh010" and first["comment"] == "c"
    assert [(r["name"], r["files"]) for r in first["representations"]] == [
        ("abc", [str(tmp_path / "render/a.abc")]),
        ("exr", [str(tmp_path / "render/b.1001.exr"), str(tmp_path / "render/b.1002.exr")]),
    ]
    assert second["folderPath"] == "/shots/sq01/sh020" and second["task"] == "compositing"
    assert second["comment"] == "own"
    assert second["representations"][0]["files"] == ["/abs/cam.fbx"]
    assert second["representations"][0]["ext"] == "fbx"


def test_instance_context_takes_the_job_level_keys(tmp_path):
    job = parse_metadata({
        "project": PROJECT, "folder": "/f", "task": "t", "instances": [
            {"productName": "a", "productType": "model", "files": ["a.abc"],
             "asset": "/shots/sh010", "taskName": "animation"},
            {"productName": "b", "productType": "model", "files": ["b.abc"],
             "session": {"AYON_FOLDER_PATH": "/shots/sh020"}},
            {"productName": "c", "productType": "model", "files": ["c.abc"]},
        ]}, tmp_path / "job.json")
    assert [(i["folderPath"], i["task"]) for i in job.instances] == [
        ("/shots/sh010", "animation"), ("/shots/sh020", "t"), ("/f", "t")]


@pytest.mark.parametrize(("data", "message"), [
    ({"project": "p", "folder": "f", "task": "t", "instances": [3]},
     "instances[0] must be an object"),
    ({"project": "p", "folder": "f", "task": "t", "instances": [
        {"productName": "m", "productType": "model", "representations": [{"files": []}]}]},
     "instances[0].representations[0].files must be a non-empty list of paths"),
    ({"project": "p", "folder": "f", "task": "t", "instances": [
        {"productName": "", "productType": "model", "files": ["a"]}]},
     "instances[0].productName must be a non-empty string"),
    ({"project": "p", "folder": "f", "task": "t", "pluginPaths": "x", "instances": [{}]},
     "'pluginPaths' must be a list of folders"),
    ({"project": "p", "folder": "f", "task": "t", "comment": 3, "instances": [{}]},
     "'comment' must be a string"),
    ({"project": "p", "task": "t", "instances": [{}]}, "'folder' must be a non-empty string"),
])
def test_metadata_errors_are_usage_errors(tmp_path, data, message):
    with pytest.raises(MetadataError) as info:
        parse_metadata(data, tmp_path / "job.json")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, UsageError)


def test_load_metadata_file_problems(tmp_path):
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(MetadataError, match="not a UTF-8 text file"):
        load_metadata(binary)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(MetadataError, match="invalid JSON"):
        load_metadata(deep)


def test_sequence_frame():
    assert sequence_frame("/x/beauty.1001.exr") == ("beauty.", 1001, ".exr")
    assert sequence_frame("robot.abc") is None


# -- plug-in discovery and selection ------------------------------------------------------
PLUGINS = '''
import pyblish.api


class CollectA(pyblish.api.ContextPlugin):
    order = pyblish.api.CollectorOrder


class ValidateFarmOnly(pyblish.api.InstancePlugin):
    order = pyblish.api.ValidatorOrder
    targets = ["farm"]


class MayaOnly(pyblish.api.ContextPlugin):
    order = pyblish.api.ValidatorOrder
    hosts = ["maya"]


class Inactive(pyblish.api.ContextPlugin):
    order = pyblish.api.IntegratorOrder
    active = False
'''


def test_discovery_targets_hosts_and_duplicates(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (first / "plugins.py").write_text(PLUGINS)
    (first / "_hidden.py").write_text("raise RuntimeError('never imported')")
    (second / "again.py").write_text(
        "import pyblish.api\n\nclass CollectA(pyblish.api.ContextPlugin):\n"
        "    order = pyblish.api.CollectorOrder - 0.4\n")
    plugins = discover_plugins([first, second, tmp_path / "missing"])
    assert [p.__name__ for p in plugins] == ["CollectA", "ValidateFarmOnly", "MayaOnly",
                                             "Inactive"]
    assert plugins[0].order == 0  # the first folder's CollectA wins
    assert [p.__name__ for p in select_plugins(plugins, effective_targets([]))] == ["CollectA"]
    assert [p.__name__ for p in select_plugins(plugins, effective_targets(["farm"]))] == [
        "CollectA", "ValidateFarmOnly"]


def test_failure_texts_say_what_stays():
    from ayon_launcher.pipeline.publish.engine import PublishReport, publish_failure_message

    report = PublishReport("/job.json", PROJECT, "/f", "t", ["default"], error="boom")
    assert report.lines()[-2:] == ["Publish failed: boom", "Nothing was integrated."]
    assert publish_failure_message(report) == "publish failed: boom; nothing was integrated"
    report.unresolved = True  # the server never confirmed the commit: the files stay
    assert report.lines()[-1] == "Publish failed: boom"
    assert publish_failure_message(report) == "publish failed: boom"
    assert report.failure_text == ""
    assert PublishReport.published_label({"productName": "m", "version": 3}) == "m v003"


def test_effective_targets():
    assert effective_targets(["farm,review", "farm", " x "]) == ["default", "farm", "review",
                                                                 "x"]


def test_addon_failing_to_list_its_plugins_is_named():
    import sys

    from ayon_launcher.pipeline.addons.base import AYONAddon
    from ayon_launcher.pipeline.commands.publish import addon_plugin_paths
    from ayon_launcher.support.errors import LauncherError

    class Exits(AYONAddon):
        name = "exits"

        def publish_plugin_paths(self) -> list[str]:
            sys.exit(3)

    class Fine(AYONAddon):
        name = "fine"

        def publish_plugin_paths(self) -> list[str]:
            return [str(DEMO_PLUGINS)]

    assert addon_plugin_paths([Fine()]) == [str(DEMO_PLUGINS)]
    with pytest.raises(LauncherError, match=r"^add-on exits could not list its publish "
                                            r"plug-ins: called sys.exit\(3\)$"):
        addon_plugin_paths([Fine(), Exits()])


def test_broken_plugin_file_stops_discovery(tmp_path):
    (tmp_path / "bad.py").write_text("import no_such_module_here\n")
    with pytest.raises(PublishError, match="bad.py failed to load: ModuleNotFoundError"):
        discover_plugins([tmp_path])


# -- against a real server ----------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("engine-server"), demo=True) as server:
        yield server


@pytest.fixture
def api(server) -> ayon_api.ServerAPI:
    return ayon_api.ServerAPI(server.url, token=server.service_api_key)


def _job(tmp_path: Path, product: str, **instance) -> Path:
    (tmp_path / "robot.abc").write_text("data " + product)
    data = {"project": PROJECT, "folder": "robot", "task": "modeling", "instances": [
        {"productName": product, "productType": "model", "files": ["robot.abc"], **instance}]}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(data))
    return path


def test_engine_reports_each_result_and_publishes(api, server, tmp_path):
    seen = []
    report = run_publish(load_metadata(_job(tmp_path, "modelEngine")), api, [DEMO_PLUGINS],
                         ["farm"], on_result=seen.append)
    assert report.success, report.error
    assert [r.plugin for r in seen] == ["CollectFarmJob", "ValidateFarmJob",
                                        "IntegrateDemoProduct"]
    assert seen == report.results and all(r.success for r in seen)
    assert any("collected modelEngine (model)" in line for line in seen[0].records)
    [published] = report.published
    assert published["productName"] == "modelEngine" and published["version"] == 1
    assert Path(published["files"][0]).read_text() == "data modelEngine"
    json.dumps(report.to_dict())  # the report is plain data
    assert report.lines()[-1] == "Publish finished."


def test_ambiguous_folder_name_and_unknown_task_are_reported_as_such(api, tmp_path):
    from ayon_api.operations import OperationsSession, new_folder_entity

    session = OperationsSession(con=api)
    for parent in ("/assets", "/shots"):
        parent_id = api.get_folder_by_path(PROJECT, parent)["id"]
        session.create_entity(PROJECT, "folder",
                              new_folder_entity("twin", "Asset", parent_id=parent_id))
    session.commit()
    report = run_publish(load_metadata(_job(tmp_path, "modelTwin", folderPath="twin")), api,
                         [DEMO_PLUGINS], ["farm"])
    assert not report.success
    assert report.failed.plugin == "ValidateFarmJob"
    assert report.failed.error == ("folder name 'twin' is ambiguous in project "
                                   f"{PROJECT}: use a path (/assets/twin, /shots/twin)")
    report = run_publish(load_metadata(_job(tmp_path, "modelNoTask", task="nosuch")), api,
                         [DEMO_PLUGINS], ["farm"])
    assert not report.success
    assert report.failed.error.startswith("unknown task of /assets/characters/robot 'nosuch'")


DISABLE = '''
import pyblish.api


class SkipSecond(pyblish.api.InstancePlugin):
    order = pyblish.api.CollectorOrder + 0.3

    def process(self, instance):
        if instance.data["productName"] == "modelSkipped":
            instance.data["publish"] = False
'''


def test_instance_disabled_by_a_collector_is_not_published(api, tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "skip.py").write_text(DISABLE)
    path = _job(tmp_path, "modelKept")
    data = json.loads(path.read_text())
    data["pluginPaths"] = ["plugins"]
    data["instances"].append({"productName": "modelSkipped", "productType": "model",
                              "files": ["robot.abc"]})
    path.write_text(json.dumps(data))
    report = run_publish(load_metadata(path), api, [DEMO_PLUGINS], ["farm"])
    assert report.success, report.error
    assert [p["productName"] for p in report.published] == ["modelKept"]
    folder = api.get_folder_by_path(PROJECT, "/assets/characters/robot")
    assert api.get_product_by_name(PROJECT, "modelSkipped", folder["id"]) is None


def test_no_matching_plugins_and_missing_plugin_folder(api, tmp_path):
    job = load_metadata(_job(tmp_path, "modelNone"))
    report = run_publish(job, api, [tmp_path / "empty"], ["farm"])
    assert not report.success
    assert report.error.startswith("no publish plug-ins match the targets default, farm")
    # Checked with the metadata, before the publish asks the server anything.
    job.raw["pluginPaths"] = ["nowhere"]
    with pytest.raises(MetadataError, match="plug-in folder does not exist"):
        parse_metadata(job.raw, job.path)


# -- the transaction on its own -------------------------------------------------------------
def test_discard_leaves_no_trace(api, tmp_path):
    source = tmp_path / "src.txt"
    source.write_text("x")
    root = tmp_path / "root"
    (root / "existing").mkdir(parents=True)
    transaction = PublishTransaction(api, PROJECT)
    transaction.add_file(source, root / "existing" / "a.txt")
    transaction.add_file(source, root / "new" / "deep" / "b.txt")
    with pytest.raises(TransactionError, match="two files of this publish go to"):
        transaction.add_file(source, root / "new" / "deep" / "b.txt")
    with pytest.raises(TransactionError, match="file to publish not found"):
        transaction.add_file(tmp_path / "missing", root / "c.txt")
    assert not (root / "new").exists() and not (root / "existing" / "a.txt").exists()
    transaction.discard()
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["existing"]
    with pytest.raises(TransactionError, match="already discarded"):
        transaction.add_file(source, root / "d.txt")


def test_existing_destination_is_never_replaced(api, tmp_path):
    (tmp_path / "taken.txt").write_text("old")
    (tmp_path / "src.txt").write_text("new")
    transaction = PublishTransaction(api, PROJECT)
    with pytest.raises(TransactionError, match="destination already exists"):
        transaction.add_file(tmp_path / "src.txt", tmp_path / "taken.txt")
    assert (tmp_path / "taken.txt").read_text() == "old"


def test_refused_commit_undoes_merged_files_but_keeps_others(api, tmp_path):
    """The version folder appears between staging and commit (another process): our files
    are merged into it, then removed again when the server refuses the batch."""
    from ayon_api.operations import new_version_entity

    (tmp_path / "src.txt").write_text("ours")
    target = tmp_path / "root" / "v001"
    (tmp_path / "root").mkdir()
    transaction = PublishTransaction(api, PROJECT)
    staged = transaction.add_file(tmp_path / "src.txt", target / "sub" / "ours.txt")
    assert staged.size == 4 and not target.exists()
    target.mkdir()
    (target / "theirs.txt").write_text("theirs")
    # A version of a product that does not exist: the server refuses the whole batch.
    transaction.create_entity("version", new_version_entity(1, "f" * 32))
    with pytest.raises(TransactionError, match=r"refused the integration \(create version: "):
        transaction.commit()
    assert sorted(p.name for p in target.rglob("*")) == ["theirs.txt"]
    assert [p.name for p in (tmp_path / "root").iterdir()] == ["v001"]  # no staging left
    assert transaction.state == "rolled back"


# -- crash journal --------------------------------------------------------------------------
def test_journal_lives_while_staging_and_ends_with_the_transaction(api, tmp_path):
    (tmp_path / "src.txt").write_text("x")
    transaction = PublishTransaction(api, PROJECT)
    assert not journal_dir().exists()  # nothing staged yet: no journal
    transaction.add_file(tmp_path / "src.txt", tmp_path / "root" / "v001" / "a.txt")
    data = json.loads((journal_dir() / f"{transaction.id}.json").read_text())
    assert data["state"] == "staging" and data["project"] == PROJECT
    assert data["stagingDirs"] == [str(tmp_path)]
    # The lock of this live transaction (this process) keeps recovery away from it.
    assert recover(api, PROJECT) == []
    assert (tmp_path / f".root.publish-{transaction.id}" / "v001" / "a.txt").is_file()
    transaction.discard()
    assert list(journal_dir().iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["launcher-local", "src.txt"]


def test_unwritable_journal_is_a_transaction_error_not_bad_input(api, tmp_path, monkeypatch):
    import errno

    from ayon_launcher.support import atomicfile

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "src.txt").write_text("x")
    monkeypatch.setattr(atomicfile, "write_json_atomic", full)
    transaction = PublishTransaction(api, PROJECT)
    with pytest.raises(TransactionError, match="cannot write the publish journal .*: No space "
                                               "left on device") as info:
        transaction.add_file(tmp_path / "src.txt", tmp_path / "root" / "a.txt")
    assert not isinstance(info.value, UsageError) and info.value.exit_code == 1
    transaction.discard()
    assert list(journal_dir().iterdir()) == []


def test_recovery_finds_every_staging_entry_a_transaction_makes(api, tmp_path):
    from ayon_launcher.pipeline.publish.journal import remove_staging

    (tmp_path / "src.txt").write_text("x")
    (tmp_path / "root" / "existing").mkdir(parents=True)
    transaction = PublishTransaction(api, PROJECT)
    loose = transaction.add_file(tmp_path / "src.txt", tmp_path / "root" / "existing" / "a.txt")
    transaction.add_file(tmp_path / "src.txt", tmp_path / "root" / "new" / "b.txt")
    assert loose.staged.is_file()
    assert remove_staging(transaction.id, [tmp_path / "root", tmp_path / "root" / "existing"]
                          ) == 2
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "root").rglob("*")
                  ) == ["root/existing"]
    transaction.discard()


def test_recovery_leaves_other_projects_and_servers_alone(api, tmp_path):
    stage = tmp_path / "stage"
    stage.mkdir()
    journal_dir().mkdir(parents=True)
    for name, project, server in (("aaaa", "other_project", api.base_url),
                                  ("bbbb", PROJECT, "http://elsewhere:5000")):
        (stage / f".v001.publish-{name}").mkdir()
        (journal_dir() / f"{name}.json").write_text(json.dumps({
            "id": name, "project": project, "server": server, "pid": 1,
            "state": "staging", "stagingDirs": [str(stage)]}))
    (journal_dir() / "broken.json").write_text("{")
    assert recover(api, PROJECT) == []
    assert len(list(stage.iterdir())) == 2
    [done] = recover(api, "other_project")
    assert done.line() == "Interrupted publish aaaa (pid 1): removed its staging (1 entry)"
    assert [p.name for p in stage.iterdir()] == [".v001.publish-bbbb"]
    assert sorted(p.name for p in journal_dir().iterdir()) == ["bbbb.json", "broken.json"]


def test_roll_back_removes_only_our_own_files(tmp_path):
    """A file that replaced ours at its path (another inode) and others' files stay."""
    version = tmp_path / "publish" / "v001"
    (version / "deep").mkdir(parents=True)

    def record(path: Path) -> dict:
        info = path.stat()
        return {"path": str(path), "device": info.st_dev, "inode": info.st_ino,
                "size": info.st_size, "mtime": info.st_mtime_ns}

    ours = version / "deep" / "ours.txt"
    ours.write_text("ours")
    replaced = version / "replaced.txt"
    replaced.write_text("ours too")
    records = [record(ours), record(replaced), {"path": str(version / "gone.txt"),
                                                "device": 1, "inode": 1, "size": 1}]
    replaced.unlink()
    (tmp_path / "other.txt").write_text("another publisher's")
    (tmp_path / "other.txt").rename(replaced)  # another file there now (maybe same inode)
    assert remove_placed(records, [str(version)]) == 1
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "publish", "publish/v001", "publish/v001/replaced.txt"]
    replaced.unlink()
    (version / "deep").mkdir()
    ours.write_text("ours")
    assert remove_placed([record(ours)], [str(version)]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["publish"]  # pruned up to the root only
