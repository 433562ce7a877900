"""The publish report window of ``ayon publish --gui``: plug-ins as they run, then the outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.icons import logo_icon
from ayon_launcher.gui.style import ERROR, RUNNING, SUCCESS, TEXT_DIM, style_window
from ayon_launcher.gui.worker import run_in_background

if TYPE_CHECKING:
    from ayon_launcher.pipeline.publish.engine import PluginResult, PublishReport
    from ayon_launcher.pipeline.publish.metadata import PublishJob

Runner = Callable[[Callable[[Any], None]], "PublishReport"]

_OK = QtGui.QColor(SUCCESS)
_FAILED = QtGui.QColor(ERROR)
_RUNNING = QtGui.QColor(RUNNING)


class PublishWindow(QtWidgets.QDialog):
    """Lists every plug-in run while publishing; the details pane shows errors and logs."""

    def __init__(self, job: PublishJob, targets: list[str],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"AYON publish - {job.path.name}")
        self.setWindowIcon(logo_icon("connected"))
        style_window(self)
        self.resize(760, 520)
        self.report: PublishReport | None = None
        self.exception: BaseException | None = None

        context = QtWidgets.QLabel(
            f"<b>{job.project}</b> &nbsp;/&nbsp; {job.folder} &nbsp;/&nbsp; {job.task}"
            f"<br><span style='color:{TEXT_DIM}'>{job.path} &nbsp; targets: "
            f"{', '.join(targets)}</span>")
        context.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QtWidgets.QLabel("Publishing...")
        self._set_status("Publishing...", _RUNNING)

        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(["Result", "Plug-in", "Instance"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.tree.currentItemChanged.connect(self._show_details)

        self.details = QtWidgets.QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))

        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.details)
        splitter.setSizes([300, 180])

        self.close_button = QtWidgets.QPushButton("Close")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.accept)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(context)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

    # -- running ----------------------------------------------------------------------------
    def start(self, runner: Runner) -> None:
        """Run ``runner(on_result)`` in a worker thread; rows appear as results arrive."""
        run_in_background(runner, self._on_done, self._on_failed, self.add_result)

    @property
    def done_publishing(self) -> bool:
        """The runner returned its report or raised."""
        return self.report is not None or self.exception is not None

    def add_result(self, result: PluginResult) -> None:
        state = "ok" if result.success else "FAILED"
        item = QtWidgets.QTreeWidgetItem([state, result.name,
                                          result.instance or "(context)"])
        item.setData(0, QtCore.Qt.ItemDataRole.UserRole, result)
        item.setForeground(0, QtGui.QBrush(_OK if result.success else _FAILED))
        self.tree.addTopLevelItem(item)
        self.tree.scrollToItem(item)
        if not result.success:
            self.tree.setCurrentItem(item)

    def _on_done(self, report: PublishReport) -> None:
        self.report = report
        if report.success:
            versions = ", ".join(report.published_label(p)
                                 for p in report.published) or "nothing new"
            self._set_status(f"Published: {versions}", _OK)
            if self.tree.currentItem() is None:
                self.details.setPlainText("\n".join(report.lines()))
        else:
            self._set_status(" ".join(filter(None, (f"Publish failed: {report.error}.",
                                                    report.failure_text))), _FAILED)
            if report.failed is None:  # no plug-in to select: show the whole report
                self.details.setPlainText("\n".join(report.lines()))
        self._finish()

    def _on_failed(self, exc: BaseException, formatted: str) -> None:
        self.exception = exc
        self._set_status(f"Publish failed: {exc}", _FAILED)
        self.details.setPlainText(str(exc))
        self._finish()

    def _finish(self) -> None:
        self.close_button.setEnabled(True)
        self.close_button.setFocus()

    # -- display ----------------------------------------------------------------------------
    def _set_status(self, text: str, color: QtGui.QColor) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"font-weight: bold; color: {color.name()};")
        self.status.setWordWrap(True)

    def _show_details(self, item: QtWidgets.QTreeWidgetItem | None, _previous: Any) -> None:
        result = item.data(0, QtCore.Qt.ItemDataRole.UserRole) if item else None
        if result is None:
            return
        lines = [result.title, ""]
        if result.error:
            lines += [f"Error: {result.error}", ""]
        if result.records:
            lines += ["Log:", *[f"  {line}" for line in result.records], ""]
        if result.traceback:
            lines += [result.traceback]
        self.details.setPlainText("\n".join(lines).rstrip())

    def reject(self) -> None:
        # Closing mid-publish would leave a worker writing: wait for the outcome first.
        if self.done_publishing:
            super().reject()


def show_publish_window(job: PublishJob, targets: list[str], runner: Runner) -> PublishReport:
    """Publish in the background with the window showing; returns when it is closed.

    An error the runner raised (bad plug-in file, ...) is raised again once closed.
    """
    from ayon_launcher.gui.worker import application

    app = application()
    window = PublishWindow(job, targets)
    window.show()
    window.start(runner)
    window.exec()
    app.processEvents()
    exception, report = window.exception, window.report
    # Destroyed now, in the UI thread: left to the garbage collector (the exception's
    # traceback holds this frame), it could be destroyed in another thread, and crash.
    import shiboken6

    shiboken6.delete(window)
    del window
    if exception is not None:
        raise exception
    assert report is not None  # the window closes only once the publish is done
    return report
