"""The timecode ruler above the lanes, the lane headers beside them and the corner readout."""

from __future__ import annotations

from fractions import Fraction

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsWidget

from ...app.timeline_model import LANE_TITLES, TimelineState, ruler_steps, ticks_between
from ...core.timebase import frame_to_timecode, nominal_rate
from . import theme

_SUBTITLES = {"edits": "ranges", "video": "picture", "audio": "clip audio",
              "dialogue": "new line"}


class _StateAxis(pg.AxisItem):
    """An axis that draws itself from the timeline state instead of pyqtgraph's tick specs."""

    def __init__(self, orientation: str, state: TimelineState):
        super().__init__(orientation)
        self.state = state
        self.setStyle(tickLength=0, autoExpandTextSpace=False, hideOverlappingLabels=True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def own_rect(self) -> QRectF:
        return self.mapRectFromParent(self.geometry())

    def boundingRect(self) -> QRectF:
        return self.own_rect()

    def view_to_local(self, x: float, y: float) -> QPointF:
        view = self.linkedView()
        return self.mapFromScene(view.mapViewToScene(QPointF(x, y)))


class RulerAxis(_StateAxis):
    """Timecode labels at the clip's nominal rate, frame ticks, the in/out range, the markers
    (a coloured flag with the name beside it where there is room) and the playhead's head
    (the part an editor grabs to scrub)."""

    def __init__(self, state: TimelineState):
        super().__init__("top", state)
        self.fps: Fraction | float = 25
        self.setHeight(theme.RULER_HEIGHT)

    def frame_to_x(self, frame: float) -> float:
        return self.view_to_local(frame, 0).x()

    def paint(self, p: QPainter, *args) -> None:
        rect = self.own_rect()
        view = self.linkedView()
        if view is None or rect.width() <= 0:
            return
        p.setClipRect(rect)
        p.fillRect(rect, theme.RULER_BG)
        x0, x1 = view.viewRange()[0]
        origin, unit = self.frame_to_x(0.0), self.frame_to_x(1.0) - self.frame_to_x(0.0)
        if unit <= 0 or self.state.frame_count == 0:
            return
        self._paint_marks(p, rect, origin, unit)
        self._paint_ticks(p, rect, x0, x1, origin, unit)
        p.setPen(QPen(theme.BORDER, 1))
        p.drawLine(QPointF(rect.left(), rect.bottom() - 0.5),
                   QPointF(rect.right(), rect.bottom() - 0.5))
        self._paint_markers(p, rect, origin, unit)
        self._paint_head(p, rect, origin + self.state.playhead * unit)

    def _paint_markers(self, p: QPainter, rect: QRectF, origin: float, unit: float) -> None:
        markers = self.state.markers
        if not markers:
            return
        top = rect.top() + 17
        font = theme.ui_font(7)
        metrics = QFontMetricsF(font)
        p.setFont(font)
        xs = [origin + m.frame * unit for m in markers]
        for i, (marker, x) in enumerate(zip(markers, xs, strict=True)):
            if x < rect.left() - 200 or x > rect.right() + 6:
                continue
            color = theme.MARKER_COLORS.get(marker.color, theme.MARKER_COLORS["green"])
            line = QColor(color)
            line.setAlpha(150)
            p.setPen(QPen(line, 1))
            p.drawLine(QPointF(round(x) + 0.5, top + 8), QPointF(round(x) + 0.5, rect.bottom()))
            flag = QPainterPath()
            flag.addPolygon(QPolygonF([QPointF(x - 4.5, top), QPointF(x + 4.5, top),
                                       QPointF(x + 4.5, top + 6), QPointF(x, top + 10),
                                       QPointF(x - 4.5, top + 6)]))
            flag.closeSubpath()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.fillPath(flag, color)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            if marker.name:
                right = xs[i + 1] - 8 if i + 1 < len(xs) else rect.right()
                room = right - (x + 7)
                if room >= 24:
                    text = metrics.elidedText(marker.name, Qt.TextElideMode.ElideRight, room)
                    p.setPen(theme.MARKER_TEXT)
                    p.drawText(QRectF(x + 7, top - 1, room, 11),
                               Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_ticks(self, p: QPainter, rect: QRectF, x0: float, x1: float, origin: float,
                     unit: float) -> None:
        rate = nominal_rate(self.fps)
        major, minor = ruler_steps(unit, rate)
        n = self.state.frame_count
        bottom = rect.bottom() - 1
        p.setPen(QPen(theme.RULER_TICK, 1))
        for f in ticks_between(x0, x1, minor, n):
            if f % major:
                x = round(origin + f * unit) + 0.5
                p.drawLine(QPointF(x, bottom - 5), QPointF(x, bottom))
        p.setFont(theme.mono_font(8))
        for f in ticks_between(x0 - major, x1, major, n):
            x = round(origin + f * unit) + 0.5
            p.setPen(QPen(theme.RULER_TICK, 1))
            p.drawLine(QPointF(x, rect.top() + 4), QPointF(x, bottom))
            p.setPen(theme.RULER_TEXT)
            p.drawText(QRectF(x + 4, rect.top() + 3, 120, 14),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                       frame_to_timecode(f, self.fps))

    def _paint_marks(self, p: QPainter, rect: QRectF, origin: float, unit: float) -> None:
        mark_in, mark_out = self.state.mark_in, self.state.mark_out
        if mark_in is None and mark_out is None:
            return
        left = origin + (mark_in if mark_in is not None else 0) * unit
        right = origin + (mark_out if mark_out is not None else self.state.frame_count) * unit
        band = QRectF(left, rect.bottom() - 9, right - left, 8)
        p.fillRect(band, theme.MARK_RANGE)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(theme.MARK, 2))
        top, bottom = rect.bottom() - 16, rect.bottom() - 1
        for mark, sign in ((mark_in, 1), (mark_out, -1)):
            if mark is None:
                continue
            x = origin + mark * unit
            p.drawPolyline(QPolygonF([QPointF(x + 5 * sign, top), QPointF(x, top),
                                      QPointF(x, bottom), QPointF(x + 5 * sign, bottom)]))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_head(self, p: QPainter, rect: QRectF, x: float) -> None:
        if x < rect.left() - 8 or x > rect.right() + 8:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        top, bottom = rect.bottom() - 15, rect.bottom()
        head = QPainterPath()
        head.addPolygon(QPolygonF([QPointF(x - 6, top), QPointF(x + 6, top),
                                   QPointF(x + 6, bottom - 6), QPointF(x, bottom),
                                   QPointF(x - 6, bottom - 6)]))
        head.closeSubpath()
        p.fillPath(head, theme.PLAYHEAD)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)


class LaneHeaderAxis(_StateAxis):
    """Track headers: each lane's name beside it, like an NLE's track controls column."""

    def __init__(self, state: TimelineState):
        super().__init__("left", state)
        self.setWidth(theme.HEADER_WIDTH)

    def paint(self, p: QPainter, *args) -> None:
        rect = self.own_rect()
        if self.linkedView() is None:
            return
        p.setClipRect(rect)
        p.fillRect(rect, theme.BACKGROUND)
        for name, lane in self.state.lanes.items():
            top = self.view_to_local(0, lane.top).y()
            bottom = self.view_to_local(0, lane.bottom).y()
            row = QRectF(rect.left(), top, rect.width() - 1, bottom - top)
            p.fillRect(row, theme.HEADER_BG)
            p.fillRect(QRectF(row.left(), row.top(), 3, row.height()),
                       theme.LANE_ACCENT.get(name, theme.BORDER))
            text = row.adjusted(9, 0, -4, 0)
            p.setPen(theme.RULER_TEXT)
            p.setFont(theme.ui_font(8, bold=True))
            if row.height() >= 34:
                p.drawText(text.adjusted(0, 0, 0, -row.height() / 2 + 1),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                           LANE_TITLES[name])
                p.setPen(theme.HEADER_TEXT)
                p.setFont(theme.ui_font(7))
                p.drawText(text.adjusted(0, row.height() / 2 + 1, 0, 0),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                           _SUBTITLES[name])
            else:
                p.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                           LANE_TITLES[name])
        p.setPen(QPen(theme.BORDER, 1))
        p.drawLine(QPointF(rect.right() - 0.5, rect.top()),
                   QPointF(rect.right() - 0.5, rect.bottom()))


class CornerReadout(QGraphicsWidget):
    """The playhead's timecode in the corner between headers and ruler."""

    def __init__(self, state: TimelineState):
        super().__init__()
        self.state = state
        self.fps: Fraction | float = 25
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        # exactly the corner: a larger hint would push the ruler's row taller
        self.setMinimumSize(0, 0)
        self.setPreferredSize(theme.HEADER_WIDTH, theme.RULER_HEIGHT)
        self.setMaximumSize(theme.HEADER_WIDTH, theme.RULER_HEIGHT)

    def paint(self, p: QPainter, *args) -> None:
        rect = self.rect()
        p.fillRect(rect, theme.RULER_BG)
        p.setPen(QPen(theme.BORDER, 1))
        p.drawLine(QPointF(rect.left(), rect.bottom() - 0.5),
                   QPointF(rect.right(), rect.bottom() - 0.5))
        p.drawLine(QPointF(rect.right() - 0.5, rect.top()),
                   QPointF(rect.right() - 0.5, rect.bottom()))
        p.setPen(theme.PLAYHEAD.lighter(125))
        p.setFont(theme.mono_font(7.5))
        p.drawText(rect.adjusted(2, 0, -2, 0), Qt.AlignmentFlag.AlignCenter,
                   frame_to_timecode(self.state.playhead, self.fps))
