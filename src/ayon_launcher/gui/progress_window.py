"""Bootstrap progress: one row per add-on / dependency package, fed from the worker thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher.gui.icons import logo_pixmap
from ayon_launcher.gui.style import ERROR, style_window

if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.bootstrap import Progress

STATE_LABELS = {
    "downloading": "Downloading",
    "validating": "Validating",
    "extracting": "Extracting",
    "done": "Installed",
    "skipped": "Up to date",
    "failed": "Failed",
}


class ProgressWindow(QtWidgets.QWidget):
    """Shows what the bootstrap does; ``report`` takes the distribution's Progress objects."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("AYON - Starting")
        self.setWindowIcon(QtGui.QIcon(logo_pixmap("starting")))
        style_window(self)
        self.resize(600, 280)
        logo = QtWidgets.QLabel()
        logo.setPixmap(logo_pixmap("starting", 40))
        self.status_label = QtWidgets.QLabel("Connecting to the AYON server...")
        self.status_label.setObjectName("status")
        header = QtWidgets.QHBoxLayout()
        header.addWidget(logo)
        header.addWidget(self.status_label, 1)
        self.overall = QtWidgets.QProgressBar()
        self.overall.setRange(0, 0)  # busy until the first item reports a size
        self.items = QtWidgets.QTreeWidget()
        self.items.setHeaderLabels(["Item", "State", "Progress"])
        self.items.setRootIsDecorated(False)
        header_view = self.items.header()
        header_view.setStretchLastSection(False)
        header_view.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header_view.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Fixed)
        header_view.resizeSection(2, 140)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.overall)
        layout.addWidget(self.items, 1)
        self._rows: dict[str, tuple[QtWidgets.QTreeWidgetItem, QtWidgets.QProgressBar]] = {}
        self._sizes: dict[str, tuple[int, int]] = {}

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def report(self, progress: Progress) -> None:
        """One update from the distribution (called in the UI thread through a signal)."""
        row = self._rows.get(progress.item)
        if row is None:
            item = QtWidgets.QTreeWidgetItem([progress.item, "", ""])
            self.items.addTopLevelItem(item)
            bar = QtWidgets.QProgressBar()
            bar.setMaximumHeight(16)
            self.items.setItemWidget(item, 2, bar)
            row = self._rows[progress.item] = (item, bar)
        item, bar = row
        item.setText(1, STATE_LABELS.get(progress.state, progress.state))
        finished = progress.state in ("done", "skipped")
        total = progress.total or 0
        if finished:
            bar.setRange(0, 1)
            bar.setValue(1)
        elif total > 0:
            bar.setRange(0, 1000)
            bar.setValue(int(1000 * min(progress.done, total) / total))
        else:
            bar.setRange(0, 0)
        if progress.state == "failed":
            item.setForeground(1, QtGui.QBrush(QtGui.QColor(ERROR)))
        done = total if finished else min(progress.done, total) if total else 0
        self._sizes[progress.item] = (done, total)
        self._update_overall()
        if progress.state not in ("done", "skipped", "failed"):
            self.set_status(f"Updating {progress.item}...")

    def _update_overall(self) -> None:
        total = sum(t for _d, t in self._sizes.values())
        if total <= 0:
            return
        done = sum(d for d, _t in self._sizes.values())
        self.overall.setRange(0, 1000)
        self.overall.setValue(int(1000 * done / total))

    def item_states(self) -> dict[str, str]:
        """Item label -> state text, as shown (for tests)."""
        return {label: item.text(1) for label, (item, _bar) in self._rows.items()}
