"""Timeline colours and sizes, matched to the editor's dark palette (ui/style.py)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

BACKGROUND = QColor("#181a1e")
OUTSIDE_CLIP = QColor("#121316")
RULER_BG = QColor("#202327")
RULER_TEXT = QColor("#aeb3bb")
RULER_TICK = QColor("#5d626b")
HEADER_BG = QColor("#24272c")
HEADER_TEXT = QColor("#8b9099")
BORDER = QColor("#363a41")
LANE_BG = {"edits": QColor("#1f2226"), "video": QColor("#1c1e22"),
           "audio": QColor("#1c1e22"), "dialogue": QColor("#1c1e22")}
FRAME_GRID = QColor(255, 255, 255, 16)
LANE_ACCENT = {"edits": QColor("#5b8fd1"), "video": QColor("#7d8694"),
               "audio": QColor("#4fb39a"), "dialogue": QColor("#c9925a")}

WAVEFORM = QColor("#4fb39a")
WAVEFORM_CENTER = QColor(79, 179, 154, 70)
DIALOGUE = QColor("#c9925a")
DIALOGUE_DIM = QColor(201, 146, 90, 90)
HINT_TEXT = QColor("#5d626b")
THUMB_PLACEHOLDER = QColor("#262a30")

PLAYHEAD = QColor("#e5484d")
MARK = QColor("#d6a34b")
MARK_RANGE = QColor(214, 163, 75, 60)
# core.project.MARKER_COLORS, as painted on the ruler and in the marker list
MARKER_COLORS = {"red": QColor("#ef5b5b"), "orange": QColor("#f08c3a"),
                 "yellow": QColor("#e8cf4a"), "green": QColor("#5cc25c"),
                 "cyan": QColor("#4cc9d6"), "blue": QColor("#5b8fe8"),
                 "purple": QColor("#9a6ee0"), "magenta": QColor("#d65cc8"),
                 "white": QColor("#e8e8e8")}
MARKER_TEXT = QColor("#d7dae0")
SELECTION = QColor("#f2f3f5")
EDIT_TEXT = QColor("#ffffff")
STATUS = {"done": QColor("#6fb380"), "partial": QColor("#d6a34b"),
          "running": QColor("#7fb0ec")}
STATUS_TRACK = QColor(0, 0, 0, 110)

RULER_HEIGHT = 34
HEADER_WIDTH = 76
HANDLE_PX = 7          # grab zone of an edit's edge, inside the region
SNAP_PX = 8            # magnetic distance to the playhead / marks / edit ends
DRAG_START_PX = 3      # movement before a press on an edit or empty track becomes a drag


def ui_font(point_size: float = 8.0, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def mono_font(point_size: float = 8.0) -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(point_size)
    return font
