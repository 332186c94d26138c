"""The timeline's frame arithmetic: snapping, trims and moves, ruler steps, thumbnail slots,
frame/second mapping and lane layout (no widgets here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swaptalk_desktop.app.timeline_model import (
    EditView,
    FrameClock,
    TimelineState,
    layout_lanes,
    move_body,
    ruler_steps,
    snap_move,
    snap_position,
    thumbnail_slots,
    thumbnail_step,
    tick_steps,
    ticks_between,
    trim_edge,
)


def state_with(*edits: EditView, frames: int = 1000, playhead: int = 500) -> TimelineState:
    state = TimelineState(clock=FrameClock(frames, 25))
    state.edits = {e.id: e for e in edits}
    state.playhead = playhead
    return state


def test_snap_position_prefers_the_nearest_target_in_reach():
    assert snap_position(128.6, [130, 200], tolerance=1.6) == 130
    assert snap_position(128.3, [130, 127], tolerance=1.6) == 127
    assert snap_position(128.3, [130], tolerance=1.0) == 128  # out of reach: whole frames
    assert snap_position(128.6, [130], tolerance=0.0) == 129


def test_snap_move_sticks_whichever_end_is_closer():
    # start 50 -> 79.5 is 0.5 from 80; stop 100 -> 129.5 is 0.5 from 130: equal, start first
    assert snap_move(50, 100, 29.5, [80], tolerance=2) == 80
    assert snap_move(50, 100, 29.5, [131], tolerance=2) == 81  # the stop lands on 131
    assert snap_move(50, 100, 29.4, [], tolerance=2) == 79


def test_trims_keep_a_frame_and_stay_clear_of_neighbours():
    a, b = EditView("a", 50, 100), EditView("b", 150, 180)
    state = state_with(a, b)
    assert trim_edge(a, "right", 170.0, state, 0) == (50, 150)
    assert trim_edge(a, "right", 10.0, state, 0) == (50, 51)
    assert trim_edge(a, "left", 120.0, state, 0) == (99, 100)
    assert trim_edge(b, "left", 80.0, state, 0) == (100, 180)
    assert trim_edge(b, "right", 2000.0, state, 0) == (150, 1000)


@given(st.floats(-2000, 2000), st.integers(0, 900), st.integers(1, 100))
def test_a_moved_edit_keeps_its_length_and_never_overlaps(delta, start, length):
    edit = EditView("a", start, min(start + length, 1000))
    other = EditView("b", 950, 1000) if edit.stop <= 950 else EditView("b", 0, 1)
    if other.stop > edit.start and other.start < edit.stop:
        return
    state = state_with(edit, other)
    new_start, new_stop = move_body(edit, delta, state, tolerance=2.0)
    assert new_stop - new_start == edit.stop - edit.start
    assert 0 <= new_start and new_stop <= 1000
    assert new_stop <= other.start or new_start >= other.stop


@pytest.mark.parametrize("rate", [24, 25, 30, 50, 60])
@pytest.mark.parametrize("ppf", [0.0005, 0.01, 0.3, 2.0, 9.0, 40.0, 300.0])
def test_ruler_steps_are_tidy_and_leave_room_for_labels(rate, ppf):
    major, minor = ruler_steps(ppf, rate)
    steps = tick_steps(rate)
    assert major in steps and minor in steps and major % minor == 0
    assert major * ppf >= 96 or major == steps[-1]
    if major >= rate:
        assert major % rate == 0  # whole seconds once labels are a second or more apart


def test_tick_steps_follow_the_timecode_rate():
    assert tick_steps(25)[:5] == [1, 2, 5, 10, 25]
    assert 15 in tick_steps(30) and 12 in tick_steps(24)
    assert ticks_between(-3.2, 61.0, 25, 1000) == [0, 25, 50]
    assert ticks_between(990.0, 1100.0, 25, 1000) == [1000]


@pytest.mark.parametrize("ppf", [0.01, 0.7, 3.0, 30.0, 500.0])
def test_thumbnail_slots_fit_a_picture_and_sit_on_a_stable_grid(ppf):
    step = thumbnail_step(96.0, ppf)
    assert step * ppf >= 96.0
    assert step == 1 or (step - 1) * ppf < 96.0 * 1.6  # not needlessly sparse
    slots = thumbnail_slots(103.7, 103.7 + 1000 / ppf, step, 10**7)
    assert slots[0] <= 103.7 < slots[0] + step
    assert all(s % step == 0 for s in slots)
    assert thumbnail_slots(-50, 10, 4, 5) == [0, 4]


def test_frame_clock_constant_rate_and_variable_rate():
    cfr = FrameClock(100, 25)
    assert cfr.seconds(50) == pytest.approx(2.0)
    assert cfr.frames(2.0) == pytest.approx(50)
    times = np.array([0.0, 0.04, 0.1, 0.12, 0.2])
    vfr = FrameClock(5, 25, times)
    assert vfr.seconds(2) == pytest.approx(0.1)
    assert vfr.seconds(2.5) == pytest.approx(0.11)
    assert vfr.frames(0.11) == pytest.approx(2.5)
    assert vfr.seconds(5) == pytest.approx(0.28)  # the last frame lasts like the one before
    assert vfr.seconds(7) == pytest.approx(0.28 + 2 / 25)  # beyond: the nominal rate
    assert vfr.frames(-0.04) == pytest.approx(-1)
    xs = np.linspace(-3, 9, 50)
    assert vfr.frames(vfr.seconds(xs)) == pytest.approx(xs)


@pytest.mark.parametrize("height", [60.0, 150.0, 236.0, 600.0])
def test_lanes_stack_without_overlap_inside_the_view(height):
    lanes = layout_lanes(height)
    order = [lanes[n] for n in ("edits", "video", "audio", "dialogue")]
    assert all(a.bottom <= b.top for a, b in zip(order, order[1:], strict=False))
    assert order[-1].bottom <= height + 1e-6
    if height >= 236:
        assert lanes["video"].height == 58 and lanes["audio"].height >= 72
