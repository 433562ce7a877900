"""The AYON logo, drawn at run time in the colour of the launcher's state."""

from __future__ import annotations

from qtpy import QtCore, QtGui

from ayon_launcher.gui.style import (
    LOGO_DOT,
    LOGO_DOT_COLOR,
    LOGO_ROUND,
    LOGO_SPOKE_COLOR,
    LOGO_SPOKE_WIDTH,
    LOGO_SPOKES,
    LOGO_TRIANGLE,
    STATE_COLORS,
    state_color,
)

__all__ = ["STATE_COLORS", "logo_icon", "logo_pixmap"]


def logo_pixmap(state: str = "connected", size: int = 64) -> QtGui.QPixmap:
    """The AYON logo (rounded triangle, dot, three spokes) in the colour of ``state``."""
    color = QtGui.QColor(state_color(state))
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.scale(size / 64.0, size / 64.0)
    # The triangle, its corners rounded by a round-joined outline of the same colour.
    painter.setPen(QtGui.QPen(color, LOGO_ROUND, QtCore.Qt.PenStyle.SolidLine,
                              QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin))
    painter.setBrush(color)
    painter.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x, y) for x, y in LOGO_TRIANGLE]))
    painter.setPen(QtGui.QPen(QtGui.QColor(LOGO_SPOKE_COLOR), LOGO_SPOKE_WIDTH,
                              QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenCapStyle.FlatCap))
    for (x1, y1), (x2, y2) in LOGO_SPOKES:
        painter.drawLine(QtCore.QPointF(x1, y1), QtCore.QPointF(x2, y2))
    x, y, radius = LOGO_DOT
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(LOGO_DOT_COLOR))
    painter.drawEllipse(QtCore.QPointF(x, y), radius, radius)
    painter.end()
    return pixmap


def logo_icon(state: str = "connected") -> QtGui.QIcon:
    """The logo at the sizes a tray and a title bar ask for."""
    icon = QtGui.QIcon()
    for size in (16, 22, 32, 64, 128):
        icon.addPixmap(logo_pixmap(state, size))
    return icon
