"""Context selection dialog driven offscreen with real widgets against the real local server."""

from __future__ import annotations

import gc
import json
import os
import threading

import ayon_api
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qtpy import QtWidgets  # noqa: E402

from ayon_launcher.gui.context_dialog import ContextDialog  # noqa: E402
from ayon_launcher.pipeline.commands.contextselection import select_and_write  # noqa: E402
from ayon_launcher.pipeline.environment.entities import ServerContextSource  # noqa: E402
from ayon_launcher.support.errors import LauncherError, UsageError  # noqa: E402

PROJECT = "demo_Commercial"


@pytest.fixture(scope="module")
def qapp():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication(["tests"])


@pytest.fixture
def source(local_server):
    return ServerContextSource(ayon_api.ServerAPI(local_server.url,
                                                  token=local_server.service_api_key))


_OPEN: list[ContextDialog] = []


@pytest.fixture(autouse=True)
def _cleanup_dialogs():
    yield
    # Delete the dialogs while no event is being handled: a garbage-collector run inside
    # a later event loop would otherwise destroy widgets at a random point.
    from qtpy import QtCore

    while _OPEN:
        dialog = _OPEN.pop()
        dialog.close()
        dialog.wait_idle()
        dialog.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    gc.collect()


def _dialog(qapp, source, **kwargs) -> ContextDialog:
    dialog = ContextDialog(source, **kwargs)
    _OPEN.append(dialog)
    dialog.show()
    assert dialog.wait_idle(), "data did not load"
    return dialog


def _visible_folder_names(dialog: ContextDialog) -> list[str]:
    proxy = dialog.folder_proxy
    names: list[str] = []

    def walk(parent):
        for row in range(proxy.rowCount(parent)):
            index = proxy.index(row, 0, parent)
            names.append(index.data())
            walk(index)

    from qtpy import QtCore

    walk(QtCore.QModelIndex())
    return names


def _driver(qapp, select: dict | None, seen: dict):
    """A ``show`` for select_and_write: drives the real dialog instead of a user."""

    def show(source, project, asset, strict):
        dialog = _dialog(qapp, source, project=project, folder=asset, strict=strict)
        seen["dialog"] = dialog
        seen["combo_enabled"] = dialog.project_combo.isEnabled()
        seen["preselected"] = dialog.selected_context()
        if select is None:
            dialog.reject()
            return None
        if "project" in select:
            dialog.project_combo.setCurrentText(select["project"])
            dialog.wait_idle()
        if "folder" in select:
            assert dialog.select_folder(select["folder"])
            dialog.wait_idle()
        assert dialog.select_task(select["task"])
        dialog.accept()
        return dialog.selected_context()

    return show


def test_select_project_folder_task_and_confirm(qapp, source, tmp_path, artifacts_dir):
    dialog = _dialog(qapp, source)
    assert dialog.project_combo.isEnabled()
    assert [dialog.project_combo.itemText(i) for i in range(dialog.project_combo.count())] \
        == [PROJECT]
    dialog.wait_idle()
    # A single project is selected at once and its hierarchy shown as a tree.
    assert dialog.current_project() == PROJECT
    assert {"assets", "shots"} <= set(_visible_folder_names(dialog))
    assert dialog.select_folder("/assets/characters/robot")
    dialog.wait_idle()
    tasks = [dialog.task_model.item(r).text() for r in range(dialog.task_model.rowCount())]
    assert tasks == ["lookdev  (Lookdev)", "modeling  (Modeling)", "rigging  (Rigging)"]
    assert dialog.select_task("modeling")
    assert dialog.ok_button.isEnabled()
    dialog.grab().save(str(artifacts_dir / "contextselection_dialog.png"))
    assert (artifacts_dir / "contextselection_dialog.png").stat().st_size > 0
    dialog.close()

    out = tmp_path / "sub" / "context.json"
    seen: dict = {}
    data = select_and_write(source, str(out), None, None, False,
                            show=_driver(qapp, {"folder": "robot", "task": "rigging"}, seen))
    written = json.loads(out.read_text())
    assert written == data == {"project": PROJECT, "asset": "robot",
                               "folder_path": "/assets/characters/robot", "task": "rigging"}
    assert not list(out.parent.glob("*.tmp"))


def test_project_locks_combo_and_asset_preselects(qapp, source, tmp_path):
    out = tmp_path / "ctx.json"
    seen: dict = {}
    select_and_write(source, str(out), PROJECT, "sh010", True,
                     show=_driver(qapp, {"task": "compositing"}, seen))
    assert seen["combo_enabled"] is False
    assert seen["preselected"]["folder_path"] == "/shots/sq01/sh010"
    assert seen["preselected"]["task"] is None
    assert json.loads(out.read_text())["task"] == "compositing"


def test_cancel_writes_nothing(qapp, source, tmp_path):
    out = tmp_path / "ctx.json"
    with pytest.raises(LauncherError) as info:
        select_and_write(source, str(out), PROJECT, None, False, show=_driver(qapp, None, {}))
    assert info.value.exit_code == 1 and "cancelled" in str(info.value)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_strict_keeps_ok_disabled_until_complete(qapp, source):
    dialog = _dialog(qapp, source, project=PROJECT, strict=True)
    assert not dialog.ok_button.isEnabled()
    assert dialog.select_folder("robot")
    dialog.wait_idle()
    assert not dialog.ok_button.isEnabled()  # folder but no task yet
    dialog.accept()  # a forced accept is ignored while incomplete
    assert dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert dialog.select_task("lookdev")
    assert dialog.ok_button.isEnabled()
    # Not strict: OK is available with a partial context.
    relaxed = _dialog(qapp, source, project=PROJECT)
    assert relaxed.ok_button.isEnabled()
    dialog.close()
    relaxed.close()


def test_filter_box_filters_the_tree(qapp, source):
    dialog = _dialog(qapp, source, project=PROJECT)
    before = _visible_folder_names(dialog)
    assert "chair" in before and "sh010" in before
    dialog.filter_edit.setText("ROB")
    visible = _visible_folder_names(dialog)
    assert "robot" in visible and "characters" in visible  # match plus its parents
    assert "chair" not in visible and "sh010" not in visible
    dialog.filter_edit.setText("")
    assert _visible_folder_names(dialog) == before
    dialog.close()


def test_presets_are_validated_before_showing(qapp, source, tmp_path):
    never = _driver(qapp, None, {})
    with pytest.raises(UsageError, match="--asset needs --project"):
        select_and_write(source, str(tmp_path / "a.json"), None, "robot", False, show=never)
    with pytest.raises(LauncherError, match="did you mean: demo_Commercial"):
        select_and_write(source, str(tmp_path / "a.json"), "demo_commrcial", None, False,
                         show=never)
    with pytest.raises(LauncherError, match="robot"):
        select_and_write(source, str(tmp_path / "a.json"), PROJECT, "robott", False, show=never)


class _GatedSource:
    """The real server source behind a gate: holds the worker thread until released."""

    def __init__(self, inner: ServerContextSource) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.threads: set[int] = set()

    def project_names(self) -> list[str]:
        self.threads.add(threading.get_ident())
        assert self.gate.wait(30)
        return self.inner.project_names()

    def folders(self, project_name):
        return self.inner.folders(project_name)

    def tasks(self, project_name, folder_id):
        return self.inner.tasks(project_name, folder_id)


def test_loading_happens_off_the_ui_thread(qapp, source):
    gated = _GatedSource(source)
    dialog = ContextDialog(gated)
    _OPEN.append(dialog)
    dialog.show()
    # The constructor returned and the UI handles events while the load is blocked.
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    assert dialog.project_combo.count() == 0
    assert "Loading projects" in dialog.status_label.text()
    gated.gate.set()
    assert dialog.wait_idle()
    assert dialog.project_combo.count() == 1
    assert threading.get_ident() not in gated.threads


def test_load_failure_is_shown_in_the_dialog(qapp, fresh_server):
    api = ayon_api.ServerAPI(fresh_server.url, token=fresh_server.service_api_key)
    fresh_server.stop()
    dialog = _dialog(qapp, ServerContextSource(api))
    assert dialog.status_label.text().startswith("Could not load projects")
    assert dialog.project_combo.count() == 0
