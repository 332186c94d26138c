"""The timeline's media lanes: waveforms of the visible window, thumbnails fetched off the GUI
thread, and the replacement dialogue lane with its offset drag."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from test_timeline_helpers import FPS, FRAMES, FakePyramid, drag, pixel, ppf, show, timeline

from swaptalk_desktop.ui.timeline import EditView, theme

__all__ = ["timeline"]  # the fixture, imported for pytest

SHIFT = Qt.KeyboardModifier.ShiftModifier


def settled(widget) -> bool:
    """No fetch running or queued, and no refresh waiting to ask for one."""
    feeds = widget.feeds
    return not (feeds._timer.isActive() or feeds._audio_loader.busy
                or feeds._thumb_loader.busy or feeds._dialogue_loader.busy)


def close_to(color, expected, tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance
               for a, b in zip(color.getRgb()[:3], expected.getRgb()[:3], strict=True))


# -- clip audio ----------------------------------------------------------------------------------

def test_the_waveform_is_fetched_off_the_gui_thread_for_the_visible_window(timeline, qtbot):
    pyramid = FakePyramid(FRAMES / FPS)
    timeline.set_clip(FRAMES, FPS, None, pyramid, None)
    show(timeline, 100, 300)
    qtbot.waitUntil(lambda: settled(timeline) and pyramid.last_call()[:2] == pytest.approx(
        (100 / FPS, 300 / FPS)))
    t0, t1, pixels, thread = pyramid.last_call()
    assert pixels == int(timeline._view.width())
    assert thread != threading.get_ident()
    envelope = timeline._audio_item.envelope
    assert envelope.xs[0] == pytest.approx(100, abs=0.5)
    assert envelope.xs[-1] == pytest.approx(300, abs=0.5)

    wheel_in = 4.0
    timeline.zoom_by(wheel_in, center=262.0)
    x0, x1 = timeline.visible_range()
    qtbot.waitUntil(lambda: settled(timeline) and pyramid.last_call()[:2] == pytest.approx(
        (x0 / FPS, x1 / FPS)))


def test_the_envelope_is_drawn_where_the_sound_is(timeline, qtbot):
    pyramid = FakePyramid(FRAMES / FPS, loud=(10.0, 11.0))  # frames 250-275
    timeline.set_clip(FRAMES, FPS, None, pyramid, None)
    show(timeline, 200, 320)
    qtbot.waitUntil(lambda: settled(timeline) and timeline._audio_item.envelope is not None
                    and timeline._audio_item.envelope.xs[0] == pytest.approx(200, abs=0.5))
    lane = timeline.state.lanes["audio"]
    above_center = -lane.height * 0.3  # inside a 0.9 peak, outside a 0.1 one
    loud = pixel(timeline, timeline.point_at(262, "audio") + QPointF(0, above_center))
    quiet = pixel(timeline, timeline.point_at(220, "audio") + QPointF(0, above_center))
    assert close_to(loud, theme.WAVEFORM)
    assert not close_to(quiet, theme.WAVEFORM, 60)


def test_a_waveform_that_arrives_later_keeps_the_view(timeline, qtbot):
    timeline.set_waveform(None, "Reading the sound…")
    assert timeline._audio_item.empty_hint == "Reading the sound…"
    show(timeline, 100, 300)
    timeline.set_edits([EditView("a", 120, 180)])
    pyramid = FakePyramid(FRAMES / FPS)
    timeline.set_waveform(pyramid)
    qtbot.waitUntil(lambda: settled(timeline) and timeline._audio_item.envelope is not None)
    assert timeline.visible_range() == pytest.approx((100, 300))
    assert set(timeline.state.edits) == {"a"} and timeline._audio_item.empty_hint == ""
    assert pyramid.last_call()[:2] == pytest.approx((4.0, 12.0))


def test_variable_frame_rate_clips_map_frames_through_their_timestamps(timeline, qtbot):
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.02, 0.06, FRAMES)) - 0.02
    pyramid = FakePyramid(float(times[-1]) + 0.1)
    timeline.set_clip(FRAMES, FPS, times, pyramid, None)
    show(timeline, 100, 300)
    qtbot.waitUntil(lambda: settled(timeline) and pyramid.last_call()[:2] == pytest.approx(
        (times[100], times[300])))


def test_works_with_the_real_waveform_pyramid(timeline, qtbot):
    waveform = pytest.importorskip("swaptalk_desktop.media.waveform")
    rate = 16000
    samples = np.zeros(int(FRAMES / FPS * rate), np.float32)
    samples[int(10 * rate):int(11 * rate)] = 0.8 * np.sin(np.arange(rate) * 0.3)
    pyramid = waveform.WaveformPyramid.from_samples(samples, rate)
    timeline.set_clip(FRAMES, FPS, None, pyramid, None)
    show(timeline, 200, 320)
    qtbot.waitUntil(lambda: settled(timeline) and timeline._audio_item.envelope is not None
                    and timeline._audio_item.envelope.xs[0] == pytest.approx(200, abs=1))
    envelope = timeline._audio_item.envelope
    centers = (envelope.xs[:-1] + envelope.xs[1:]) / 2
    loud = envelope.maxs > 0.5
    assert loud.any()
    assert centers[loud].min() == pytest.approx(250, abs=1)
    assert centers[loud].max() == pytest.approx(275, abs=1)


# -- thumbnails ----------------------------------------------------------------------------------

def test_thumbnails_are_made_off_the_gui_thread_and_drawn_when_they_arrive(timeline, qtbot):
    gate = threading.Event()
    requests: list[tuple[list[int], int, int]] = []

    def thumbs(frames: list[int], height: int) -> list[np.ndarray]:
        requests.append((list(frames), height, threading.get_ident()))
        gate.wait(10)
        return [np.full((height, height * 16 // 9, 3), (200, 40, 40), np.uint8) for _ in frames]

    try:
        timeline.set_clip(FRAMES, FPS, None, None, thumbs)
        show(timeline, 0, 200)
        qtbot.waitUntil(lambda: bool(requests))
        # the decoder is stuck, yet the GUI thread is here and free: nothing drawn yet
        assert len(timeline._thumb_item.images) == 0
        assert requests[0][2] != threading.get_ident()
        assert 8 <= requests[0][1] <= timeline.state.lanes["video"].height * 2
    finally:
        gate.set()
    item = timeline._thumb_item
    qtbot.waitUntil(lambda: settled(timeline) and item.slots
                    and all(f in item.images for f in item.slots))
    assert item.slots[0] == 0 and item.slots[-1] < 200
    assert np.all(np.diff(item.slots) == item.step)
    assert item.step * ppf(timeline) >= item.aspect * (timeline.state.lanes["video"].height - 4)
    assert all(len(frames) <= 8 for frames, _, _ in requests)
    drawn = pixel(timeline, timeline.point_at(2, "video"))
    assert close_to(drawn, QColor(200, 40, 40), 40)


def test_frames_that_fail_to_decode_are_not_asked_for_again(timeline, qtbot):
    asked: list[int] = []

    def thumbs(frames: list[int], height: int) -> list[np.ndarray]:
        asked.extend(frames)
        raise OSError("corrupt packet")

    timeline.set_clip(FRAMES, FPS, None, None, thumbs)
    show(timeline, 0, 200)
    qtbot.waitUntil(lambda: settled(timeline) and set(timeline._thumb_item.slots) <= set(asked))
    assert len(asked) == len(set(asked))
    assert timeline._thumb_item.images == {}


# -- replacement dialogue -------------------------------------------------------------------------

@pytest.fixture
def dialogue(timeline, qtbot):
    line = FakePyramid(2.0, loud=(0.0, 2.0))  # 50 frames of sound
    timeline.set_edits([EditView("a", 50, 100)])
    timeline.set_playhead(500)
    show(timeline, 0, 200)
    timeline.set_replacement_waveform("a", line, 0.0)
    qtbot.waitUntil(lambda: settled(timeline) and timeline._dialogue_item.envelope is not None)
    return line


def test_the_dialogue_lane_shows_the_line_at_its_offset(timeline, dialogue, qtbot):
    item = timeline._dialogue_item
    assert item.extent == pytest.approx((50, 100))
    assert item.highlight == (50, 100)
    timeline.set_replacement_waveform("a", dialogue, -0.4)
    assert item.extent == pytest.approx((40, 90))
    show(timeline, 60, 80)
    qtbot.waitUntil(lambda: settled(timeline) and dialogue.last_call()[:2] == pytest.approx(
        (20 / FPS, 40 / FPS)))  # only the part in view: frames 60-80 of a line from frame 40
    timeline.set_replacement_waveform("a", None, 0.0)
    assert item.extent is None and item.envelope is None


def test_dragging_the_dialogue_nudges_its_offset_in_whole_frames(timeline, dialogue, qtbot):
    offsets: list[tuple] = []
    timeline.offsetDragged.connect(lambda *args: offsets.append(args))
    at = timeline.point_at(70, "dialogue")
    drag(timeline, at, at + QPointF(10.2 * ppf(timeline), 0), steps=8)
    assert {o[2] for o in offsets} == {offsets[0][2]}
    assert [o[3] for o in offsets] == [False] * (len(offsets) - 1) + [True]
    assert all(o[0] == "a" for o in offsets)
    assert all(round(o[1] * FPS, 6) == round(o[1] * FPS) for o in offsets)
    assert offsets[-1][1] == pytest.approx(0.4)
    item = timeline._dialogue_item
    assert item.extent == pytest.approx((60, 110))
    # the app answers with the new offset: the old envelope slides until the new one lands
    timeline.set_replacement_waveform("a", dialogue, offsets[-1][1])
    assert item.envelope is not None
    qtbot.waitUntil(lambda: settled(timeline) and item.envelope.origin == pytest.approx(60))
    assert item.shift_frames == pytest.approx(0)


def test_shift_nudges_the_dialogue_by_milliseconds(timeline, dialogue):
    offsets: list[tuple] = []
    timeline.offsetDragged.connect(lambda *args: offsets.append(args))
    at = timeline.point_at(70, "dialogue")
    drag(timeline, at, at + QPointF(3.37 * ppf(timeline), 0), modifiers=SHIFT)
    assert offsets[-1][1] == pytest.approx(0.135)
    assert offsets[-1][3] is True
