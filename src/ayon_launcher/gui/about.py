"""The version/about window: launcher, server, user, bundle and add-on versions."""

from __future__ import annotations

import html
import platform
import sys

from qtpy import QtCore, QtGui, QtWidgets

from ayon_launcher import __version__
from ayon_launcher.gui.icons import logo_pixmap
from ayon_launcher.gui.style import style_window


def about_rows(info: dict[str, str], addons: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Label/value rows of the window, in order."""
    import qtpy

    rows = [("AYON launcher", __version__)]
    rows += [(label, value) for label, value in info.items() if value]
    rows += [("Python", platform.python_version()),
             ("Qt", f"{qtpy.API_NAME} {qtpy.QT_VERSION}"),
             ("Platform", f"{platform.system()} {platform.machine()}"),
             ("Executable", sys.executable)]
    rows += [(f"Add-on {name}", version) for name, version in addons]
    return rows


class AboutDialog(QtWidgets.QDialog):
    def __init__(self, info: dict[str, str], addons: list[tuple[str, str]],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About AYON")
        self.setWindowIcon(QtGui.QIcon(logo_pixmap()))
        style_window(self)
        logo = QtWidgets.QLabel()
        logo.setPixmap(logo_pixmap("connected", 72))
        logo.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.rows = about_rows(info, addons)
        table = "".join(f"<tr><td><b>{html.escape(label)}</b>&nbsp;&nbsp;</td>"
                        f"<td>{html.escape(value)}</td></tr>" for label, value in self.rows)
        text = QtWidgets.QLabel(f"<table>{table}</table>")
        text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(logo)
        layout.addWidget(text)
        layout.addWidget(buttons)
