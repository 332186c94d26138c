"""The viewer: the current frame as the source (A), the processed result (B), or a split wipe
between them with a divider the user drags across the picture."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import style
from .errors import guarded
from .widgets import ElidedLabel

MODES = ("original", "processed", "split")
MODE_LABELS = {"original": "A  Source", "processed": "B  Processed", "split": "A | B  Wipe"}
_GRAB_PX = 8


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of ``rgb`` (uint8, H x W x 3)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()


class FrameCanvas(QWidget):
    """Paints one or two frames, letterboxed, and handles the wipe divider."""

    dividerMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.mode = "original"
        self.divider = 0.5
        self._a: QImage | None = None
        self._b: QImage | None = None
        self._note = ""
        self._dragging = False

    def set_images(self, a: QImage | None, b: QImage | None, note: str = "") -> None:
        self._a, self._b, self._note = a, b, note
        self.update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.setCursor(Qt.CursorShape.SplitHCursor if mode == "split"
                       else Qt.CursorShape.ArrowCursor)
        self.update()

    def set_divider(self, fraction: float) -> None:
        self.divider = min(1.0, max(0.0, fraction))
        self.update()
        self.dividerMoved.emit(self.divider)

    def picture_rect(self) -> QRectF:
        image = self._a or self._b
        if image is None:
            return QRectF(self.rect())
        w, h = self.width(), self.height()
        scale = min(w / image.width(), h / image.height())
        pw, ph = image.width() * scale, image.height() * scale
        return QRectF((w - pw) / 2, (h - ph) / 2, pw, ph)

    def divider_x(self) -> float:
        r = self.picture_rect()
        return r.left() + self.divider * r.width()

    # --- painting ---------------------------------------------------------------------------
    @guarded
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0f1012"))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._a is None and self._b is None:
            painter.setPen(QColor(style.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Import a clip (File ▸ Import…, or drop files here), then "
                             "double-click it in the media bin")
            return
        target = self.picture_rect()
        b = self._b
        if self.mode == "original" or b is None:
            painter.drawImage(target, self._a or b)
        elif self.mode == "processed":
            painter.drawImage(target, b)
        else:
            painter.drawImage(target, self._a or b)
            x = self.divider_x()
            painter.save()
            painter.setClipRect(QRectF(x, target.top(), target.right() - x, target.height()))
            painter.drawImage(target, b)
            painter.restore()
            self._paint_divider(painter, target, x)
        self._paint_labels(painter, target)

    def _paint_divider(self, painter: QPainter, target: QRectF, x: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1.5))
        painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
        painter.setBrush(QColor(30, 32, 36, 220))
        painter.drawEllipse(QPointF(x, target.center().y()), 11, 11)
        painter.setPen(QPen(QColor(style.TEXT), 1.5))
        cy = target.center().y()
        for sign in (-1, 1):
            painter.drawLine(QPointF(x + sign * 3, cy - 4), QPointF(x + sign * 7, cy))
            painter.drawLine(QPointF(x + sign * 7, cy), QPointF(x + sign * 3, cy + 4))

    def _badge(self, painter: QPainter, x: float, y: float, text: str, right: bool) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
        rect = QRectF(x - w if right else x, y, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(15, 16, 18, 190))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(QColor(style.TEXT))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_labels(self, painter: QPainter, target: QRectF) -> None:
        top = target.top() + 8
        if self.mode == "split" and self._b is not None:
            self._badge(painter, target.left() + 8, top, "A  source", False)
            self._badge(painter, target.right() - 8, top, "B  processed", True)
        elif self.mode == "processed" and self._b is not None:
            self._badge(painter, target.left() + 8, top, "B  processed", False)
        else:
            self._badge(painter, target.left() + 8, top, "A  source", False)
        if self._note:
            self._badge(painter, target.left() + 8, target.bottom() - 30, self._note, False)

    # --- divider dragging -------------------------------------------------------------------
    def _fraction_at(self, x: float) -> float:
        r = self.picture_rect()
        return (x - r.left()) / r.width() if r.width() > 0 else 0.5

    @guarded
    def mousePressEvent(self, event) -> None:
        if self.mode == "split" and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self.set_divider(self._fraction_at(event.position().x()))
        super().mousePressEvent(event)

    @guarded
    def mouseMoveEvent(self, event) -> None:
        if self._dragging:
            self.set_divider(self._fraction_at(event.position().x()))
        super().mouseMoveEvent(event)

    @guarded
    def mouseReleaseEvent(self, event) -> None:
        self._dragging = False
        super().mouseReleaseEvent(event)


class Viewer(QWidget):
    """Mode buttons, the canvas, and a line with the timecode and what the picture shows."""

    modeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = FrameCanvas(self)
        self.original: np.ndarray | None = None
        self.processed: np.ndarray | None = None
        self.index: int | None = None
        self.processed_index: int | None = None
        self._buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        for mode in MODES:
            button = QToolButton(text=MODE_LABELS[mode], checkable=True)
            button.setToolTip({"original": "Show the source frame (A)",
                               "processed": "Show the processed frame (B)",
                               "split": "Wipe between A and B; drag across the picture"}[mode])
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            group.addButton(button)
            bar.addWidget(button)
            self._buttons[mode] = button
        bar.addSpacing(12)
        self.status = ElidedLabel("")  # a long note shortens, it never widens the window
        self.status.setObjectName("hint")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.timecode = QLabel("--:--:--:--")
        self.timecode.setStyleSheet(f"color: {style.TEXT}; font-family: monospace; "
                                    "font-size: 13px;")
        bar.addWidget(self.status, 1)
        bar.addSpacing(12)
        bar.addWidget(self.timecode)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        self._buttons["split"].setChecked(True)
        self.canvas.set_mode("split")

    @property
    def mode(self) -> str:
        return self.canvas.mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self._buttons[mode].setChecked(True)
        if mode != self.canvas.mode:
            self.canvas.set_mode(mode)
            self.modeChanged.emit(mode)

    def clear(self) -> None:
        self.original = self.processed = None
        self.index = self.processed_index = None
        self.canvas.set_images(None, None)
        self.timecode.setText("--:--:--:--")
        self.status.setText("")

    def show_frame(self, index: int, original: np.ndarray, timecode: str = "") -> None:
        """A new source frame; the processed one is kept only if it is for the same index."""
        self.index, self.original = index, original
        if self.processed_index != index:
            self.processed, self.processed_index = None, None
        self.timecode.setText(timecode or str(index))
        self._repaint()

    def show_processed(self, index: int, processed: np.ndarray | None, note: str = "") -> None:
        if index != self.index:
            return
        self.processed, self.processed_index = processed, index if processed is not None \
            else None
        self.status.setText(note)
        self._repaint()

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _repaint(self) -> None:
        a = None if self.original is None else to_qimage(self.original)
        b = None if self.processed is None else to_qimage(self.processed)
        self.canvas.set_images(a, b)
