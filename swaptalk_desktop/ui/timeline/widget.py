"""TimelineWidget: ruler, picture, clip audio and replacement dialogue of one clip, with its edits.

The widget is a view: the app owns the document. User gestures emit signals and move things
locally at once (so a drag follows the mouse); the app answers with set_edits / set_playhead /
set_marks / set_replacement_waveform, which always win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtWidgets import QScrollBar, QSizePolicy, QVBoxLayout, QWidget

from ...app.job_progress import format_percent
from ...app.timeline_model import EditView, FrameClock, MarkerView, TimelineState, layout_lanes
from ...core.timebase import format_range, frame_to_timecode
from . import theme
from .feeds import LaneFeeds
from .fetch import Thumbs
from .interaction import GestureFilter, Hit
from .items import EditRegionItem, LanesItem, MarksItem, PlayheadItem
from .media_items import ThumbnailItem, WaveformItem
from .ruler import CornerReadout, LaneHeaderAxis, RulerAxis

MIN_SPAN = 6.0          # frames visible at the deepest zoom
SCROLL_UNITS = 10       # scroll bar steps per frame


class TimelineWidget(QWidget):
    """See the module docstring and gui_spec "ui/timeline/" for the contract."""

    playheadDragged = Signal(int)
    seekRequested = Signal(int)
    editSelected = Signal(str)
    editDragged = Signal(str, int, int, str, bool)
    offsetDragged = Signal(str, float, str, bool)
    marksChanged = Signal(object, object)
    markerActivated = Signal(str)   # a double-click on a marker in the ruler: edit it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = TimelineState()
        self.snapping = True
        """Magnetic edges (playhead, marks, edit ends); Shift while dragging also frees them."""
        self.follow_playhead = True
        """Page the view when the playhead runs off its right edge (playback)."""
        self._build()

    # -- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        state = self.state
        self._ruler = RulerAxis(state)
        self._headers = LaneHeaderAxis(state)
        self._plot = pg.PlotWidget(axisItems={"top": self._ruler, "left": self._headers},
                                   background=theme.BACKGROUND)
        plot_item = self._plot.getPlotItem()
        plot_item.showAxis("top")
        plot_item.hideAxis("bottom")
        plot_item.hideButtons()
        plot_item.setMenuEnabled(False)
        plot_item.layout.setContentsMargins(0, 0, 0, 0)
        self._corner = CornerReadout(state)
        plot_item.layout.addItem(self._corner, 1, 0)
        view = self._view = plot_item.getViewBox()
        view.setMouseEnabled(False, False)
        view.setMenuEnabled(False)
        view.invertY(True)
        view.disableAutoRange()
        view.setDefaultPadding(0.0)
        self._lanes_item = LanesItem(state)
        self._lanes_item.setZValue(-10)
        self._thumb_item = ThumbnailItem(state)
        self._audio_item = WaveformItem(state, "audio", theme.WAVEFORM)
        self._dialogue_item = WaveformItem(state, "dialogue", theme.DIALOGUE)
        self._dialogue_item.empty_hint = "Select an edit with replacement dialogue to see it here"
        self._marks_item = MarksItem(state)
        self._playhead_item = PlayheadItem(state)
        for item in (self._lanes_item, self._thumb_item, self._audio_item, self._dialogue_item,
                     self._marks_item, self._playhead_item):
            view.addItem(item, ignoreBounds=True)
        self._edit_items: dict[str, EditRegionItem] = {}

        self._scroll = QScrollBar(Qt.Orientation.Horizontal)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._plot)
        layout.addWidget(self._scroll)
        # the app's window shortcuts (space, J/K/L, +/-) must keep working over the timeline
        self._plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(180)

        self._gestures = GestureFilter(self)
        self._plot.viewport().setMouseTracking(True)
        self._plot.viewport().installEventFilter(self._gestures)
        view.sigXRangeChanged.connect(self._on_range_changed)
        view.sigResized.connect(self._on_resized)
        self._scroll.valueChanged.connect(self._on_scroll)
        self.feeds = LaneFeeds(self)
        self._apply_clip_limits()

    def sizeHint(self) -> QSize:
        return QSize(960, 300)

    # -- public API -------------------------------------------------------------------------

    def set_clip(self, frame_count: int, fps: Fraction | float,
                 frame_times: Sequence[float] | np.ndarray | None = None,
                 waveform: object | None = None, thumbs: Thumbs | None = None) -> None:
        """Show a clip. ``fps`` labels the ruler (timecode at its nominal rate, drop-frame for
        29.97/59.94); ``frame_times[i]`` is when frame ``i`` plays on the waveform's clock
        (``VideoInfo.audio_time(i)``), needed for variable frame rate clips; ``waveform`` has
        ``duration_s`` and ``window(t0, t1, pixels)``; ``thumbs(frames, height)`` returns RGB
        pictures and is only ever called off the GUI thread."""
        self._gestures.gesture = None  # a drag on the old clip ends here
        self.state.hovered = None
        self._ruler.fps = self._corner.fps = fps
        self.state.clock = FrameClock(frame_count, fps, frame_times)
        self.state.playhead = 0
        self.state.mark_in = self.state.mark_out = None
        self.state.selected = None
        self.state.markers = []
        self.set_edits([])
        self.feeds.set_sources(waveform, thumbs)
        self._apply_clip_limits()
        self.zoom_to_fit()
        self._update_overlays()

    def set_waveform(self, waveform: object | None, hint: str = "") -> None:
        """Replace the clip audio's waveform, e.g. when its peaks finish building, keeping the
        view, edits and pictures; ``hint`` shows in the empty lane ("Reading the sound…",
        "No audio")."""
        self.feeds.set_waveform(waveform, hint)

    def set_edits(self, edits: Sequence[EditView]) -> None:
        new = {edit.id: edit for edit in edits}
        for edit_id in [i for i in self._edit_items if i not in new]:
            self._view.removeItem(self._edit_items.pop(edit_id))
        self.state.edits = new
        for edit_id in new:
            item = self._edit_items.get(edit_id)
            if item is None:
                item = self._edit_items[edit_id] = EditRegionItem(self.state, edit_id)
                self._view.addItem(item, ignoreBounds=True)
            else:
                item.refresh()
        if self.state.selected not in new:
            self.state.selected = None
        self.feeds.update_dialogue_geometry()

    def select_edit(self, edit_id: str | None) -> None:
        self.state.selected = edit_id if edit_id in self.state.edits else None
        for item in self._edit_items.values():
            item.update()

    def selected_edit(self) -> str | None:
        return self.state.selected

    def set_replacement_waveform(self, edit_id: str, pyramid: object | None,
                                 offset_s: float) -> None:
        """Show ``pyramid`` in the dialogue lane, its time 0 at ``offset_s`` after the edit's
        start; ``None`` empties the lane."""
        self.feeds.set_dialogue(edit_id, pyramid, offset_s)

    def set_playhead(self, frame: int) -> None:
        frame = self._clamp_frame(frame)
        old = self.state.playhead
        if frame == old:
            return
        self.state.playhead = frame
        self._update_overlays()
        if self.follow_playhead and self._gestures.gesture is None:
            x0, x1 = self.visible_range()
            if x0 <= old <= x1 and not x0 <= frame < x1:
                span = x1 - x0
                start = frame - 0.05 * span if frame >= x1 else frame - 0.95 * span
                self._show_range(start, start + span)

    def playhead(self) -> int:
        return self.state.playhead

    def set_marks(self, mark_in: int | None, mark_out: int | None) -> None:
        self.state.mark_in, self.state.mark_out = mark_in, mark_out
        self._update_overlays()

    def set_markers(self, markers: Sequence[MarkerView]) -> None:
        self.state.markers = sorted(markers, key=lambda m: m.frame)
        self._ruler.update()

    def marker_at_px(self, x: float, tolerance: float = 6.0) -> MarkerView | None:
        """The marker drawn nearest to viewport x, within ``tolerance`` pixels."""
        best = None
        for marker in self.state.markers:
            distance = abs(self._frame_to_px(marker.frame) - x)
            if distance <= tolerance and (best is None or distance < best[0]):
                best = (distance, marker)
        return best[1] if best is not None else None

    def zoom_to_fit(self) -> None:
        lo, hi = self._limits()
        self._show_range(lo, hi)

    def visible_range(self) -> tuple[float, float]:
        """First and last x of the view, in frames (frame ``i`` covers ``[i, i + 1)``)."""
        x0, x1 = self._view.viewRange()[0]
        return float(x0), float(x1)

    def zoom_by(self, factor: float, center: float | None = None) -> None:
        """Zoom in (``factor`` > 1) or out, keeping frame position ``center`` where it is on
        screen; by default around the playhead when it is in view."""
        x0, x1 = self.visible_range()
        if center is None:
            playhead = self.state.playhead
            center = playhead if x0 <= playhead <= x1 else (x0 + x1) / 2
        span = x1 - x0
        new_span = self._clamp_span(span / factor)
        start = center - (center - x0) * new_span / span
        self._show_range(start, start + new_span)

    def zoom_in(self) -> None:
        self.zoom_by(1.5)

    def zoom_out(self) -> None:
        self.zoom_by(1 / 1.5)

    def viewport(self) -> QWidget:
        """The widget that receives the timeline's mouse input."""
        return self._plot.viewport()

    def point_at(self, frame: float, lane: str) -> QPointF:
        """Viewport position of frame position ``frame`` halfway down ``lane`` (a lane name
        from model.LANE_NAMES, or "ruler")."""
        to_viewport = self._plot.viewportTransform()
        if lane == "ruler":
            y = to_viewport.map(self._ruler.sceneBoundingRect().center()).y()
        else:
            y = to_viewport.map(self._view.mapViewToScene(
                QPointF(0.0, self.state.lanes[lane].center))).y()
        return QPointF(self._frame_to_px(frame), y)

    def shutdown(self) -> None:
        """Stop background fetches (called on close; safe to call twice)."""
        self.feeds.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- view range -------------------------------------------------------------------------

    def _limits(self) -> tuple[float, float]:
        n = max(self.state.frame_count, 1)
        pad = max(1.0, n * 0.01)
        return -pad, n + pad

    def _clamp_span(self, span: float) -> float:
        lo, hi = self._limits()
        return min(max(span, min(MIN_SPAN, hi - lo)), hi - lo)

    def _apply_clip_limits(self) -> None:
        lo, hi = self._limits()
        self._view.setLimits(xMin=lo, xMax=hi, minXRange=min(MIN_SPAN, hi - lo),
                             maxXRange=hi - lo)

    def _show_range(self, x0: float, x1: float) -> None:
        lo, hi = self._limits()
        span = self._clamp_span(x1 - x0)
        x0 = min(max(x0, lo), hi - span)
        self._view.setXRange(x0, x0 + span, padding=0.0)

    def _on_range_changed(self, *args) -> None:
        x0, x1 = self.visible_range()
        lo, hi = self._limits()
        span = x1 - x0
        blocked = self._scroll.blockSignals(True)
        self._scroll.setRange(round(lo * SCROLL_UNITS), round((hi - span) * SCROLL_UNITS))
        self._scroll.setPageStep(max(1, round(span * SCROLL_UNITS)))
        self._scroll.setSingleStep(max(1, round(span * SCROLL_UNITS * 0.05)))
        self._scroll.setValue(round(x0 * SCROLL_UNITS))
        self._scroll.blockSignals(blocked)
        self.feeds.schedule()

    def _on_scroll(self, value: int) -> None:
        x0, x1 = self.visible_range()
        start = value / SCROLL_UNITS
        self._show_range(start, start + (x1 - x0))

    def _on_resized(self, *args) -> None:
        height = self._view.height()
        self._view.setYRange(0, max(height, 1.0), padding=0.0)
        self.state.lanes = layout_lanes(height)
        for item in self._edit_items.values():
            item.refresh()
        self._headers.update()
        self.feeds.schedule()

    # -- coordinates (used by interaction.py) ----------------------------------------------

    def _pos_to_view(self, pos: QPointF) -> QPointF:
        scene = self._plot.viewportTransform().inverted()[0].map(pos)
        return self._view.mapSceneToView(scene)

    def _frame_to_px(self, x: float) -> float:
        scene = self._view.mapViewToScene(QPointF(x, 0.0))
        return self._plot.viewportTransform().map(scene).x()

    def _ppf(self) -> float:
        x0, x1 = self.visible_range()
        return max(self._view.width(), 1.0) / max(x1 - x0, 1e-9)

    def _in_view(self, pos: QPointF) -> bool:
        scene = self._plot.viewportTransform().inverted()[0].map(pos)
        return self._view.sceneBoundingRect().contains(scene)

    def _in_ruler(self, pos: QPointF) -> bool:
        scene = self._plot.viewportTransform().inverted()[0].map(pos)
        return self._ruler.sceneBoundingRect().contains(scene)

    def _clamp_frame(self, frame: int) -> int:
        return min(max(int(frame), 0), max(self.state.frame_count - 1, 0))

    # -- local feedback for gestures ---------------------------------------------------------

    def _user_playhead(self, frame: int, seek: bool) -> None:
        frame = self._clamp_frame(frame)
        if seek:
            self.set_playhead(frame)
            self.seekRequested.emit(frame)
        elif frame != self.state.playhead:
            self.set_playhead(frame)
            self.playheadDragged.emit(frame)

    def _user_select(self, edit_id: str) -> None:
        if self.state.selected != edit_id:
            self.select_edit(edit_id)
            self.editSelected.emit(edit_id)

    def _user_marks(self, mark_in: int | None, mark_out: int | None) -> None:
        self.set_marks(mark_in, mark_out)

    def _user_marks_done(self) -> None:
        self.marksChanged.emit(self.state.mark_in, self.state.mark_out)

    def _preview_edit(self, edit_id: str, start: int, stop: int) -> None:
        edit = self.state.edits.get(edit_id)
        if edit is None:
            return
        self.state.edits[edit_id] = replace(edit, start=start, stop=stop)
        self._edit_items[edit_id].refresh()
        self.feeds.update_dialogue_geometry()

    def _edit_tooltip(self, edit_id: str) -> str:
        edit = self.state.edits[edit_id]
        fps = self._ruler.fps
        status = {"done": "processed", "partial": f"{format_percent(edit.progress)} processed",
                  "running": f"processing, {format_percent(edit.progress)}"}.get(edit.status,
                                                                      "not processed")
        return f"{edit.label or 'Edit'}\n{format_range(edit.start, edit.stop, fps)}\n{status}"

    def _marker_tooltip(self, marker_id: str) -> str:
        marker = next((m for m in self.state.markers if m.id == marker_id), None)
        if marker is None:
            return ""
        return (f"{marker.name or 'Marker'}\n{frame_to_timecode(marker.frame, self._ruler.fps)}"
                f"  ·  frame {marker.frame}\ndouble-click to rename or recolour")

    def _set_hover(self, hit: Hit | None) -> None:
        hovered = (hit.edit_id, hit.side) if hit is not None else None
        if hovered != self.state.hovered:
            changed = {h[0] for h in (hovered, self.state.hovered) if h is not None}
            self.state.hovered = hovered
            for edit_id in changed:
                if edit_id in self._edit_items:
                    self._edit_items[edit_id].update()

    def _update_overlays(self) -> None:
        for item in (self._playhead_item, self._marks_item, self._ruler, self._corner):
            item.update()
