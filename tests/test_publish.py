"""``ayon publish`` end to end: the real CLI in subprocesses against the local server."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ayon_api
import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_messages

PROJECT = "demo_Commercial"
ROBOT = "/assets/characters/robot"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own: publishes add products to its demo project."""
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("publish-server"), demo=True) as server:
        yield server


@pytest.fixture(scope="module")
def env(tmp_path_factory, server) -> dict[str, str]:
    # One launcher home for the module: the add-ons are downloaded once.
    env = isolated_env(tmp_path_factory.mktemp("publish-home"), server.url)
    env["AYON_API_KEY"] = server.service_api_key
    return env


@pytest.fixture(scope="module")
def api(server) -> ayon_api.ServerAPI:
    con = ayon_api.ServerAPI(server.url)
    con.login(server.admin_user, server.admin_password)
    return con


def project_root(server) -> Path:
    return server.data_dir / "projects"


def write_demo_job(folder: Path, product: str = "modelMain", render: str | None = "renderMain",
                   **extra) -> Path:
    """A farm job as a render farm would write it: a model file and a 3-frame render."""
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "robot.abc").write_bytes(b"alembic " + product.encode() * 50)
    instances = [{"productName": product, "productType": "model", "files": ["out/robot.abc"],
                  "families": ["review"]}]
    if render:
        for frame in (1001, 1002, 1003):
            (out / f"beauty.{frame}.exr").write_bytes(f"frame {frame}".encode() * 10)
        instances.append({
            "productName": render, "productType": "render", "frameStart": 1001,
            "frameEnd": 1003,
            "representations": [{"name": "exr", "stagingDir": "out",
                                 "files": [f"beauty.{f}.exr" for f in (1001, 1002, 1003)]}],
        })
    job = {"project": PROJECT, "folder": ROBOT, "task": "modeling", "comment": "farm render",
           "user": "admin", "instances": instances, **extra}
    path = folder / "demo.json"
    path.write_text(json.dumps(job, indent=2), encoding="utf-8")
    return path


def error_lines(done) -> list[str]:
    """stderr without the log lines of the first add-on download; never a traceback."""
    assert "Traceback" not in done.stderr
    return error_messages([line for line in done.stderr.strip().splitlines()
                           if not line.startswith("INFO: installed ")])


def tree(root: Path) -> list[str]:
    """Every file and folder (hidden ones too) under ``root``."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def product_names(api, folder_path: str = ROBOT) -> set[str]:
    folder = api.get_folder_by_path(PROJECT, folder_path)
    return {p["name"] for p in api.get_products(PROJECT, folder_ids=[folder["id"]])}


def test_publish_end_to_end_then_version_2(server, env, api, tmp_path):
    job = write_demo_job(tmp_path, product="modelE2e", render="renderE2e")
    done = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert done.returncode == 0, done.stderr
    assert "Published /assets/characters/robot modelE2e v001 (1 file)" in done.stdout
    assert "Published /assets/characters/robot renderE2e v001 (3 files)" in done.stdout
    assert "Traceback" not in done.stderr

    publish_dir = project_root(server) / PROJECT / "assets/characters/robot/publish"
    model_file = publish_dir / "model/modelE2e/v001/demo_robot_modelE2e_v001.abc"
    assert sha256(model_file) == sha256(tmp_path / "out/robot.abc")
    frames = sorted((publish_dir / "render/renderE2e/v001").iterdir())
    assert [f.name for f in frames] == [f"demo_robot_renderE2e_v001.{n}.exr"
                                        for n in (1001, 1002, 1003)]
    assert frames[0].read_bytes() == (tmp_path / "out/beauty.1001.exr").read_bytes()

    folder = api.get_folder_by_path(PROJECT, ROBOT)
    task = api.get_task_by_name(PROJECT, folder["id"], "modeling")
    product = api.get_product_by_name(PROJECT, "modelE2e", folder["id"])
    assert product["productType"] == "model"
    version = api.get_last_version_by_product_id(PROJECT, product["id"])
    assert version["version"] == 1 and version["taskId"] == task["id"]
    assert version["attrib"]["comment"] == "farm render"
    assert version["author"] == "admin"
    [representation] = api.get_representations(PROJECT, version_ids=[version["id"]])
    assert representation["name"] == "abc"
    [file_info] = representation["files"]
    assert file_info["path"] == ("{root[work]}/demo_Commercial/assets/characters/robot/publish/"
                                 "model/modelE2e/v001/demo_robot_modelE2e_v001.abc")
    assert file_info["size"] == model_file.stat().st_size
    assert file_info["hash"] == sha256(model_file)
    render = api.get_product_by_name(PROJECT, "renderE2e", folder["id"])
    render_version = api.get_last_version_by_product_id(PROJECT, render["id"])
    assert render_version["attrib"]["frameStart"] == 1001
    [exr] = api.get_representations(PROJECT, version_ids=[render_version["id"]])
    assert len(exr["files"]) == 3

    # The same job again: version 2 next to version 1, which stays as it was.
    again = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert again.returncode == 0, again.stderr
    assert "modelE2e v002 (1 file)" in again.stdout
    versions = sorted(v["version"] for v in api.get_versions(PROJECT,
                                                             product_ids=[product["id"]]))
    assert versions == [1, 2]
    assert (publish_dir / "model/modelE2e/v002/demo_robot_modelE2e_v002.abc").is_file()
    assert sha256(model_file) == sha256(tmp_path / "out/robot.abc")
    assert not [p for p in tree(publish_dir) if "/." in "/" + p]  # no staging left-overs


def test_without_farm_target_nothing_is_collected(server, env, api, tmp_path):
    job = write_demo_job(tmp_path, product="modelNoTarget", render=None)
    done = run_ayon(["publish", str(job)], env)
    assert done.returncode == 1
    assert error_lines(done) == [
        "ayon: error: publish failed: nothing to publish: the collectors found no instance "
        "with the targets default (a farm job needs --targets farm); nothing was integrated"]
    assert "modelNoTarget" not in product_names(api)


def test_failing_validator_leaves_nothing_behind(server, env, api, tmp_path):
    job = write_demo_job(tmp_path, product="modelMissing", render="renderMissing")
    (tmp_path / "out/beauty.1002.exr").unlink()  # the farm lost a frame
    before = tree(project_root(server))
    done = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert done.returncode == 1
    [line] = error_lines(done)
    assert line.startswith("ayon: error: publish failed: Validate farm job (ValidateFarmJob) "
                           "[renderMissing]: file of representation 'exr' not found: ")
    assert "beauty.1002.exr" in line and line.endswith("nothing was integrated")
    assert "FAILED Validate farm job (ValidateFarmJob) [renderMissing]" in done.stdout
    assert "Integrate product" not in done.stdout  # stopped before integration
    assert tree(project_root(server)) == before
    assert not {"modelMissing", "renderMissing"} & product_names(api)


FAIL_AFTER_INTEGRATION = '''
import pyblish.api


class ExplodeAfterIntegration(pyblish.api.ContextPlugin):
    label = "Explode after integration"
    order = pyblish.api.IntegratorOrder + 0.4

    def process(self, context):
        staged = context.data["ayonTransaction"].files
        self.log.info("%d files staged", len(staged))
        raise RuntimeError("notification service is down")
'''


def test_plugin_failing_after_integrator_rolls_everything_back(server, env, api, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "explode.py").write_text(FAIL_AFTER_INTEGRATION, encoding="utf-8")
    job = write_demo_job(tmp_path, product="modelLate", render="renderLate",
                         pluginPaths=["plugins"])
    before = tree(project_root(server))
    done = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert done.returncode == 1
    assert "ok     Integrate product (IntegrateDemoProduct) [renderLate]" in done.stdout
    assert error_lines(done) == [
        "ayon: error: publish failed: Explode after integration (ExplodeAfterIntegration): "
        "RuntimeError: notification service is down; nothing was integrated"]
    assert tree(project_root(server)) == before  # staged copies removed, nothing placed
    assert not {"modelLate", "renderLate"} & product_names(api)


CONFLICT_BEFORE_COMMIT = '''
import pyblish.api


class ConcurrentPublish(pyblish.api.ContextPlugin):
    """Another publisher takes version 1 of the product between staging and commit."""

    label = "Concurrent publish"
    order = pyblish.api.IntegratorOrder + 0.4

    def process(self, context):
        from ayon_api.operations import OperationsSession, new_version_entity

        api = context.data["ayonApi"]
        for instance in context:
            if instance.data["productName"] != "renderRace":
                continue
            version = instance.data["published"]["version"]
            product = [e for kind, e in context.data["ayonTransaction"].entities
                       if kind == "product" and e["name"] == "renderRace"][0]
            session = OperationsSession(con=api)
            session.create_entity(context.data["projectName"], "product", dict(product))
            session.create_entity(context.data["projectName"], "version",
                                  new_version_entity(version, product["id"]))
            session.commit()
'''


def race_product_id(api) -> str:
    folder = api.get_folder_by_path(PROJECT, ROBOT)
    return api.get_product_by_name(PROJECT, "renderRace", folder["id"])["id"]


def test_server_refusing_the_commit_removes_the_placed_files(server, env, api, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "race.py").write_text(CONFLICT_BEFORE_COMMIT, encoding="utf-8")
    job = write_demo_job(tmp_path, product="modelRace", render="renderRace",
                         pluginPaths=["plugins"])
    before = tree(project_root(server))
    done = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert done.returncode == 1, done.stderr
    assert error_lines(done) == [
        "ayon: error: publish failed: the server refused the integration (create product: "
        f"Product '{race_product_id(api)}' already exists); nothing was integrated"]
    # The files were renamed into place, then removed again when the batch was refused.
    assert tree(project_root(server)) == before
    folder = api.get_folder_by_path(PROJECT, ROBOT)
    assert api.get_product_by_name(PROJECT, "modelRace", folder["id"]) is None
    race = api.get_product_by_name(PROJECT, "renderRace", folder["id"])
    assert race["id"] == race_product_id(api)
    # Only the other publisher's version exists; ours (with representations) was not kept.
    [version] = api.get_versions(PROJECT, product_ids=[race["id"]])
    assert list(api.get_representations(PROJECT, version_ids=[version["id"]])) == []


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", "invalid JSON at line 1 column 2"),
    ("[1, 2]", "the metadata must be a JSON object"),
    ('{"project": "demo_Commercial", "folder": "/assets", "task": "x"}',
     "'instances' must be a non-empty list"),
    ('{"project": "demo_Commercial", "folder": "/a", "task": "t", "instances": '
     '[{"productName": "m", "productType": "model"}]}',
     "instances[0] needs 'representations' or 'files'"),
    ('{"project": 3, "folder": "/a", "task": "t", "instances": []}',
     "'project' must be a non-empty string"),
])
def test_bad_metadata_is_one_line(env, tmp_path, content, expected):
    path = tmp_path / "job.json"
    path.write_text(content, encoding="utf-8")
    done = run_ayon(["publish", str(path), "--targets", "farm"], env)
    assert done.returncode == 2
    [line] = error_lines(done)
    assert line.startswith("ayon: error: ") and expected in line
    assert done.stdout == ""


def test_missing_metadata_file_and_folder(env, tmp_path):
    done = run_ayon(["publish", str(tmp_path / "nope.json")], env)
    assert done.returncode == 2
    assert error_lines(done) == [
        f"ayon: error: metadata file not found: {tmp_path / 'nope.json'}"]
    done = run_ayon(["publish", str(tmp_path)], env)
    assert done.returncode == 2
    assert "is a folder, not a JSON file" in done.stderr


def test_missing_plugin_folder_fails_before_any_server_call(env, tmp_path):
    job = write_demo_job(tmp_path, render=None, pluginPaths=["nowhere"])
    done = run_ayon(["--skip-bootstrap", "publish", str(job)], env)  # no server to ask
    assert done.returncode == 2
    assert error_lines(done) == [
        f"ayon: error: {job}: plug-in folder does not exist: {tmp_path / 'nowhere'}"]


def test_broken_plugin_file_is_named(env, api, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text("import pyblish.api\nclass Oops(:\n", encoding="utf-8")
    job = write_demo_job(tmp_path, product="modelBroken", render=None, pluginPaths=["plugins"])
    done = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert done.returncode == 1
    [line] = error_lines(done)
    assert f"publish plug-in file {plugins / 'broken.py'} failed to load: SyntaxError" in line
    assert "modelBroken" not in product_names(api)


def test_unknown_folder_fails_validation(env, api, tmp_path):
    job = write_demo_job(tmp_path, product="modelNowhere", render=None)
    data = json.loads(job.read_text())
    data["folder"] = "/assets/characters/nobody"
    job.write_text(json.dumps(data))
    done = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert done.returncode == 1
    assert ("folder '/assets/characters/nobody' not found in project 'demo_Commercial'"
            in done.stderr)


def test_gui_in_headless_mode_and_no_server(env, tmp_path):
    job = write_demo_job(tmp_path, render=None)
    for flag in ("--gui", "-g"):  # the reference's short form too
        done = run_ayon(["--headless", "publish", str(job), flag], env)
        assert done.returncode == 2
        assert error_lines(done) == [
            "ayon: error: --gui cannot be used in headless mode"]
    done = run_ayon(["--skip-bootstrap", "publish", str(job)], env)
    assert done.returncode == 2  # --skip-bootstrap with a command that needs the server: usage
    assert error_lines(done) == [
        "ayon: error: publish needs the AYON server, but --skip-bootstrap was given"]


# -- crash safety: a publish killed (SIGKILL) at the dangerous moments, then the next one ----
CRASH_PLUGINS = Path(__file__).resolve().parent / "publish_plugins"
posix_only = pytest.mark.skipif(os.name == "nt", reason="kills its publish with SIGKILL")


def journal_files(env) -> list[str]:
    folder = Path(env["AYON_LAUNCHER_LOCAL_DIR"]) / "state" / "publish"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def hidden(root: Path) -> list[str]:
    return [p for p in tree(root) if "/." in "/" + p]


def crash_env(env, mode: str) -> dict[str, str]:
    return {**env, "AYON_TEST_PUBLISH_CRASH": mode}


def crash_job(folder: Path, product: str, render: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_demo_job(folder, product=product, render=render,
                          pluginPaths=[str(CRASH_PLUGINS)])


def recovering_publish(env, folder: Path, product: str) -> subprocess.CompletedProcess:
    """The next publish (of another product of the project): it recovers first."""
    done = run_ayon(["publish", str(crash_job(folder, product)), "--targets", "farm"], env)
    assert done.returncode == 0, done.stderr
    assert f"{product} v001 (1 file)" in done.stdout
    return done


def published_paths(root: Path, product: str) -> list[str]:
    """Paths of ``product`` in the publish folders (not in staging folders)."""
    return [p for p in tree(root) if f"/{product}/" in f"/{p}/" and "/." not in f"/{p}"]


def new_paths(root: Path, before: list[str], product: str) -> list[str]:
    """What appeared under ``root`` since ``before``, other than ``product``'s files and the
    folders leading to them."""
    theirs = [p for p in tree(root) if product in p]
    return [p for p in tree(root) if p not in before and product not in p
            and not any(t.startswith(p + "/") for t in theirs)]


def interrupted_line(done) -> str:
    [line] = [x.strip() for x in done.stdout.splitlines() if "Interrupted publish" in x]
    return line


@posix_only
def test_killed_after_placing_files_is_rolled_back_by_the_next_publish(server, env, api,
                                                                         tmp_path):
    root = project_root(server)
    before = tree(root)
    job = crash_job(tmp_path / "a", "modelKilled", render="renderKilled")
    done = run_ayon(["publish", str(job), "--targets", "farm"],
                    crash_env(env, "placed"))
    assert done.returncode == -signal.SIGKILL, done.stderr
    # The dangerous state: 4 files in their final place, nothing on the server.
    placed = [p for p in tree(root) if p not in before and Path(p).suffix in {".abc", ".exr"}]
    assert len(placed) == 4 and not hidden(root)
    assert not {"modelKilled", "renderKilled"} & product_names(api)
    [journal, lock] = journal_files(env)
    assert journal.endswith(".json") and lock.endswith(".lock")

    done = recovering_publish(env, tmp_path / "b", "modelAfterKill")
    assert interrupted_line(done).endswith(
        "the server does not have its entities: removed 4 placed files")
    assert new_paths(root, before, "modelAfterKill") == []
    assert journal_files(env) == []

    # The destinations are free again: the killed job now publishes as version 1.
    again = run_ayon(["publish", str(job), "--targets", "farm"], env)
    assert again.returncode == 0, again.stderr
    assert "modelKilled v001 (1 file)" in again.stdout
    assert "renderKilled v001 (3 files)" in again.stdout
    assert "Interrupted publish" not in again.stdout
    assert not hidden(root) and journal_files(env) == []


@posix_only
def test_killed_after_the_server_applied_the_batch_keeps_the_files(server, env, api,
                                                                     tmp_path):
    root = project_root(server)
    job = crash_job(tmp_path / "a", "modelApplied")
    done = run_ayon(["publish", str(job), "--targets", "farm"], crash_env(env, "applied"))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "modelApplied" in product_names(api)
    files = published_paths(root, "modelApplied")
    assert journal_files(env) != []

    done = recovering_publish(env, tmp_path / "b", "modelAfterApplied")
    assert interrupted_line(done).endswith("the server has its entities: its files are kept")
    assert published_paths(root, "modelApplied") == files
    model = [p for p in files if p.endswith(".abc")]
    assert len(model) == 1 and sha256(root / model[0]) == sha256(tmp_path / "a/out/robot.abc")
    folder = api.get_folder_by_path(PROJECT, ROBOT)
    product = api.get_product_by_name(PROJECT, "modelApplied", folder["id"])
    version = api.get_last_version_by_product_id(PROJECT, product["id"])
    [representation] = api.get_representations(PROJECT, version_ids=[version["id"]])
    assert representation["files"][0]["path"].endswith(model[0].split("/")[-1])
    assert journal_files(env) == [] and not hidden(root)


@posix_only
def test_killed_during_staging_leaves_hidden_folders_the_next_publish_removes(
        server, env, api, tmp_path):
    root = project_root(server)
    before = tree(root)
    job = crash_job(tmp_path / "a", "modelStaging", render="renderStaging")
    done = run_ayon(["publish", str(job), "--targets", "farm"], crash_env(env, "staging:3"))
    assert done.returncode == -signal.SIGKILL, done.stderr
    # The model's and the render's staging folders (one when the project folder was new).
    leftovers = [p for p in hidden(root) if ".publish-" in p.split("/")[-1]]
    assert len(leftovers) in {1, 2}
    assert not published_paths(root, "modelStaging")

    done = recovering_publish(env, tmp_path / "b", "modelAfterStaging")
    entries = "1 entry" if len(leftovers) == 1 else "2 entries"
    assert interrupted_line(done).endswith(f"removed its staging ({entries})")
    assert not hidden(root) and journal_files(env) == []
    assert new_paths(root, before, "modelAfterStaging") == []
    assert not {"modelStaging", "renderStaging"} & product_names(api)


def test_lost_reply_of_an_applied_batch_keeps_the_files(server, env, api, tmp_path):
    root = project_root(server)
    job = crash_job(tmp_path, "modelLostReply")
    done = run_ayon(["publish", str(job), "--targets", "farm"], crash_env(env, "lost-reply"))
    assert done.returncode == 0, done.stderr
    assert "modelLostReply v001 (1 file)" in done.stdout
    assert ("WARNING: the server applied the integration although the call failed "
            "(ConnectionError: Connection aborted (test: reply lost))") in done.stderr
    [model] = [p for p in published_paths(root, "modelLostReply") if p.endswith(".abc")]
    assert sha256(root / model) == sha256(tmp_path / "out/robot.abc")
    assert "modelLostReply" in product_names(api)
    assert journal_files(env) == [] and not hidden(root)


def test_batch_that_never_reached_the_server_is_rolled_back(server, env, api, tmp_path):
    root = project_root(server)
    before = tree(root)
    job = crash_job(tmp_path, "modelNotSent", render="renderNotSent")
    done = run_ayon(["publish", str(job), "--targets", "farm"], crash_env(env, "not-sent"))
    assert done.returncode == 1
    assert error_lines(done) == [
        "ayon: error: publish failed: integration failed: ConnectionError: Connection aborted "
        "(test: reply lost); nothing was integrated"]
    assert tree(root) == before
    assert journal_files(env) == []


def test_unknown_outcome_leaves_the_files_for_the_next_publish(server, env, api, tmp_path):
    root = project_root(server)
    before = tree(root)
    job = crash_job(tmp_path / "a", "modelUnknown")
    done = run_ayon(["publish", str(job), "--targets", "farm"], crash_env(env, "unreachable"))
    assert done.returncode == 1
    [line] = error_lines(done)
    assert line.startswith("ayon: error: publish failed: the server did not confirm the "
                           "integration (ConnectionError: Connection aborted")
    assert "asking the server again failed too" in line
    assert line.endswith("the next publish of project 'demo_Commercial' finds out whether "
                         "the server has its entities")
    assert "Nothing was integrated." not in done.stdout
    assert len(published_paths(root, "modelUnknown")) > 0  # kept: the server may have them
    [journal] = journal_files(env)  # kept, without its lock: its process is done
    assert journal.endswith(".json")

    done = recovering_publish(env, tmp_path / "b", "modelAfterUnknown")
    assert interrupted_line(done).endswith(
        "the server does not have its entities: removed 1 placed file")
    assert new_paths(root, before, "modelAfterUnknown") == []
    assert journal_files(env) == []


def test_a_running_publish_is_never_recovered(server, env, api, tmp_path):
    root = project_root(server)
    signals = tmp_path / "signals"
    signals.mkdir()
    job = crash_job(tmp_path / "a", "modelLive", render="renderLive")
    live = subprocess.Popen(
        [sys.executable, "-m", "ayon_launcher", "publish", str(job), "--targets", "farm"],
        env=crash_env(env, f"wait:{signals}"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        ready = signals / "ready"
        for _ in range(2400):  # wait for it to stage its files (up to about 2 min)
            if ready.exists() or live.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), live.communicate()
        transaction_id = ready.read_text()
        staged = [p for p in hidden(root) if transaction_id in p.split("/")[-1]]
        assert len(staged) in {1, 2}  # one when the project folder was new

        done = recovering_publish(env, tmp_path / "b", "modelBesideLive")
        assert "Interrupted publish" not in done.stdout
        assert [p for p in hidden(root) if transaction_id in p.split("/")[-1]] == staged
        assert f"{transaction_id}.json" in journal_files(env)
    finally:
        (signals / "go").touch()
        out, err = live.communicate(timeout=120)
    assert live.returncode == 0, err
    assert "modelLive v001 (1 file)" in out and "renderLive v001 (3 files)" in out
    assert not hidden(root) and journal_files(env) == []


def test_gui_on_an_unseen_display_is_refused(env, tmp_path):
    # Offscreen Qt (as farms set it): a report window nobody can close would never end.
    job = write_demo_job(tmp_path, render=None)
    done = run_ayon(["publish", str(job), "-g"], env)
    assert done.returncode == 2
    assert error_lines(done) == [
        "ayon: error: --gui would not be visible (QT_QPA_PLATFORM=offscreen)"]
