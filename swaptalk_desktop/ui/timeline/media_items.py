"""The picture and sound lanes: thumbnails and min/max waveform envelopes.

Both show only what a background fetch returned for the visible range (see loader.py); until
a newer fetch lands they keep drawing the last one, so a pan never shows a blank lane.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QTransform

from ...app.timeline_model import TimelineState
from . import theme
from .items import DeviceItem, lane_rect, x_px


@dataclass(frozen=True)
class Envelope:
    """Peaks placed on the timeline: ``xs`` in frames (one more than peaks: the last end)."""

    xs: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray
    origin: float = 0.0  # where the source's time 0 was placed (frames) when this was made


class WaveformItem(DeviceItem):
    """A min/max envelope in one lane, filled between the peaks.

    ``extent`` and ``highlight`` are where the source and the part in use are now;
    ``shift_frames`` slides the last envelope there while one for the moved source is fetched
    (the dialogue lane during an offset drag)."""

    def __init__(self, state: TimelineState, lane: str, color: QColor):
        super().__init__(state)
        self.lane = lane
        self.color = color
        self.envelope: Envelope | None = None
        self.shift_frames = 0.0
        self.extent: tuple[float, float] | None = None  # frames the whole source spans
        self.highlight: tuple[float, float] | None = None  # the part in use (the edit)
        self.caption = ""
        self.empty_hint = ""
        self._path: QPainterPath | None = None
        self._path_key: tuple | None = None
        self.setZValue(1)

    def set_envelope(self, envelope: Envelope | None) -> None:
        self.envelope = envelope
        self._path = None
        self.update()

    def _envelope_path(self, lane_top: float, lane_height: float) -> QPainterPath | None:
        env = self.envelope
        if env is None or len(env.mins) == 0:
            return None
        key = (id(env), lane_top, lane_height)
        if self._path is None or self._path_key != key:
            center, half = lane_top + lane_height / 2, lane_height / 2 - 3
            # at least a hairline where the sound is silent
            top = center - np.maximum(env.maxs * half, 0.5)
            bottom = center - np.minimum(env.mins * half, -0.5)
            xs = np.repeat(env.xs, 2)[1:-1]  # steps: each peak holds over its own span
            xs = np.concatenate([xs, xs[::-1]])
            ys = np.concatenate([np.repeat(top, 2), np.repeat(bottom, 2)[::-1]])
            path = pg.arrayToQPath(xs.astype(np.float64), ys.astype(np.float64))
            path.closeSubpath()
            self._path, self._path_key = path, key
        return self._path

    def paint(self, p: QPainter, *args) -> None:
        lane = self.state.lanes[self.lane]
        tr = p.transform()
        p.save()
        p.resetTransform()
        self._paint_backdrop(p, tr)
        p.restore()
        path = self._envelope_path(lane.top, lane.height)
        if path is not None:
            p.save()
            p.translate(self.shift_frames, 0.0)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.fillPath(path, QBrush(self._fill_color()))
            if self.highlight is not None:
                # the part the edit uses is drawn at full strength over a dimmed rest
                start, stop = self.highlight
                p.setClipRect(QRectF(start - self.shift_frames, lane.top, stop - start,
                                     lane.height), Qt.ClipOperation.IntersectClip)
                p.fillPath(path, QBrush(self.color))
            p.restore()
        p.save()
        p.resetTransform()
        self._paint_labels(p, tr)
        p.restore()

    def _fill_color(self) -> QColor:
        return theme.DIALOGUE_DIM if self.highlight is not None else self.color

    def _paint_backdrop(self, p: QPainter, tr: QTransform) -> None:
        lane = self.state.lanes[self.lane]
        vis = self.visible_px(tr)
        center = round(tr.map(QPointF(0, lane.center)).y()) + 0.5
        if self.extent is not None:
            start, stop = self.extent
            rect = lane_rect(tr, start, stop, lane)
            back = QColor(self.color)
            back.setAlpha(22)
            p.fillRect(rect.intersected(vis), back)
            left, right = max(rect.left(), vis.left()), min(rect.right(), vis.right())
        elif self.envelope is not None:
            left, right = max(x_px(tr, 0), vis.left()), min(
                x_px(tr, self.state.frame_count), vis.right())
        else:  # nothing to show: a blank lane reads better than a flat line
            return
        if right > left:
            p.setPen(QPen(theme.WAVEFORM_CENTER, 1))
            p.drawLine(QPointF(left, center), QPointF(right, center))

    def _paint_labels(self, p: QPainter, tr: QTransform) -> None:
        lane = self.state.lanes[self.lane]
        vis = self.visible_px(tr)
        row = lane_rect(tr, 0, 1, lane)
        if self.extent is None and self.empty_hint and self.state.frame_count:
            p.setPen(theme.HINT_TEXT)
            p.setFont(theme.ui_font(8))
            p.drawText(QRectF(vis.left() + 10, row.top(), vis.width() - 20, row.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       self.empty_hint)
        elif self.caption and self.extent is not None:
            left = max(x_px(tr, self.extent[0]), vis.left()) + 4
            p.setPen(self.color.lighter(130))
            p.setFont(theme.ui_font(7.5, bold=True))
            p.drawText(QRectF(left, row.top() + 2, 400, 14),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.caption)


class ThumbnailItem(DeviceItem):
    """Pictures of the video along its lane, one per slot of ``step`` frames."""

    def __init__(self, state: TimelineState, cache_size: int = 600):
        super().__init__(state)
        self.images: OrderedDict[int, QImage] = OrderedDict()
        self.cache_size = cache_size
        self.slots: list[int] = []
        self.step = 1
        self.aspect = 16 / 9
        self.setZValue(1)

    def add_images(self, frames: list[int], images: list[QImage]) -> None:
        for frame, image in zip(frames, images, strict=False):
            if image.isNull():
                continue
            self.images[frame] = image
            self.images.move_to_end(frame)
            self.aspect = image.width() / max(1, image.height())
        while len(self.images) > self.cache_size:
            self.images.popitem(last=False)
        self.update()

    def clear(self) -> None:
        self.images.clear()
        self.slots = []
        self.update()

    def paint_px(self, p: QPainter, tr: QTransform) -> None:
        lane = self.state.lanes["video"]
        vis = self.visible_px(tr)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for frame in self.slots:
            stop = min(frame + self.step, self.state.frame_count)
            slot = lane_rect(tr, frame, stop, lane).adjusted(0, 2, 0, -2)
            if slot.right() < vis.left() or slot.left() > vis.right():
                continue
            image = self.images.get(frame)
            if image is None:
                p.fillRect(slot.adjusted(1, 0, -1, 0), theme.THUMB_PLACEHOLDER)
                continue
            self._tile(p, slot, image)
            p.setPen(QPen(QColor(0, 0, 0, 150), 1))
            p.drawLine(QPointF(round(slot.left()) + 0.5, slot.top()),
                       QPointF(round(slot.left()) + 0.5, slot.bottom()))

    def _tile(self, p: QPainter, slot: QRectF, image: QImage) -> None:
        """The slot's picture at its own aspect, repeated when the slot is wider (deep zoom)."""
        width = slot.height() * image.width() / max(1, image.height())
        p.save()
        p.setClipRect(slot, Qt.ClipOperation.IntersectClip)
        x = slot.left()
        while x < slot.right():
            p.drawImage(QRectF(x, slot.top(), width, slot.height()), image)
            x += max(width, 1.0)
        p.restore()
