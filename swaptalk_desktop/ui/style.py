"""A dark, calm editor look: Fusion with a muted palette and one restrained accent colour.

The colours are defined here (widgets paint with them too); the style sheet that uses them and
the app icon are files in ``resources/``, read through ``core.resources``.
"""

from __future__ import annotations

from string import Template

from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from ..core.resources import read_bytes, read_text

BACKGROUND = "#1d1f23"
PANEL = "#24272c"
BASE = "#181a1e"
RAISED = "#2d3137"
BORDER = "#363a41"
TEXT = "#d6d8dc"
MUTED = "#8b9099"
ACCENT = "#5b8fd1"
WARNING = "#d6a34b"
ERROR = "#d9675f"
OK = "#6fb380"

# Edit regions on the timeline cycle through these (muted, distinguishable).
EDIT_COLORS = ("#5b8fd1", "#b07cc6", "#5fae9e", "#c9925a", "#c26b85", "#8aa65a")

_COLORS = {"BACKGROUND": BACKGROUND, "PANEL": PANEL, "BASE": BASE, "RAISED": RAISED,
           "BORDER": BORDER, "TEXT": TEXT, "MUTED": MUTED, "ACCENT": ACCENT, "WARNING": WARNING,
           "ERROR": ERROR, "OK": OK}
STYLE_SHEET = "styles/editor.qss"
ICON_SVG = "icons/swaptalk.svg"
ICON_PNG = "icons/swaptalk-256.png"


def stylesheet() -> str:
    """``resources/styles/editor.qss`` with its ``$COLOUR`` names filled in from this module."""
    return Template(read_text(STYLE_SHEET)).substitute(_COLORS)


def app_icon() -> QIcon:
    """The app's icon: the SVG where Qt's SVG image plug-in is there to draw it, else the PNG."""
    icon = QIcon()
    for name in (ICON_SVG, ICON_PNG):
        pixmap = QPixmap()
        if pixmap.loadFromData(read_bytes(name)):
            icon.addPixmap(pixmap)
            break
    return icon


def dark_palette() -> QPalette:
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: BACKGROUND, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE, QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: RAISED, QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: RAISED,
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT, QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT, QPalette.ColorRole.PlaceholderText: MUTED,
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(MUTED))
    return p


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(app_icon())
    try:
        import pyqtgraph as pg
        pg.setConfigOptions(background=BASE, foreground=MUTED, antialias=False)
    except ImportError:  # the timeline needs it; the rest of the app does not
        pass
