"""Every mouse gesture on the timeline, decided at press time from what lies under the cursor.

Handled here rather than in pyqtgraph items because the gestures compete for the same pixels
(an edit's edge that sits on the playhead, a press that becomes a pan or a click) and an NLE
decides them by a fixed priority: ruler marks, edit handles, the playhead, the dialogue clip,
then empty track (drag pans, click seeks).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QCursor, QMouseEvent, QWheelEvent

from ...app.timeline_model import EditView, move_body, snap_position, trim_edge
from . import theme

if TYPE_CHECKING:
    from .widget import TimelineWidget

ZOOM_PER_NOTCH = 1.25
PAN_PER_NOTCH = 0.12  # of the visible span


@dataclass(frozen=True)
class Hit:
    kind: str  # ruler | mark_in | mark_out | marker | edit | playhead | dialogue | empty | outside
    edit_id: str | None = None  # the edit's id; for "marker", the marker's
    side: str | None = None  # left | right | body


@dataclass
class Gesture:
    hit: Hit
    press: QPointF
    press_x: float
    button: Qt.MouseButton
    drag_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    moved: bool = False
    emitted: bool = False
    edit: EditView | None = None
    last: tuple | None = None
    view_range: tuple[float, float] = (0.0, 1.0)
    origin: float = 0.0  # dialogue start (frames) or the mark's position at press


_CURSORS = {"mark_in": Qt.CursorShape.SizeHorCursor, "mark_out": Qt.CursorShape.SizeHorCursor,
            "playhead": Qt.CursorShape.SizeHorCursor, "dialogue": Qt.CursorShape.OpenHandCursor,
            "left": Qt.CursorShape.SizeHorCursor, "right": Qt.CursorShape.SizeHorCursor,
            "body": Qt.CursorShape.OpenHandCursor}


class GestureFilter(QObject):
    """Event filter on the plot's viewport that turns mouse input into timeline signals."""

    def __init__(self, timeline: TimelineWidget):
        super().__init__(timeline)
        self.t = timeline
        self.gesture: Gesture | None = None

    # -- dispatch ---------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        kind = ev.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(ev)
        if kind == QEvent.Type.MouseMove:
            return self._move(ev)
        if kind == QEvent.Type.MouseButtonRelease:
            return self._release(ev)
        if kind == QEvent.Type.MouseButtonDblClick:
            hit = self.hit(ev.position())
            if hit.kind == "marker" and ev.button() == Qt.MouseButton.LeftButton:
                self.t.markerActivated.emit(hit.edit_id)
            return True
        if kind == QEvent.Type.Wheel:
            return self._wheel(ev)
        if kind == QEvent.Type.Leave and self.gesture is None:
            self.t._set_hover(None)
        return False

    # -- hit testing ------------------------------------------------------------------------

    def hit(self, pos: QPointF) -> Hit:
        t = self.t
        if t._in_ruler(pos):
            for kind, mark in (("mark_in", t.state.mark_in), ("mark_out", t.state.mark_out)):
                if mark is not None and abs(t._frame_to_px(mark) - pos.x()) <= 5:
                    return Hit(kind)
            marker = t.marker_at_px(pos.x())
            if marker is not None:  # a press seeks to the marker's frame, then scrubs
                return Hit("marker", marker.id)
            return Hit("ruler")
        if not t._in_view(pos):
            return Hit("outside")
        y = t._pos_to_view(pos).y()
        lanes = t.state.lanes
        near_playhead = abs(t._frame_to_px(t.state.playhead) - pos.x()) <= 4
        if lanes["edits"].top <= y < lanes["edits"].bottom + 2:
            edit_hit = self._edit_at(pos.x())
            if edit_hit is not None:
                return edit_hit
        if near_playhead:
            return Hit("playhead")
        extent = t._dialogue_item.extent
        if extent is not None and lanes["dialogue"].contains(y):
            left, right = t._frame_to_px(extent[0]), t._frame_to_px(extent[1])
            if left - 2 <= pos.x() <= right + 2:
                return Hit("dialogue", t.feeds.dialogue.edit_id)
        return Hit("empty")

    def _edit_at(self, px: float) -> Hit | None:
        best: tuple[float, Hit] | None = None
        for edit in self.t.state.sorted_edits():
            left, right = self.t._frame_to_px(edit.start), self.t._frame_to_px(edit.stop)
            handle = min(theme.HANDLE_PX, (right - left) / 3)
            if not left - 3 <= px <= right + 3:
                continue
            if px <= left + handle:
                side, distance = "left", abs(px - left)
            elif px >= right - handle:
                side, distance = "right", abs(px - right)
            else:
                side, distance = "body", 0.0
            # two edits that touch: the one the cursor is inside wins
            inside = left <= px < right
            score = distance + (0 if inside else 10)
            if best is None or score < best[0]:
                best = (score, Hit("edit", edit.id, side))
        return best[1] if best is not None else None

    # -- press / move / release ---------------------------------------------------------------

    def _press(self, ev: QMouseEvent) -> bool:
        pos = ev.position()
        button = ev.button()
        if button == Qt.MouseButton.MiddleButton and self.t._in_view(pos):
            self._begin(Hit("empty"), pos, button)
            return True
        if button != Qt.MouseButton.LeftButton:
            return False  # the right button stays free for the app's context menu
        hit = self.hit(pos)
        if hit.kind == "outside":
            return True
        g = self._begin(hit, pos, button)
        t = self.t
        if hit.kind == "ruler":
            t._user_playhead(self._frame_at(pos), seek=True)
        elif hit.kind == "marker":
            marker = next(m for m in t.state.markers if m.id == hit.edit_id)
            t._user_playhead(marker.frame, seek=True)
        elif hit.kind in ("mark_in", "mark_out"):
            g.origin = t.state.mark_in if hit.kind == "mark_in" else t.state.mark_out
        elif hit.kind == "edit":
            g.edit = t.state.edits[hit.edit_id]
            g.last = (g.edit.start, g.edit.stop)
            t._user_select(hit.edit_id)
        elif hit.kind == "dialogue":
            g.origin = t._dialogue_item.extent[0]
            g.last = (t.feeds.dialogue.offset_s,)
        self._set_cursor(hit, pressed=True)
        return True

    def _begin(self, hit: Hit, pos: QPointF, button: Qt.MouseButton) -> Gesture:
        x0, x1 = self.t.visible_range()
        self.gesture = Gesture(hit, QPointF(pos), self.t._pos_to_view(pos).x(), button,
                               view_range=(x0, x1))
        return self.gesture

    def _move(self, ev: QMouseEvent) -> bool:
        pos = ev.position()
        g = self.gesture
        if g is None:
            if not ev.buttons():
                hit = self.hit(pos)
                self.t._set_hover(hit if hit.kind == "edit" else None)
                self._set_cursor(hit, pressed=False)
                tip = self.t._edit_tooltip(hit.edit_id) if hit.kind == "edit" else \
                    self.t._marker_tooltip(hit.edit_id) if hit.kind == "marker" else ""
                self.t.viewport().setToolTip(tip)
            return False
        kind = g.hit.kind
        if not g.moved:
            dist = (pos - g.press).manhattanLength()
            if kind in ("edit", "dialogue", "empty") and dist < theme.DRAG_START_PX:
                return True
            g.moved = True
        x = self.t._pos_to_view(pos).x()
        fine = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        tolerance = 0.0 if fine or not self.t.snapping else theme.SNAP_PX / self.t._ppf()
        if kind in ("ruler", "playhead", "marker"):
            self.t._user_playhead(self._frame_at(pos, tolerance), seek=False)
        elif kind in ("mark_in", "mark_out"):
            self._drag_mark(kind, g.origin + (x - g.press_x), tolerance)
        elif kind == "edit":
            self._drag_edit(g, x, tolerance, finished=False)
        elif kind == "dialogue":
            self._drag_dialogue(g, x, tolerance, fine, finished=False)
        elif kind == "empty":
            shift = (pos.x() - g.press.x()) / self.t._ppf()
            self.t._show_range(g.view_range[0] - shift, g.view_range[1] - shift)
        return True

    def _release(self, ev: QMouseEvent) -> bool:
        g = self.gesture
        if g is None or ev.button() != g.button:
            return g is not None
        self.gesture = None
        kind = g.hit.kind
        # a drag that never changed a value leaves no trace (no empty undo step)
        if kind == "edit" and g.emitted:
            self._emit_edit(g, g.last, finished=True)
        elif kind == "dialogue" and g.emitted:
            self._emit_offset(g, g.last[0], finished=True)
        elif kind in ("mark_in", "mark_out") and g.moved:
            self.t._user_marks_done()
        elif kind in ("empty", "dialogue") and not g.moved:
            if g.button == Qt.MouseButton.LeftButton:  # a click on the lanes seeks there
                self.t._user_playhead(self._frame_at(g.press), seek=True)
        self._set_cursor(self.hit(ev.position()), pressed=False)
        return True

    # -- the drags --------------------------------------------------------------------------

    def _frame_at(self, pos: QPointF, tolerance: float = 0.0) -> int:
        """The frame under the cursor (the one whose cell it is in), snapped when asked."""
        x = self.t._pos_to_view(pos).x()
        if tolerance > 0:
            state = self.t.state
            targets = [m for m in (state.mark_in, state.mark_out) if m is not None]
            targets += [m.frame for m in state.markers]
            for edit in state.edits.values():
                targets += [edit.start, edit.stop]
            snapped = snap_position(x, targets, tolerance)
            frame = snapped if abs(snapped - x) <= tolerance else math.floor(x)
        else:
            frame = math.floor(x)
        return min(max(frame, 0), max(self.t.state.frame_count - 1, 0))

    def _drag_mark(self, kind: str, x: float, tolerance: float) -> None:
        state = self.t.state
        targets = [0, state.frame_count, state.playhead]
        for edit in state.edits.values():
            targets += [edit.start, edit.stop]
        frame = snap_position(x, targets, tolerance)
        if kind == "mark_in":
            high = state.mark_out - 1 if state.mark_out is not None else state.frame_count - 1
            self.t._user_marks(min(max(frame, 0), high), state.mark_out)
        else:
            low = state.mark_in + 1 if state.mark_in is not None else 1
            self.t._user_marks(state.mark_in, max(min(frame, state.frame_count), low))

    def _drag_edit(self, g: Gesture, x: float, tolerance: float, finished: bool) -> None:
        edit, state = g.edit, self.t.state
        delta = x - g.press_x
        if g.hit.side == "body":
            values = move_body(edit, delta, state, tolerance)
        else:
            edge = edit.start if g.hit.side == "left" else edit.stop
            values = trim_edge(edit, g.hit.side, edge + delta, state, tolerance)
        if values != g.last:
            self._emit_edit(g, values, finished)

    def _emit_edit(self, g: Gesture, values: tuple, finished: bool) -> None:
        g.last, g.emitted = values, True
        start, stop = values
        self.t._preview_edit(g.edit.id, start, stop)
        self.t.editDragged.emit(g.edit.id, int(start), int(stop), g.drag_id, finished)

    def _drag_dialogue(self, g: Gesture, x: float, tolerance: float, fine: bool,
                       finished: bool) -> None:
        t = self.t
        d = t.feeds.dialogue
        edit = t.state.edits.get(d.edit_id) if d is not None else None
        if edit is None:  # the app took the dialogue away mid-drag
            return
        raw = g.origin + (x - g.press_x)
        if fine:  # sub-frame nudge, in whole milliseconds
            offset = t.feeds.offset_for(raw)
            offset = round(offset * 1000) / 1000
        else:
            targets = [edit.start, t.state.playhead]
            offset = t.feeds.offset_for(snap_position(raw, targets, tolerance))
        if (offset,) != g.last:
            self._emit_offset(g, offset, finished)

    def _emit_offset(self, g: Gesture, offset: float, finished: bool) -> None:
        g.last, g.emitted = (offset,), True
        self.t.feeds.preview_offset(offset)
        if self.t.feeds.dialogue is not None:
            self.t.offsetDragged.emit(self.t.feeds.dialogue.edit_id, float(offset), g.drag_id,
                                      finished)

    # -- wheel and cursor -------------------------------------------------------------------

    def _wheel(self, ev: QWheelEvent) -> bool:
        pos = ev.position()
        if not (self.t._in_view(pos) or self.t._in_ruler(pos)):
            return False
        dx, dy = ev.angleDelta().x(), ev.angleDelta().y()
        mods = ev.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if shift or (abs(dx) > abs(dy) and not ctrl):
            notches = (dy or dx) / 120.0
            x0, x1 = self.t.visible_range()
            shift_frames = -notches * PAN_PER_NOTCH * (x1 - x0)
            self.t._show_range(x0 + shift_frames, x1 + shift_frames)
        elif dy:
            center = self.t._pos_to_view(pos).x()
            self.t.zoom_by(ZOOM_PER_NOTCH ** (dy / 120.0), center)
        ev.accept()
        return True

    def _set_cursor(self, hit: Hit, pressed: bool) -> None:
        shape = _CURSORS.get(hit.side if hit.kind == "edit" else hit.kind,
                             Qt.CursorShape.ArrowCursor)
        if pressed and shape == Qt.CursorShape.OpenHandCursor:
            shape = Qt.CursorShape.ClosedHandCursor
        self.t._plot.viewport().setCursor(QCursor(shape))
