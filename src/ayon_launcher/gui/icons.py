"""The AYON logo, drawn at run time in the colour of the launcher's state."""

from __future__ import annotations

from qtpy import QtCore, QtGui

# State -> colour of the logo.
STATE_COLORS = {
    "connected": "#00d17f",  # AYON green: logged in, bundle up to date
    "starting": "#f4a623",  # amber: logging in, syncing add-ons
    "offline": "#9aa0a6",  # grey: the server cannot be reached (running from the last bundle)
    "update": "#3d9df3",  # blue: a new bundle is waiting for a restart
}


def logo_pixmap(state: str = "connected", size: int = 64) -> QtGui.QPixmap:
    """A round badge with the AYON "A" in the colour of ``state``."""
    color = QtGui.QColor(STATE_COLORS.get(state, STATE_COLORS["connected"]))
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    margin = size * 0.04
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor("#1c2026"))
    painter.drawEllipse(QtCore.QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    # The "A": two legs and a bar, in the state colour.
    pen = QtGui.QPen(color, size * 0.11, QtCore.Qt.PenStyle.SolidLine,
                     QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    top = QtCore.QPointF(size * 0.5, size * 0.24)
    painter.drawLine(top, QtCore.QPointF(size * 0.29, size * 0.74))
    painter.drawLine(top, QtCore.QPointF(size * 0.71, size * 0.74))
    bar_y = size * 0.55
    painter.drawLine(QtCore.QPointF(size * 0.38, bar_y), QtCore.QPointF(size * 0.62, bar_y))
    painter.end()
    return pixmap


def logo_icon(state: str = "connected") -> QtGui.QIcon:
    icon = QtGui.QIcon()
    for size in (16, 22, 32, 64, 128):
        icon.addPixmap(logo_pixmap(state, size))
    return icon
