"""A dark, calm editor look: Fusion with a muted palette and one restrained accent colour."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

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

STYLESHEET = f"""
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QDialog {{ border: 1px solid {BORDER}; }}
QDockWidget {{ color: {MUTED}; font-weight: 600; }}
QDockWidget::title {{ background: {PANEL}; padding: 5px 8px; border-bottom: 1px solid {BORDER}; }}
QToolTip {{ color: {TEXT}; background: {RAISED}; border: 1px solid {BORDER}; }}
QMenuBar {{ background: {PANEL}; color: {TEXT}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {RAISED}; }}
QMenu {{ background: {PANEL}; color: {TEXT}; border: 1px solid {BORDER}; }}
QMenu::item:disabled {{ color: {MUTED}; }}
QStatusBar {{ background: {PANEL}; color: {MUTED}; border-top: 1px solid {BORDER}; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 6px; }}
QPushButton, QToolButton {{
    background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 4px;
    padding: 4px 10px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {ACCENT}; }}
QPushButton:pressed, QToolButton:pressed, QToolButton:checked {{
    background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {MUTED}; background: {PANEL}; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QPushButton#primary:disabled {{ background: {PANEL}; color: {MUTED}; border-color: {BORDER}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox, QPlainTextEdit {{
    background: {BASE}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 3px;
    padding: 3px 5px; selection-background-color: {ACCENT}; }}
QComboBox QAbstractItemView {{ background: {PANEL}; color: {TEXT};
    selection-background-color: {ACCENT}; }}
QListView, QTreeView, QTableView {{ background: {BASE}; color: {TEXT}; border: none;
    alternate-background-color: {PANEL}; selection-background-color: #34506f; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none;
    border-bottom: 1px solid {BORDER}; padding: 4px 6px; }}
QProgressBar {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px;
    color: {TEXT}; text-align: center; height: 14px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 2px; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {TEXT}; width: 12px; margin: -5px 0;
    border-radius: 6px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QGroupBox {{ color: {MUTED}; border: 1px solid {BORDER}; border-radius: 4px; margin-top: 14px;
    padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
QLabel#hint {{ color: {MUTED}; }}
QLabel#error {{ color: {ERROR}; }}
QTabBar::tab {{ background: {PANEL}; color: {MUTED}; padding: 5px 12px; border: none; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QScrollBar:vertical, QScrollBar:horizontal {{ background: {BASE}; border: none;
    width: 10px; height: 10px; }}
QScrollBar::handle {{ background: {RAISED}; border-radius: 4px; min-height: 20px;
    min-width: 20px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
"""


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
    app.setStyleSheet(STYLESHEET)
    try:
        import pyqtgraph as pg
        pg.setConfigOptions(background=BASE, foreground=MUTED, antialias=False)
    except ImportError:  # the timeline needs it; the rest of the app does not
        pass
