"""The ``--gui`` publish report window, offscreen with real widgets and a real publish."""

from __future__ import annotations

import json
import os

import ayon_api
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qtpy import QtCore, QtWidgets  # noqa: E402

from ayon_launcher.gui.publish_report import PublishWindow, show_publish_window  # noqa: E402
from ayon_launcher.gui.worker import wait_for  # noqa: E402
from ayon_launcher.localserver.seed import DEMO_ADDONS_DIR  # noqa: E402
from ayon_launcher.pipeline.publish.engine import effective_targets, run_publish  # noqa: E402
from ayon_launcher.pipeline.publish.metadata import load_metadata  # noqa: E402

DEMO_PLUGINS = DEMO_ADDONS_DIR / "demo_tools/client/ayon_demo_tools/plugins/publish"
PROJECT = "demo_Commercial"


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path, monkeypatch):
    """Publish journals go to the launcher's state folder: a test's own, not the user's."""
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "launcher-local"))


@pytest.fixture(scope="module")
def qapp():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication(["tests"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("gui-server"), demo=True) as server:
        yield server


@pytest.fixture(scope="module")
def api(server):
    return ayon_api.ServerAPI(server.url, token=server.service_api_key)


def _job(tmp_path, product: str, present: bool = True):
    (tmp_path / "out").mkdir(exist_ok=True)
    if present:
        (tmp_path / "out" / "chair.abc").write_text("chair")
    path = tmp_path / "job.json"
    path.write_text(json.dumps({
        "project": PROJECT, "folder": "/assets/props/chair", "task": "modeling",
        "instances": [{"productName": product, "productType": "model",
                       "files": ["out/chair.abc"]}]}))
    return load_metadata(path)


def _rows(window: PublishWindow) -> list[list[str]]:
    tree = window.tree
    return [[tree.topLevelItem(i).text(c) for c in range(3)]
            for i in range(tree.topLevelItemCount())]


def _publish_in_window(window: PublishWindow, job, api) -> None:
    window.show()
    window.start(lambda on_result: run_publish(job, api, [DEMO_PLUGINS], ["farm"],
                                               on_result=on_result))
    assert wait_for(lambda: window.done_publishing), "publish did not finish"


def test_window_shows_a_successful_publish(qapp, api, tmp_path, artifacts_dir):
    job = _job(tmp_path, "modelGui")
    window = PublishWindow(job, effective_targets(["farm"]))
    assert not window.close_button.isEnabled()
    _publish_in_window(window, job, api)
    assert window.report is not None and window.report.success
    assert _rows(window) == [
        ["ok", "Collect farm job (CollectFarmJob)", "(context)"],
        ["ok", "Validate farm job (ValidateFarmJob)", "modelGui"],
        ["ok", "Integrate product (IntegrateDemoProduct)", "modelGui"],
    ]
    assert window.status.text() == "Published: modelGui v001"
    assert window.close_button.isEnabled()
    window.tree.setCurrentItem(window.tree.topLevelItem(0))
    assert "collected modelGui (model)" in window.details.toPlainText()
    path = artifacts_dir / "publish_report_success.png"
    window.grab().save(str(path))
    assert path.stat().st_size > 0
    window.close_button.click()
    assert not window.isVisible()


def test_window_shows_the_failing_plugin(qapp, api, tmp_path, artifacts_dir):
    job = _job(tmp_path, "modelGuiMissing", present=False)
    window = PublishWindow(job, effective_targets(["farm"]))
    _publish_in_window(window, job, api)
    assert not window.report.success
    assert _rows(window)[-1] == ["FAILED", "Validate farm job (ValidateFarmJob)",
                                 "modelGuiMissing"]
    assert window.status.text().startswith("Publish failed: Validate farm job")
    details = window.details.toPlainText()
    assert "Error: file of representation 'abc' not found" in details
    assert "Traceback" in details  # the details pane has the plug-in's traceback
    path = artifacts_dir / "publish_report_failed.png"
    window.grab().save(str(path))
    assert path.stat().st_size > 0
    window.close()
    folder = api.get_folder_by_path(PROJECT, "/assets/props/chair")
    assert api.get_product_by_name(PROJECT, "modelGuiMissing", folder["id"]) is None


def test_window_says_files_stay_when_the_commit_is_unresolved(qapp, tmp_path):
    from ayon_launcher.pipeline.publish.engine import PublishReport

    job = _job(tmp_path, "modelGuiUnresolved")
    window = PublishWindow(job, ["default"])
    report = PublishReport(str(job.path), PROJECT, job.folder, job.task, ["default"],
                           error="the server did not confirm the integration (x); its files "
                                 "stay in place", unresolved=True)
    window._on_done(report)
    assert window.done_publishing and window.close_button.isEnabled()
    assert window.status.text() == f"Publish failed: {report.error}."
    assert "Nothing was integrated" not in window.status.text()
    window.close()


def test_show_publish_window_returns_the_report_when_closed(qapp, api, tmp_path):
    job = _job(tmp_path, "modelGuiShow")
    closed = []

    def close_when_done() -> None:
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(widget, PublishWindow) and widget.done_publishing and not closed:
                closed.append(_rows(widget))
                widget.close_button.click()

    timer = QtCore.QTimer()
    timer.timeout.connect(close_when_done)
    timer.start(20)
    try:
        report = show_publish_window(job, effective_targets(["farm"]), lambda on_result: (
            run_publish(job, api, [DEMO_PLUGINS], ["farm"], on_result=on_result)))
    finally:
        timer.stop()
    assert report.success and report.published[0]["productName"] == "modelGuiShow"
    assert len(closed[0]) == 3


def test_runner_error_is_raised_after_the_window_closes(qapp, tmp_path):
    from ayon_launcher.pipeline.publish.engine import PublishError

    job = _job(tmp_path, "modelGuiBroken")

    def broken(on_result):
        raise PublishError("publish plug-in file x.py failed to load: SyntaxError")

    def close_when_done() -> None:
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(widget, PublishWindow) and widget.done_publishing:
                assert "failed to load" in widget.status.text()
                widget.close_button.click()

    timer = QtCore.QTimer()
    timer.timeout.connect(close_when_done)
    timer.start(20)
    try:
        with pytest.raises(PublishError, match="failed to load"):
            show_publish_window(job, ["default"], broken)
    finally:
        timer.stop()


def test_cli_gui_option_in_process(qapp, server, api, tmp_path):
    """``ayon publish --gui`` through the real CLI code (in-process: the window must be
    closed from the test, which a subprocess would not allow)."""
    import sys

    from ayon_launcher.bootstrapper.cli.main import cli
    from conftest import isolated_env

    job = _job(tmp_path, "modelGuiCli")
    saved_environ, saved_path = dict(os.environ), list(sys.path)
    env = isolated_env(tmp_path, server.url)
    env["AYON_API_KEY"] = server.service_api_key
    env["AYON_LAUNCHER_TEST_PUBLISH_WINDOW"] = "1"  # this test closes the offscreen window
    os.environ.clear()
    os.environ.update(env)
    seen = []

    def close_when_done() -> None:
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(widget, PublishWindow) and widget.done_publishing and not seen:
                seen.append(widget.status.text())
                widget.close_button.click()

    timer = QtCore.QTimer()
    timer.timeout.connect(close_when_done)
    timer.start(20)
    try:
        cli.main(["publish", str(job.path), "--targets", "farm", "--gui"], prog_name="ayon",
                 standalone_mode=False)
    finally:
        timer.stop()
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path[:] = saved_path
        # Forget the add-on modules imported from this test's launcher folder.
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
                del sys.modules[name]
    assert seen == ["Published: modelGuiCli v001"]
    folder = api.get_folder_by_path(PROJECT, "/assets/props/chair")
    assert api.get_product_by_name(PROJECT, "modelGuiCli", folder["id"]) is not None
