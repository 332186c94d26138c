"""Lane backgrounds, edit regions, marks and the playhead.

Items live in the view's coordinates (x in frames, y in pixels from the top) so pyqtgraph pans
and zooms them, but draw their outlines, handles and text in device pixels: a region's edge
stays one crisp pixel and its label stays readable at any zoom. Mouse gestures are handled in
one place (interaction.py), so these items accept no mouse buttons.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QTransform

from ...app.job_progress import format_percent
from ...app.timeline_model import EditView, Lane, TimelineState
from . import theme


def lane_rect(tr: QTransform, x0: float, x1: float, lane: Lane) -> QRectF:
    """Device-pixel rectangle of ``[x0, x1)`` frames in ``lane``."""
    return tr.mapRect(QRectF(x0, lane.top, x1 - x0, lane.height))


def x_px(tr: QTransform, x: float) -> float:
    return tr.map(QPointF(x, 0.0)).x()


class DeviceItem(pg.GraphicsObject):
    """Paints in device pixels; ``paint_px`` gets the data-to-device transform."""

    def __init__(self, state: TimelineState):
        super().__init__()
        self.state = state
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def view_rect(self) -> QRectF:
        view = self.getViewBox()
        return view.viewRect() if view is not None else QRectF()

    def boundingRect(self) -> QRectF:
        return self.view_rect()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def paint(self, p: QPainter, *args) -> None:
        tr = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.paint_px(p, tr)
        p.restore()

    def paint_px(self, p: QPainter, tr: QTransform) -> None:
        raise NotImplementedError

    def visible_px(self, tr: QTransform) -> QRectF:
        return tr.mapRect(self.view_rect())


class LanesItem(DeviceItem):
    """Lane backgrounds, the darker area past the clip's ends and, zoomed in, a frame grid."""

    def paint_px(self, p: QPainter, tr: QTransform) -> None:
        vis = self.visible_px(tr)
        p.fillRect(vis, theme.BACKGROUND)
        n = self.state.frame_count
        clip_left, clip_right = x_px(tr, 0), x_px(tr, n)
        ppf = tr.m11()
        for name, lane in self.state.lanes.items():
            row = lane_rect(tr, 0, 1, lane)
            band = QRectF(vis.left(), row.top(), vis.width(), row.height())
            p.fillRect(band, theme.OUTSIDE_CLIP)
            inside = band.intersected(QRectF(clip_left, row.top(), clip_right - clip_left,
                                             row.height()))
            p.fillRect(inside, theme.LANE_BG[name])
            if ppf >= 10 and name != "video":
                self._frame_grid(p, tr, inside)
        if n == 0:
            lane = self.state.lanes["video"]
            row = lane_rect(tr, 0, 1, lane)
            p.setPen(theme.HINT_TEXT)
            p.setFont(theme.ui_font(9))
            p.drawText(QRectF(vis.left() + 12, row.top(), vis.width() - 24, row.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       "No clip open: double-click a video in the media bin")

    def _frame_grid(self, p: QPainter, tr: QTransform, band: QRectF) -> None:
        view = self.view_rect()
        first = max(0, int(view.left()))
        last = min(self.state.frame_count, int(view.right()) + 1)
        p.setPen(QPen(theme.FRAME_GRID, 1))
        for f in range(first, last + 1):
            x = round(x_px(tr, f)) + 0.5
            p.drawLine(QPointF(x, band.top()), QPointF(x, band.bottom()))


class EditRegionItem(DeviceItem):
    """One edit: a block with handles in the edits lane, tinting the picture and sound under it."""

    def __init__(self, state: TimelineState, edit_id: str):
        super().__init__(state)
        self.edit_id = edit_id
        self.setZValue(10)

    @property
    def edit(self) -> EditView:
        return self.state.edits[self.edit_id]

    def boundingRect(self) -> QRectF:
        edit, lanes = self.edit, self.state.lanes
        top, bottom = lanes["edits"].top, lanes["audio"].bottom
        return QRectF(edit.start, top, edit.stop - edit.start, bottom - top)

    def refresh(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def paint_px(self, p: QPainter, tr: QTransform) -> None:
        edit, lanes = self.edit, self.state.lanes
        color = pg.mkColor(edit.color)
        selected = self.state.selected == edit.id
        vis = self.visible_px(tr)
        for name in ("video", "audio"):
            tint = QColor(color)
            tint.setAlpha(60 if selected else 38)
            p.fillRect(lane_rect(tr, edit.start, edit.stop, lanes[name]).intersected(vis), tint)
        edge = QColor(color)
        edge.setAlpha(200)
        p.setPen(QPen(edge, 1))
        top, bottom = lanes["video"].top, lanes["audio"].bottom
        for x in (x_px(tr, edit.start), x_px(tr, edit.stop) - 1):
            p.drawLine(QPointF(round(x) + 0.5, tr.map(QPointF(0, top)).y()),
                       QPointF(round(x) + 0.5, tr.map(QPointF(0, bottom)).y()))
        block = lane_rect(tr, edit.start, edit.stop, lanes["edits"]).adjusted(0, 1, 0, -1)
        self._paint_block(p, block.intersected(vis.adjusted(-4, 0, 4, 0)), edit, color,
                          selected)

    def _paint_block(self, p: QPainter, block: QRectF, edit: EditView, color: QColor,
                     selected: bool) -> None:
        if block.width() <= 0:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fill = QColor(color) if selected else QColor(color).darker(125)
        p.setBrush(fill)
        p.setPen(QPen(theme.SELECTION, 1.5) if selected else QPen(color.darker(170), 1))
        p.drawRoundedRect(block.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        hw = min(theme.HANDLE_PX, block.width() / 3)
        hovered = self.state.hovered
        for side, rect in (("left", QRectF(block.left() + 1, block.top() + 2, hw,
                                           block.height() - 4)),
                           ("right", QRectF(block.right() - 1 - hw, block.top() + 2, hw,
                                            block.height() - 4))):
            alpha = 150 if hovered == (edit.id, side) else 70 if selected else 35
            p.fillRect(rect, QColor(255, 255, 255, alpha))
        self._paint_status(p, block, edit)
        self._paint_label(p, block, edit, hw)

    def _paint_status(self, p: QPainter, block: QRectF, edit: EditView) -> None:
        if edit.status not in theme.STATUS:
            return
        bar = QRectF(block.left() + 2, block.bottom() - 4, block.width() - 4, 3)
        p.fillRect(bar, theme.STATUS_TRACK)
        done = 1.0 if edit.status == "done" else min(max(edit.progress, 0.0), 1.0)
        p.fillRect(QRectF(bar.left(), bar.top(), bar.width() * done, bar.height()),
                   theme.STATUS[edit.status])

    def _paint_label(self, p: QPainter, block: QRectF, edit: EditView, hw: float) -> None:
        text_rect = block.adjusted(hw + 4, 1, -hw - 4, -4)
        if text_rect.width() < 14:
            return
        status = {"done": "✓", "partial": f"{format_percent(edit.progress)}",
                  "running": f"{format_percent(edit.progress)}"}.get(edit.status, "")
        p.setPen(theme.EDIT_TEXT)
        if status:
            p.setFont(theme.ui_font(7.5, bold=True))
            width = p.fontMetrics().horizontalAdvance(status)
            if width + 10 < text_rect.width():
                p.drawText(text_rect, Qt.AlignmentFlag.AlignRight
                           | Qt.AlignmentFlag.AlignVCenter, status)
                text_rect.setRight(text_rect.right() - width - 6)
        p.setFont(theme.ui_font(8, bold=True))
        label = edit.label or f"{edit.stop - edit.start} f"
        elided = p.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight,
                                            int(text_rect.width()))
        p.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   elided)


class MarksItem(DeviceItem):
    """In/out marks as dashed lines through the lanes (the ruler shows the range itself)."""

    def __init__(self, state: TimelineState):
        super().__init__(state)
        self.setZValue(20)

    def paint_px(self, p: QPainter, tr: QTransform) -> None:
        vis = self.visible_px(tr)
        pen = QPen(theme.MARK, 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        for mark in (self.state.mark_in, self.state.mark_out):
            if mark is not None:
                x = round(x_px(tr, mark)) + 0.5
                p.drawLine(QPointF(x, vis.top()), QPointF(x, vis.bottom()))


class PlayheadItem(DeviceItem):
    def __init__(self, state: TimelineState):
        super().__init__(state)
        self.setZValue(30)

    def paint_px(self, p: QPainter, tr: QTransform) -> None:
        if self.state.frame_count == 0:
            return
        vis = self.visible_px(tr)
        x = round(x_px(tr, self.state.playhead)) + 0.5
        p.setPen(QPen(theme.PLAYHEAD, 1.5))
        p.drawLine(QPointF(x, vis.top()), QPointF(x, vis.bottom()))
