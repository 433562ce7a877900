"""Context selection dialog: project, folder tree (with filter), task; loads off the UI thread."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.display import CONTEXT_DIALOG_TEST_HOOK_ENV
from ayon_launcher.gui.icons import logo_icon
from ayon_launcher.gui.style import ERROR, style_window
from ayon_launcher.gui.worker import application, destroy_now, run_in_background, wait_for
from ayon_launcher.pipeline.environment.entities import (
    ContextSource,
    FolderInfo,
    TaskInfo,
    match_folder,
)
from ayon_launcher.support.errors import error_line
from ayon_launcher.support.log import get_logger

log = get_logger("contextselection")

FOLDER_ID_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
TASK_NAME_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2

# CONTEXT_DIALOG_TEST_HOOK_ENV (test-only, drives the real CLI in a subprocess):
# "accept:<task name>" selects that task once loaded and confirms; "reject" cancels.

# How long closing the dialog waits for a load still running (a server call bounded by the
# connection time-out); past it the load is abandoned and its result dropped.
CLOSE_WAIT_MS = 10000


@dataclass(eq=False)  # compared (and hashed) by identity: each request is its own
class _Load:
    """One background request: what it loads, and a flag that skips it if not yet started."""

    kind: str
    cancelled: threading.Event = field(default_factory=threading.Event)


def _load_pool() -> QtCore.QThreadPool:
    """Two threads shared by the context dialogs, owned by the application.

    Never by a dialog: deleting a pool waits, without bound, for the loads it runs. A load
    abandoned at close (see CLOSE_WAIT_MS) is waited for only when the application goes.
    """
    app = QtCore.QCoreApplication.instance()
    pool = app.findChild(QtCore.QThreadPool, "ayon_context_loads")
    if pool is None:
        pool = QtCore.QThreadPool(app)
        pool.setObjectName("ayon_context_loads")
        pool.setMaxThreadCount(2)
    return pool


class ContextDialog(QtWidgets.QDialog):
    """Pick a project, a folder and a task; ``selected_context()`` returns the choice."""

    # Emitted each time a load finishes (projects, folders or tasks): handy for tests.
    loaded = QtCore.Signal(str)

    def __init__(self, source: ContextSource, project: str | None = None,
                 folder: str | None = None, strict: bool = False,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("AYON - Select context")
        self.setWindowIcon(logo_icon("connected"))
        style_window(self)
        self.resize(760, 480)
        self._source = source
        self._fixed_project = project
        self._preset_folder = folder
        self._strict = strict
        # The request whose answer is awaited, per kind ("projects", "folders", "tasks");
        # the answer of any other (replaced by a newer one, or the dialog closed) is dropped.
        self._current: dict[str, _Load] = {}
        # Requests started and not finished yet, current or not.
        self._running: set[_Load] = set()
        self._folders_by_id: dict[str, FolderInfo] = {}
        self._build()
        self._update_ok()
        self._request("projects", source.project_names)

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.project_combo = QtWidgets.QComboBox()
        self.project_combo.setObjectName("project_combo")
        self.project_combo.setPlaceholderText("Loading projects...")
        self.project_combo.currentIndexChanged.connect(self._on_project_changed)

        self.filter_edit = QtWidgets.QLineEdit()
        self.filter_edit.setObjectName("folder_filter")
        self.filter_edit.setPlaceholderText("Filter folders...")
        self.filter_edit.setClearButtonEnabled(True)

        self.folder_model = QtGui.QStandardItemModel(self)
        self.folder_proxy = QtCore.QSortFilterProxyModel(self)
        self.folder_proxy.setSourceModel(self.folder_model)
        self.folder_proxy.setRecursiveFilteringEnabled(True)
        self.folder_proxy.setFilterCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        if hasattr(self.folder_proxy, "setAutoAcceptChildRows"):
            self.folder_proxy.setAutoAcceptChildRows(True)  # children of a match stay visible
        self.filter_edit.textChanged.connect(self._on_filter_changed)

        self.folder_view = QtWidgets.QTreeView()
        self.folder_view.setObjectName("folder_view")
        self.folder_view.setHeaderHidden(True)
        self.folder_view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.folder_view.setModel(self.folder_proxy)
        self.folder_view.selectionModel().selectionChanged.connect(self._on_folder_changed)

        self.task_model = QtGui.QStandardItemModel(self)
        self.task_view = QtWidgets.QListView()
        self.task_view.setObjectName("task_view")
        self.task_view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.task_view.setModel(self.task_model)
        self.task_view.selectionModel().selectionChanged.connect(self._update_ok)
        self.task_view.doubleClicked.connect(self._on_task_activated)

        self.status_label = QtWidgets.QLabel()
        self.status_label.setObjectName("status_label")
        self.status_label.setWordWrap(True)

        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        folders_box = QtWidgets.QVBoxLayout()
        folders_box.addWidget(QtWidgets.QLabel("Folders"))
        folders_box.addWidget(self.filter_edit)
        folders_box.addWidget(self.folder_view, 1)
        tasks_box = QtWidgets.QVBoxLayout()
        tasks_box.addWidget(QtWidgets.QLabel("Tasks"))
        tasks_box.addWidget(self.task_view, 1)
        columns = QtWidgets.QHBoxLayout()
        columns.addLayout(folders_box, 3)
        columns.addLayout(tasks_box, 2)
        form = QtWidgets.QFormLayout()
        form.addRow("Project", self.project_combo)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(columns, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)

    # -- background loading -------------------------------------------------------------------
    def _request(self, kind: str, call: Callable[[], Any]) -> None:
        """Run ``call`` (which must not hold the dialog or any widget) in a pool thread."""
        self._forget(kind)
        load = self._current[kind] = _Load(kind)
        self._running.add(load)
        self._set_status(f"Loading {kind}...")
        cancelled = load.cancelled

        def work(_report: Callable[[Any], None]) -> Any:
            return None if cancelled.is_set() else call()

        # The handlers run in the UI thread and hold the dialog weakly: a load outliving
        # the dialog neither keeps it alive nor touches it.
        dialog = weakref.ref(self)

        def alive() -> ContextDialog | None:
            from qtpy.compat import isalive

            target = dialog()
            return target if target is not None and isalive(target) else None

        def on_done(result: Any) -> None:
            if (target := alive()) is not None:
                target._on_done(load, result)

        def on_failed(exc: BaseException, _details: str) -> None:
            if (target := alive()) is not None:
                target._on_failed(load, exc)

        def on_finished() -> None:
            if (target := alive()) is not None:
                target._running.discard(load)

        run_in_background(work, on_done, on_failed, pool=_load_pool(), on_finished=on_finished)

    def _forget(self, kind: str) -> None:
        """Drop the answer of the current request of ``kind``, and skip it if not started."""
        load = self._current.pop(kind, None)
        if load is not None:
            load.cancelled.set()

    def _take(self, load: _Load) -> bool:
        """Whether ``load``'s answer is awaited (it is no more, once taken)."""
        if self._current.get(load.kind) is not load:
            return False  # a newer request of that kind replaced this one, or closed
        del self._current[load.kind]
        return True

    def _on_failed(self, load: _Load, exc: BaseException) -> None:
        if self._take(load):
            self._set_status(f"Could not load {load.kind}: {error_line(exc)}", error=True)
            self.loaded.emit(load.kind)

    def _on_done(self, load: _Load, result: Any) -> None:
        if not self._take(load):
            return
        kind = load.kind
        if kind == "projects":
            self._fill_projects(result)
        elif kind == "folders":
            self._fill_folders(result)
        elif kind == "tasks":
            self._fill_tasks(result)
        if not self._current and not self.status_label.property("error"):
            self._set_status("")
        self.loaded.emit(kind)

    def _drop_loads(self) -> None:
        """Forget the current requests: their answers are dropped, unstarted ones skipped."""
        self._current.clear()
        for load in self._running:
            load.cancelled.set()

    def finish_loads(self, timeout_ms: int) -> bool:
        """Wait (bounded) for running background loads; their results are dropped.

        False when a load is still running: it is abandoned (it holds no widget, and its
        result will find no dialog).
        """
        self._drop_loads()
        finished = wait_for(lambda: not self._running, timeout_ms)
        # Delete the finished workers' signals (and the handlers they hold) now, here.
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        return finished

    def wait_idle(self, timeout_ms: int = 10000) -> bool:
        """Process events until no load is pending (for tests and scripted use)."""
        idle = wait_for(lambda: not self._running, timeout_ms)
        QtWidgets.QApplication.processEvents()
        return idle

    # -- projects -----------------------------------------------------------------------------
    def _fill_projects(self, names: list[str]) -> None:
        self.project_combo.blockSignals(True)
        self.project_combo.clear()
        self.project_combo.addItems(list(names))
        self.project_combo.setPlaceholderText("Select a project" if names else "No project")
        self.project_combo.setCurrentIndex(-1)
        self.project_combo.blockSignals(False)
        if self._fixed_project:
            index = self.project_combo.findText(self._fixed_project)
            if index < 0:
                self._set_status(f"Project {self._fixed_project!r} does not exist", error=True)
            self.project_combo.setCurrentIndex(index)
            self.project_combo.setEnabled(False)  # --project fixes the project
        elif len(names) == 1:
            self.project_combo.setCurrentIndex(0)
        self._update_ok()

    def _on_project_changed(self, index: int) -> None:
        self.folder_model.clear()
        self.task_model.clear()
        self._folders_by_id = {}
        project = self.current_project()
        if project:
            source = self._source  # the job must not hold the dialog itself
            self._request("folders", lambda: source.folders(project))
        self._update_ok()

    def current_project(self) -> str | None:
        text = self.project_combo.currentText() if self.project_combo.currentIndex() >= 0 else ""
        return text or None

    # -- folders ------------------------------------------------------------------------------
    def _fill_folders(self, folders: list[FolderInfo]) -> None:
        self.folder_model.clear()
        self._folders_by_id = {f.id: f for f in folders}
        items: dict[str, QtGui.QStandardItem] = {}
        for folder in sorted(folders, key=lambda f: f.path):
            item = QtGui.QStandardItem(folder.label or folder.name)
            item.setData(folder.id, FOLDER_ID_ROLE)
            item.setToolTip(f"{folder.path} ({folder.folder_type})")
            items[folder.id] = item
        for folder in sorted(folders, key=lambda f: f.path):
            parent = items.get(folder.parent_id or "")
            (parent or self.folder_model.invisibleRootItem()).appendRow(items[folder.id])
        self.folder_view.expandToDepth(0)
        if self._preset_folder:
            preset, self._preset_folder = self._preset_folder, None
            if not self.select_folder(preset):
                self._set_status(f"Folder {preset!r} not found in this project", error=True)
        self._update_ok()

    def _on_filter_changed(self, text: str) -> None:
        self.folder_proxy.setFilterFixedString(text)
        if text:
            self.folder_view.expandAll()

    def select_folder(self, name_or_path: str) -> bool:
        """Select a folder by path (``/assets/x``) or unique name; False when not found."""
        matches = match_folder(self._folders_by_id.values(), name_or_path)
        if len(matches) != 1:
            return False
        source_index = self._find_folder_index(matches[0].id)
        if source_index is None:
            return False
        index = self.folder_proxy.mapFromSource(source_index)
        if not index.isValid():  # hidden by the filter
            self.filter_edit.clear()
            index = self.folder_proxy.mapFromSource(source_index)
        self.folder_view.scrollTo(index)
        self.folder_view.selectionModel().setCurrentIndex(
            index, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return True

    def _find_folder_index(self, folder_id: str) -> QtCore.QModelIndex | None:
        matches = self.folder_model.match(
            self.folder_model.index(0, 0), FOLDER_ID_ROLE, folder_id, 1,
            QtCore.Qt.MatchFlag.MatchExactly | QtCore.Qt.MatchFlag.MatchRecursive)
        return matches[0] if matches else None

    def current_folder(self) -> FolderInfo | None:
        indexes = self.folder_view.selectionModel().selectedIndexes()
        if not indexes:
            return None
        return self._folders_by_id.get(indexes[0].data(FOLDER_ID_ROLE))

    def _on_folder_changed(self, *args: Any) -> None:
        self.task_model.clear()
        folder = self.current_folder()
        project = self.current_project()
        if folder and project:
            source, folder_id = self._source, folder.id
            self._request("tasks", lambda: source.tasks(project, folder_id))
        else:
            self._forget("tasks")  # drop answers for a previous folder
        self._update_ok()

    # -- tasks --------------------------------------------------------------------------------
    def _fill_tasks(self, tasks: list[TaskInfo]) -> None:
        self.task_model.clear()
        for task in tasks:
            text = task.label or task.name
            item = QtGui.QStandardItem(f"{text}  ({task.task_type})" if task.task_type else text)
            item.setData(task.name, TASK_NAME_ROLE)
            self.task_model.appendRow(item)
        self._update_ok()

    def select_task(self, name: str) -> bool:
        for row in range(self.task_model.rowCount()):
            index = self.task_model.index(row, 0)
            if index.data(TASK_NAME_ROLE) == name:
                self.task_view.selectionModel().setCurrentIndex(
                    index, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect)
                return True
        return False

    def _on_task_activated(self, index: QtCore.QModelIndex) -> None:
        self.accept()  # double-click on a task confirms (when OK is enabled)

    def current_task(self) -> str | None:
        indexes = self.task_view.selectionModel().selectedIndexes()
        return indexes[0].data(TASK_NAME_ROLE) if indexes else None

    # -- result -------------------------------------------------------------------------------
    def selected_context(self) -> dict[str, str | None]:
        """``{"project", "asset" (folder name), "folder_path", "task"}``; unset parts are None."""
        folder = self.current_folder()
        return {
            "project": self.current_project(),
            "asset": folder.name if folder else None,
            "folder_path": folder.path if folder else None,
            "task": self.current_task(),
        }

    def _update_ok(self, *args: Any) -> None:
        context = self.selected_context()
        complete = bool(context["project"] and context["asset"] and context["task"])
        self.ok_button.setEnabled(complete if self._strict else True)
        if self._strict and not complete:
            self.ok_button.setToolTip("Select a project, a folder and a task (--strict)")
        else:
            self.ok_button.setToolTip("")

    def accept(self) -> None:
        if self.ok_button.isEnabled():
            super().accept()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setProperty("error", error and bool(text))
        self.status_label.setStyleSheet(f"color: {ERROR};" if error and text else "")

    def done(self, result: int) -> None:
        self._drop_loads()
        super().done(result)


def _install_test_hook(dialog: ContextDialog, hook: str) -> None:
    """Test-only automation (see CONTEXT_DIALOG_TEST_HOOK_ENV): pick a task after loading,
    then accept."""
    if hook == "reject":
        QtCore.QTimer.singleShot(0, dialog.reject)
        return
    task_name = hook.partition(":")[2]

    def on_loaded(kind: str) -> None:
        if kind == "tasks" and (not task_name or dialog.select_task(task_name)):
            dialog.accept()

    dialog.loaded.connect(on_loaded)


def run_context_dialog(source: ContextSource, project: str | None = None,
                       folder: str | None = None, strict: bool = False
                       ) -> dict[str, str | None] | None:
    """Show the dialog (creating the QApplication when needed); None when cancelled."""
    application()
    dialog = ContextDialog(source, project=project, folder=folder, strict=strict)
    try:
        hook = os.environ.get(CONTEXT_DIALOG_TEST_HOOK_ENV)
        if hook:
            _install_test_hook(dialog, hook)
        dialog.show()
        dialog.raise_()
        accepted = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        return dialog.selected_context() if accepted else None
    finally:
        if not dialog.finish_loads(CLOSE_WAIT_MS):
            log.debug("a context load was still running when the dialog closed; dropped")
        destroy_now(dialog)
        del dialog
