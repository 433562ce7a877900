"""The AYON look: dark palette, one small stylesheet, the logo's geometry and state colours."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only by the functions that need it (the icon SVG does not)
    from qtpy import QtGui, QtWidgets

# AYON's dark theme (the colours of ynput's tools).
WINDOW = "#2c313a"  # window background
BASE = "#21252b"  # inputs, lists, menus
ALTERNATE = "#242a32"  # alternate rows
HEADER = "#373d48"  # view headers, borders
BUTTON = "#434a56"
BUTTON_HOVER = "#515661"
BORDER = "#373d48"
BORDER_HOVER = "#5c636f"
TEXT = "#d3d8de"
TEXT_BRIGHT = "#f0f2f5"
TEXT_DIM = "#99a3b2"
TEXT_DISABLED = "#5b6779"
ACCENT = "#5cadd6"  # focus, selection, links
SELECTION = "#3b6a86"  # selected rows (ACCENT over BASE)

# What the launcher's windows say in colour: success, in progress, failure.
SUCCESS = "#00d7a0"
RUNNING = "#f4a623"
ERROR = "#e05555"

# State of the launcher -> colour of the logo (tray icon, windows).
STATE_COLORS = {
    "connected": SUCCESS,  # AYON green: logged in, bundle up to date
    "starting": RUNNING,  # amber: logging in, syncing add-ons
    "offline": "#9aa0a6",  # grey: the server cannot be reached (running from the last bundle)
    "update": ACCENT,  # blue: a new bundle is waiting for a restart
    "error": ERROR,  # red: the start failed (its dialog says why)
}

# The AYON logo on a 64-unit square: a rounded triangle in the state colour with a light dot
# and three dark spokes. The triangle is a polygon drawn with a round-joined outline of
# LOGO_ROUND units, which rounds its corners.
LOGO_TRIANGLE = ((32.0, 11.0), (6.5, 54.5), (57.5, 54.5))
LOGO_ROUND = 10.0
LOGO_DOT = (32.0, 23.0, 4.6)  # centre x, y and radius
LOGO_DOT_COLOR = "#ffffff"
LOGO_SPOKES = (((13.5, 29.5), (27.5, 37.5)), ((50.5, 29.5), (36.5, 37.5)),
               ((32.0, 44.0), (32.0, 59.5)))
LOGO_SPOKE_WIDTH = 4.6
LOGO_SPOKE_COLOR = "#101214"

# Marks a QApplication (or a window) that has the AYON style.
_STYLED_PROPERTY = "ayon_launcher_style"


def state_color(state: str) -> str:
    """The logo colour of a launcher state (unknown states: connected)."""
    return STATE_COLORS.get(state, STATE_COLORS["connected"])


def logo_svg(state: str = "connected") -> str:
    """The logo as an SVG document (desktop entries; no Qt needed)."""
    color = state_color(state)
    points = " ".join(f"{x:g},{y:g}" for x, y in LOGO_TRIANGLE)
    spokes = " ".join(f"M{a[0]:g} {a[1]:g} L{b[0]:g} {b[1]:g}" for a, b in LOGO_SPOKES)
    x, y, r = LOGO_DOT
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">\n'
        f'<polygon points="{points}" fill="{color}" stroke="{color}" '
        f'stroke-width="{LOGO_ROUND:g}" stroke-linejoin="round"/>\n'
        f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}" fill="{LOGO_DOT_COLOR}"/>\n'
        f'<path d="{spokes}" stroke="{LOGO_SPOKE_COLOR}" stroke-width="{LOGO_SPOKE_WIDTH:g}" '
        'fill="none"/>\n</svg>\n')


STYLESHEET = f"""
QWidget {{ color: {TEXT}; }}
QDialog, QMainWindow, QMessageBox {{ background: {WINDOW}; }}
QToolTip {{ color: {TEXT_BRIGHT}; background: {BASE}; border: 1px solid {BORDER_HOVER};
    padding: 3px; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTreeView, QListView, QTreeWidget {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px;
    selection-background-color: {SELECTION}; selection-color: {TEXT_BRIGHT}; }}
QLineEdit {{ padding: 3px 5px; min-height: 18px; }}
QLineEdit:hover, QPlainTextEdit:hover {{ border-color: {BORDER_HOVER}; }}
QLineEdit:focus, QPlainTextEdit:focus {{ border-color: {ACCENT}; }}
QLineEdit:disabled, QLineEdit:read-only {{ color: {TEXT_DIM}; }}
QComboBox {{ min-height: 20px; }}  /* drawn by Fusion in the palette's colours, with its arrow */
QComboBox QAbstractItemView {{ background: {BASE}; border: 1px solid {BORDER_HOVER}; }}
QTreeView, QListView {{ alternate-background-color: {ALTERNATE}; outline: none; }}
QTreeView::item, QListView::item {{ padding: 2px; }}
QTreeView::item:hover, QListView::item:hover {{ background: {HEADER}; }}
QTreeView::item:selected, QListView::item:selected {{ background: {SELECTION};
    color: {TEXT_BRIGHT}; }}
QHeaderView::section {{ background: {HEADER}; color: {TEXT}; border: none;
    border-right: 1px solid {WINDOW}; padding: 4px 6px; }}
QPushButton {{ background: {BUTTON}; color: {TEXT}; border: 1px solid {BORDER};
    border-radius: 3px; padding: 5px 14px; min-width: 56px; }}
QPushButton:hover {{ background: {BUTTON_HOVER}; color: {TEXT_BRIGHT}; }}
QPushButton:pressed {{ background: {BORDER}; }}
QPushButton:default, QPushButton:focus {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ background: {WINDOW}; color: {TEXT_DISABLED}; border-color: {BORDER}; }}
QPushButton::menu-indicator {{ subcontrol-position: right center; right: 6px; }}
QMenu {{ background: {BASE}; border: 1px solid {BORDER_HOVER}; padding: 4px 0; }}
QMenu::item {{ padding: 5px 24px 5px 12px; background: transparent; }}
QMenu::item:selected {{ background: {HEADER}; color: {TEXT_BRIGHT}; }}
QMenu::item:disabled {{ color: {TEXT_DIM}; }}
QMenu::icon {{ padding-left: 8px; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 8px; }}
QProgressBar {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px;
    text-align: center; color: {TEXT_BRIGHT}; min-height: 12px; }}
QProgressBar::chunk {{ border-radius: 2px; background: qlineargradient(x1: 0, y1: 0.5,
    x2: 1, y2: 0.5, stop: 0 {ACCENT}, stop: 1 {SUCCESS}); }}
QScrollBar:vertical {{ background: {BASE}; width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: {BASE}; height: 10px; margin: 0; }}
QScrollBar::handle {{ background: {BUTTON}; border-radius: 4px; min-height: 20px;
    min-width: 20px; }}
QScrollBar::handle:hover {{ background: {BUTTON_HOVER}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QSplitter::handle {{ background: {HEADER}; }}
QLabel#error, QLabel[error="true"] {{ color: {ERROR}; }}
"""


def palette() -> QtGui.QPalette:
    """The AYON dark palette (for the parts a stylesheet does not reach: Fusion's frames,
    message box texts, disabled states)."""
    from qtpy import QtGui

    role = QtGui.QPalette.ColorRole
    group = QtGui.QPalette.ColorGroup
    pal = QtGui.QPalette()
    for r, color in ((role.Window, WINDOW), (role.WindowText, TEXT), (role.Base, BASE),
                     (role.AlternateBase, ALTERNATE), (role.Text, TEXT),
                     (role.Button, BUTTON), (role.ButtonText, TEXT),
                     (role.BrightText, TEXT_BRIGHT), (role.Highlight, SELECTION),
                     (role.HighlightedText, TEXT_BRIGHT), (role.ToolTipBase, BASE),
                     (role.ToolTipText, TEXT_BRIGHT), (role.PlaceholderText, TEXT_DISABLED),
                     (role.Link, ACCENT), (role.LinkVisited, ACCENT), (role.Light, BUTTON_HOVER),
                     (role.Midlight, BUTTON), (role.Mid, HEADER), (role.Dark, BASE),
                     (role.Shadow, "#111317")):
        pal.setColor(r, QtGui.QColor(color))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QtGui.QColor(TEXT_DISABLED))
    return pal


def apply_to_application(app: QtWidgets.QApplication) -> None:
    """Give the launcher's own QApplication the AYON look (Fusion, palette, stylesheet);
    once: a second call changes nothing."""
    if app.property(_STYLED_PROPERTY):
        return
    app.setStyle("Fusion")  # the same frames on every platform, which the palette colours
    app.setPalette(palette())
    app.setStyleSheet(STYLESHEET)
    app.setProperty(_STYLED_PROPERTY, True)


def is_styled(app: QtWidgets.QApplication | None) -> bool:
    """Whether ``app`` has the AYON look already."""
    return app is not None and bool(app.property(_STYLED_PROPERTY))


def style_window(window: QtWidgets.QWidget) -> None:
    """Give a launcher window the AYON look when its application does not have it: a window
    shown inside a host's application (ayon-core's tray asking for a login) keeps the host's
    look for everything else."""
    from qtpy import QtWidgets

    if is_styled(QtWidgets.QApplication.instance()) or window.property(_STYLED_PROPERTY):
        return
    window.setPalette(palette())
    window.setStyleSheet(STYLESHEET)
    window.setProperty(_STYLED_PROPERTY, True)


def rich_color(text: str, color: str, bold: bool = False) -> str:
    """``text`` (already HTML-escaped) in ``color``, for a rich-text label."""
    weight = "font-weight:bold;" if bold else ""
    return f"<span style='color:{color};{weight}'>{text}</span>"
