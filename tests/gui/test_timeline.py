"""TimelineWidget: what it draws for a clip and its edits, and the gestures an editor uses."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from test_timeline_helpers import FRAMES, drag, mouse, pixel, ppf, show, timeline, wheel

from swaptalk_desktop.ui.timeline import EditView, theme

__all__ = ["timeline"]  # the fixture, imported for pytest

SHIFT = Qt.KeyboardModifier.ShiftModifier


def recorder(signal) -> list[tuple]:
    calls: list[tuple] = []
    signal.connect(lambda *args: calls.append(args))
    return calls


def close_to(color, expected, tolerance: int = 12) -> bool:
    expected = pg.mkColor(expected)
    return all(abs(a - b) <= tolerance for a, b in zip(color.getRgb()[:3],
                                                         expected.getRgb()[:3], strict=True))


# -- what is drawn -------------------------------------------------------------------------------

def test_set_edits_adds_moves_and_removes_region_items(timeline):
    timeline.set_edits([EditView("a", 50, 100, "#ff0000"), EditView("b", 300, 420, "#0000ff")])
    items = dict(timeline._edit_items)
    assert set(items) == {"a", "b"}
    assert all(item.scene() is timeline._view.scene() for item in items.values())
    rect = items["b"].boundingRect()
    assert (rect.left(), rect.right()) == (300, 420)

    timeline.select_edit("a")
    timeline.set_edits([EditView("a", 60, 90, "#ff0000")])
    assert set(timeline._edit_items) == {"a"}
    assert timeline._edit_items["a"] is items["a"]  # updated in place: a drag keeps its item
    assert items["b"].scene() is None
    assert (items["a"].boundingRect().left(), items["a"].boundingRect().right()) == (60, 90)
    assert timeline.selected_edit() == "a"
    timeline.set_edits([])
    assert timeline.selected_edit() is None and timeline._edit_items == {}


def test_regions_are_painted_in_their_colour_with_the_processed_bar(timeline):
    show(timeline, 0, 200)
    timeline.set_edits([EditView("a", 20, 80, "#c03030", "done", 1.0, "A"),
                        EditView("b", 120, 180, "#3060c0", "partial", 0.5, "B")])
    body = timeline.point_at(50, "edits") + QPointF(0, -6)
    assert close_to(pixel(timeline, body), pg.mkColor("#c03030").darker(125))
    timeline.select_edit("a")
    assert close_to(pixel(timeline, body), "#c03030")
    lane_bottom = timeline.point_at(0, "edits").y() + timeline.state.lanes["edits"].height / 2
    bar_y = lane_bottom - 3.5
    assert close_to(pixel(timeline, QPointF(timeline.point_at(70, "edits").x(), bar_y)),
                    theme.STATUS["done"], 20)
    # half processed: the bar's left half is filled, its right half is not
    left = pixel(timeline, QPointF(timeline.point_at(130, "edits").x(), bar_y))
    right = pixel(timeline, QPointF(timeline.point_at(172, "edits").x(), bar_y))
    assert close_to(left, theme.STATUS["partial"], 20)
    assert not close_to(right, theme.STATUS["partial"], 40)


def test_playhead_and_marks_are_drawn_where_set(timeline):
    show(timeline, 0, 200)
    timeline.set_playhead(100)
    timeline.set_marks(40, 160)
    at = timeline.point_at(100, "video")
    assert close_to(pixel(timeline, QPointF(round(at.x()), at.y())), theme.PLAYHEAD, 40)
    mark = timeline.point_at(40, "audio")
    column = [pixel(timeline, QPointF(round(mark.x()), mark.y() + dy)) for dy in range(-6, 6)]
    assert any(close_to(c, theme.MARK, 30) for c in column)
    assert timeline.playhead() == 100


# -- edit gestures -------------------------------------------------------------------------------

def test_dragging_the_right_handle_trims_in_whole_frames_under_one_drag_id(timeline):
    timeline.set_playhead(500)
    show(timeline, 0, 200)
    timeline.set_edits([EditView("a", 50, 100)])
    calls = recorder(timeline.editDragged)
    grab = timeline.point_at(100, "edits") + QPointF(-2, 0)  # inside the right handle
    drag(timeline, grab, grab + QPointF(20.3 * ppf(timeline), 0), steps=8)

    assert len(calls) >= 3
    assert {c[3] for c in calls} == {calls[0][3]} and len(calls[0][3]) == 32
    assert [c[4] for c in calls] == [False] * (len(calls) - 1) + [True]
    assert all(c[0] == "a" and c[1] == 50 and isinstance(c[2], int) for c in calls)
    stops = [c[2] for c in calls]
    assert stops == sorted(stops) and stops[-1] == 120
    assert timeline.state.edits["a"].stop == 120  # it followed the mouse before the app answered

    drag(timeline, grab, grab + QPointF(5 * ppf(timeline), 0))
    assert calls[-1][3] != calls[0][3]  # a new gesture, a new drag id


def test_dragging_the_body_moves_both_ends_and_stops_at_a_neighbour(timeline):
    timeline.set_playhead(500)
    show(timeline, 0, 200)
    timeline.set_edits([EditView("a", 50, 100), EditView("b", 150, 180)])
    calls = recorder(timeline.editDragged)
    selected = recorder(timeline.editSelected)
    body = timeline.point_at(75, "edits")
    drag(timeline, body, body + QPointF(30.2 * ppf(timeline), 0))
    assert selected == [("a",)]
    assert calls[-1][:3] == ("a", 80, 130) and calls[-1][4] is True
    assert all(c[2] - c[1] == 50 for c in calls)

    body = timeline.point_at(105, "edits")
    drag(timeline, body, body + QPointF(60 * ppf(timeline), 0))
    assert calls[-1][:3] == ("a", 100, 150)  # flush against "b", never over it


def test_a_click_on_an_edit_selects_it_without_dragging(timeline):
    show(timeline, 0, 200)
    timeline.set_edits([EditView("a", 50, 100)])
    calls, selected = recorder(timeline.editDragged), recorder(timeline.editSelected)
    seeks = recorder(timeline.seekRequested)
    at = timeline.point_at(75, "edits")
    mouse(timeline, "press", at)
    mouse(timeline, "move", at + QPointF(1, 0))  # a hand's tremble is not a drag
    mouse(timeline, "release", at + QPointF(1, 0))
    assert selected == [("a",)] and calls == [] and seeks == []
    assert timeline.selected_edit() == "a"
    show(timeline, 40, 90)  # 20 px a frame: 8 px is a drag, yet under half a frame
    at = timeline.point_at(75, "edits")
    drag(timeline, at, at + QPointF(0.4 * ppf(timeline), 0))
    assert ppf(timeline) * 0.4 > theme.DRAG_START_PX
    assert calls == [] and timeline.state.edits["a"] == EditView("a", 50, 100)


def test_hovering_an_edge_highlights_its_handle_and_shows_a_trim_cursor(timeline):
    show(timeline, 0, 200)
    timeline.set_edits([EditView("a", 50, 100, label="Line 1", status="running", progress=0.25)])
    mouse(timeline, "move", timeline.point_at(100, "edits") + QPointF(-2, 0),
          button=Qt.MouseButton.NoButton)
    assert timeline.state.hovered == ("a", "right")
    assert timeline.viewport().toolTip() == ("Line 1\n00:00:02:00–00:00:03:24 · 50 frames\n"
                                             "processing, 25%")
    assert timeline.viewport().cursor().shape() == Qt.CursorShape.SizeHorCursor
    mouse(timeline, "move", timeline.point_at(75, "edits"), button=Qt.MouseButton.NoButton)
    assert timeline.state.hovered == ("a", "body")
    assert timeline.viewport().cursor().shape() == Qt.CursorShape.OpenHandCursor
    mouse(timeline, "move", timeline.point_at(150, "audio"), button=Qt.MouseButton.NoButton)
    assert timeline.state.hovered is None and timeline.viewport().toolTip() == ""


def test_edges_snap_to_the_playhead_and_marks_unless_shift_is_held(timeline):
    timeline.set_playhead(130)
    show(timeline, 0, 200)  # about 5 px per frame: the 8 px magnet reaches 1.5 frames
    timeline.set_marks(40, None)
    timeline.set_edits([EditView("a", 50, 100)])
    calls = recorder(timeline.editDragged)
    right = timeline.point_at(100, "edits") + QPointF(-2, 0)
    drag(timeline, right, right + QPointF(28.6 * ppf(timeline), 0))
    assert calls[-1][:3] == ("a", 50, 130)

    timeline.set_edits([EditView("a", 50, 100)])
    drag(timeline, right, right + QPointF(28.6 * ppf(timeline), 0), modifiers=SHIFT)
    assert calls[-1][:3] == ("a", 50, 129)

    timeline.set_edits([EditView("a", 50, 100)])
    left = timeline.point_at(50, "edits") + QPointF(2, 0)
    drag(timeline, left, left + QPointF(-8.8 * ppf(timeline), 0))
    assert calls[-1][:3] == ("a", 40, 100)


# -- playhead, ruler, marks ----------------------------------------------------------------------

def test_clicking_the_ruler_seeks_to_the_frame_under_the_cursor(timeline, qtbot):
    show(timeline, 0, 200)
    seeks = recorder(timeline.seekRequested)
    at = timeline.point_at(123.5, "ruler")
    qtbot.mouseClick(timeline.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(round(at.x()), round(at.y())))
    assert seeks == [(123,)]
    assert timeline.playhead() == 123


def test_dragging_in_the_ruler_scrubs(timeline):
    show(timeline, 0, 200)
    seeks, scrubs = recorder(timeline.seekRequested), recorder(timeline.playheadDragged)
    start = timeline.point_at(20.5, "ruler")
    drag(timeline, start, timeline.point_at(60.5, "ruler"), steps=10)
    assert seeks == [(20,)]
    frames = [s[0] for s in scrubs]
    assert frames == sorted(set(frames)) and frames[-1] == 60
    assert timeline.playhead() == 60


def test_the_playhead_line_can_be_dragged_in_the_lanes(timeline):
    show(timeline, 0, 200)
    timeline.set_playhead(100)
    before = timeline.visible_range()
    scrubs = recorder(timeline.playheadDragged)
    line = timeline.point_at(100, "audio") + QPointF(1, 0)
    drag(timeline, line, timeline.point_at(140.5, "audio"))
    assert scrubs[-1] == (140,)
    assert timeline.visible_range() == before  # scrubbing, not panning


def test_dragging_a_mark_in_the_ruler_reports_the_new_marks_on_release(timeline):
    show(timeline, 0, 200)
    timeline.set_marks(40, 120)
    changed, seeks = recorder(timeline.marksChanged), recorder(timeline.seekRequested)
    start = timeline.point_at(120, "ruler")
    mouse(timeline, "press", start)
    mouse(timeline, "move", timeline.point_at(150.2, "ruler"))
    assert changed == [] and timeline.state.mark_out == 150
    mouse(timeline, "release", timeline.point_at(150.2, "ruler"))
    assert changed == [(40, 150)] and seeks == []


def test_a_click_on_an_empty_lane_seeks_and_a_drag_pans(timeline):
    show(timeline, 100, 300)
    seeks = recorder(timeline.seekRequested)
    at = timeline.point_at(150.5, "audio")
    mouse(timeline, "press", at)
    mouse(timeline, "release", at)
    assert seeks == [(150,)]
    elsewhere = timeline.point_at(250.5, "video")  # away from the playhead, which it would grab
    drag(timeline, elsewhere, elsewhere + QPointF(-40 * ppf(timeline), 0))
    assert timeline.visible_range() == pytest.approx((140, 340), abs=1e-6)
    assert seeks == [(150,)]


def test_playback_pages_the_view_when_the_playhead_leaves_it(timeline):
    show(timeline, 0, 200)
    timeline.set_playhead(190)
    timeline.set_playhead(201)
    x0, x1 = timeline.visible_range()
    assert x0 < 201 < x1 and x1 - x0 == pytest.approx(200)
    show(timeline, 500, 700)  # the editor looked elsewhere while paused: leave the view alone
    timeline.set_playhead(202)
    assert timeline.visible_range() == pytest.approx((500, 700))


# -- zoom and pan --------------------------------------------------------------------------------

@pytest.mark.parametrize("modifiers", [Qt.KeyboardModifier.NoModifier,
                                       Qt.KeyboardModifier.ControlModifier])
def test_wheel_zoom_keeps_the_frame_under_the_cursor(timeline, modifiers):
    show(timeline, 100, 500)
    at = timeline.point_at(237.0, "audio")
    wheel(timeline, at, dy=120, modifiers=modifiers)
    x0, x1 = timeline.visible_range()
    assert x1 - x0 == pytest.approx(400 / 1.25)
    assert timeline._pos_to_view(at).x() == pytest.approx(237.0, abs=1e-6)
    wheel(timeline, at, dy=-240, modifiers=modifiers)
    assert timeline.visible_range()[1] - timeline.visible_range()[0] == pytest.approx(400 * 1.25)
    assert timeline._pos_to_view(at).x() == pytest.approx(237.0, abs=1e-6)


def test_shift_wheel_and_the_scroll_bar_pan_without_zooming(timeline):
    show(timeline, 100, 300)
    wheel(timeline, timeline.point_at(150, "audio"), dy=-120, modifiers=SHIFT)
    x0, x1 = timeline.visible_range()
    assert x1 - x0 == pytest.approx(200) and x0 > 100
    timeline._scroll.setValue(500 * 10)
    assert timeline.visible_range() == pytest.approx((500, 700))


def test_zoom_limits_and_fit(timeline):
    timeline.zoom_by(1000.0, center=500)
    x0, x1 = timeline.visible_range()
    assert x1 - x0 == pytest.approx(6.0) and x0 <= 500 <= x1
    timeline.zoom_by(0.0001)
    x0, x1 = timeline.visible_range()
    assert x0 <= 0 and x1 >= FRAMES and x1 - x0 < FRAMES * 1.05
    show(timeline, 10, 20)
    timeline.zoom_to_fit()
    assert timeline.visible_range()[0] <= 0 and timeline.visible_range()[1] >= FRAMES
