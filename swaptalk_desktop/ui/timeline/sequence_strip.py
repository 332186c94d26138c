"""The sequence overview above the clip timeline: V1 and A1 with each sequence clip as a block
in proportion to its length, the clip boundaries, each clip's edits, the clip open below
highlighted and the playhead at its place in the sequence. A click (or drag) asks for a
sequence frame; the window maps it to (clip, source frame) and opens that clip there."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from . import theme

STRIP_HEIGHT = 40
ROW_LABELS = ("V1", "A1")


@dataclass(frozen=True)
class StripBlock:
    entry_id: str
    name: str
    start: int
    length: int
    edits: tuple[tuple[int, int], ...] = ()
    """Sequence frames ``[a, b)`` of the clip's edits inside its trim."""
    has_audio: bool = True


class SequenceStrip(QWidget):
    frameRequested = Signal(int)   # a sequence frame

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.blocks: list[StripBlock] = []
        self.total = 0
        self.current: str | None = None
        self.playhead: int | None = None
        self.marks: tuple[int | None, int | None] = (None, None)
        self.setFixedHeight(STRIP_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)
        self.setMouseTracking(True)

    def set_sequence(self, blocks: list[StripBlock], current: str | None,
                     playhead: int | None,
                     marks: tuple[int | None, int | None] = (None, None)) -> None:
        self.blocks, self.current, self.playhead = list(blocks), current, playhead
        self.marks = marks
        self.total = sum(b.length for b in blocks)
        self.setToolTip("")
        self.update()

    def set_playhead(self, current: str | None, playhead: int | None) -> None:
        if (current, playhead) != (self.current, self.playhead):
            self.current, self.playhead = current, playhead
            self.update()

    # --- geometry -------------------------------------------------------------------------------
    def _track(self) -> QRectF:
        return QRectF(theme.HEADER_WIDTH, 2, max(1.0, self.width() - theme.HEADER_WIDTH - 4),
                      self.height() - 4)

    def x_of(self, frame: float) -> float:
        track = self._track()
        return track.left() + track.width() * frame / max(self.total, 1)

    def frame_at(self, x: float) -> int | None:
        if self.total <= 0:
            return None
        track = self._track()
        frame = int((x - track.left()) / track.width() * self.total)
        return max(0, min(self.total - 1, frame))

    def block_at(self, frame: int) -> StripBlock | None:
        return next((b for b in self.blocks if b.start <= frame < b.start + b.length), None)

    # --- painting -------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BACKGROUND)
        track = self._track()
        rows = [QRectF(track.left(), track.top() + i * track.height() / 2, track.width(),
                       track.height() / 2 - 1) for i in range(2)]
        p.fillRect(QRectF(0, 0, theme.HEADER_WIDTH, self.height()), theme.HEADER_BG)
        p.setFont(theme.ui_font(7.5, bold=True))
        p.setPen(theme.HEADER_TEXT)
        for label, row in zip(ROW_LABELS, rows, strict=True):
            p.drawText(QRectF(6, row.top(), theme.HEADER_WIDTH - 8, row.height()),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
        p.setFont(theme.ui_font(7.5))
        for block in self.blocks:
            x0, x1 = self.x_of(block.start), self.x_of(block.start + block.length)
            current = block.entry_id == self.current
            for i, row in enumerate(rows):
                accent = theme.LANE_ACCENT["video" if i == 0 else "audio"]
                fill = QColor(accent)
                fill.setAlpha(150 if current else 70)
                if i == 1 and not block.has_audio:
                    fill.setAlpha(20)
                rect = QRectF(x0 + 1, row.top() + 1, max(1.0, x1 - x0 - 2), row.height() - 2)
                p.fillRect(rect, fill)
                if current:
                    p.setPen(QPen(theme.SELECTION, 1))
                    p.drawRect(rect)
                if i == 0:
                    for a, b in block.edits:
                        p.fillRect(QRectF(self.x_of(a), row.bottom() - 4,
                                          max(1.0, self.x_of(b) - self.x_of(a)), 3),
                                   theme.MARKER_COLORS["purple"])
                    p.setPen(theme.EDIT_TEXT)
                    text = p.fontMetrics().elidedText(block.name, Qt.TextElideMode.ElideRight,
                                                      max(0, int(rect.width()) - 6))
                    p.drawText(rect.adjusted(3, 0, -3, -3),
                               Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            p.setPen(QPen(theme.BORDER, 1))
            p.drawLine(int(x1), int(track.top()), int(x1), int(track.bottom()))
        a, b = self.marks
        if (a is not None or b is not None) and self.total:
            lo, hi = self.x_of(a or 0), self.x_of(min(b if b is not None else self.total,
                                                     self.total))
            p.fillRect(QRectF(lo, track.top(), max(1.0, hi - lo), track.height()),
                       theme.MARK_RANGE)
            p.setPen(QPen(theme.MARK, 1))
            for x in ((lo,) if a is not None else ()) + ((hi,) if b is not None else ()):
                p.drawLine(int(x), int(track.top()), int(x), int(track.bottom()))
        if self.playhead is not None and self.total:
            x = self.x_of(self.playhead + 0.5)
            p.setPen(QPen(theme.PLAYHEAD, 2))
            p.drawLine(int(x), int(track.top()), int(x), int(track.bottom()))
        p.end()

    # --- input ----------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._request(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._request(event.position().x())
        frame = self.frame_at(event.position().x())
        block = self.block_at(frame) if frame is not None else None
        self.setToolTip(f"{block.name} · sequence frame {frame}" if block else "")

    def _request(self, x: float) -> None:
        if x < theme.HEADER_WIDTH:
            return
        frame = self.frame_at(x)
        if frame is not None:
            self.frameRequested.emit(frame)
