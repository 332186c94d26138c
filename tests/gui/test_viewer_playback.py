"""Viewer (A / B / wipe with a draggable divider), the preview worker's "latest request wins",
and the transport (J/K/L shuttle, decode-ahead playback, sound or "no audio device")."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import WAIT_MS, import_and_open, key, media_id
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from swaptalk_desktop.core.commands import SetEditField
from swaptalk_desktop.media import probe_video
from swaptalk_desktop.ui import audio_out
from swaptalk_desktop.ui.playback import PlaybackController
from swaptalk_desktop.ui.preview_worker import FrameRequest, PreviewWorker
from swaptalk_desktop.ui.viewer import Viewer


def solid(color, h=90, w=160) -> np.ndarray:
    return np.broadcast_to(np.array(color, np.uint8), (h, w, 3)).copy()


def test_wipe_shows_a_left_and_b_right_of_the_dragged_divider(qtbot):
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.resize(640, 400)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.show_frame(0, solid((200, 0, 0)), "00:00:00:00")
    viewer.show_processed(0, solid((0, 0, 200)))
    viewer.set_mode("split")
    canvas = viewer.canvas
    rect = canvas.picture_rect()
    y = int(rect.center().y())
    x = int(rect.left() + 0.25 * rect.width())
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(rect.center().x()), y))
    QTest.mouseMove(canvas, QPoint(x, y))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(x, y))
    assert canvas.divider == pytest.approx(0.25, abs=0.02)
    image = canvas.grab().toImage()

    def rgb(px: float) -> tuple[int, int, int]:
        c = image.pixelColor(int(px), y + 25)
        return c.red(), c.green(), c.blue()

    assert rgb(rect.left() + 0.1 * rect.width()) == (200, 0, 0)   # A left of the divider
    assert rgb(rect.left() + 0.6 * rect.width()) == (0, 0, 200)   # B right of it
    viewer.set_mode("original")
    image = canvas.grab().toImage()
    assert rgb(rect.left() + 0.6 * rect.width()) == (200, 0, 0)
    viewer.show_frame(1, solid((0, 200, 0)))  # a new frame drops B of the old one
    assert viewer.processed is None


def test_preview_worker_serves_only_the_latest_request(qtbot, ctx, clip, face_photo):
    from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions
    info = probe_video(clip)
    job = RangeJob(video=clip, start=0, stop=info.frame_count, face=face_photo,
                   edit=EditOptions(), run=RunOptions(model_set="source"))
    worker = PreviewWorker(lambda: ctx)
    frames, processed = [], []
    worker.frameReady.connect(frames.append)
    worker.processedReady.connect(processed.append)
    try:
        worker.request(FrameRequest(1, 5, info, job))  # warm-up: prepares the job once
        qtbot.waitUntil(lambda: len(processed) == 1, timeout=WAIT_MS)
        count = worker.processed_count
        for i in range(12):  # a scrub: many requests while the first one is processed
            worker.request(FrameRequest(2, 10 + i, info, job))
        qtbot.waitUntil(lambda: processed[-1].index == 21 and worker.idle(), timeout=WAIT_MS)
        assert processed[-1].revision == 2 and processed[-1].processed is not None
        assert worker.processed_count - count < 12  # skipped stale frames
        assert frames[-1].index == 21
        assert not np.array_equal(processed[-1].processed, frames[-1].original)
    finally:
        worker.stop()


def test_stale_preview_results_are_dropped(qtbot, window, clip):
    w = window
    import_and_open(qtbot, w, clip)
    w.seek(3)
    qtbot.waitUntil(lambda: w.viewer.index == 3, timeout=WAIT_MS)
    from swaptalk_desktop.ui.preview_worker import ProcessedResult
    fake = np.zeros_like(w.viewer.original)
    w._on_processed(ProcessedResult(w.controller.revision - 1, 3, w.info.path, fake, "old"))
    assert w.viewer.processed is None  # an older document revision
    w._on_processed(ProcessedResult(w.controller.revision, 4, w.info.path, fake, "moved"))
    assert w.viewer.processed is None  # another frame than the one shown
    w._on_processed(ProcessedResult(w.controller.revision, 3, w.info.path, fake, "now"))
    assert w.viewer.processed is fake


def test_shuttle_speeds_and_playback_both_ways(qtbot, clip):
    info = probe_video(clip)
    player = PlaybackController()
    shown: list[int] = []
    player.frameShown.connect(lambda i, rgb, processed: shown.append(i))
    try:
        player.set_clip(info, 10)
        player.shuttle_forward()
        assert player.speed == 1
        player.shuttle_forward()
        player.shuttle_forward()
        assert player.speed == 4
        player.shuttle_forward()
        assert player.speed == 4  # 4x is the fastest
        qtbot.waitUntil(lambda: bool(shown) and shown[-1] >= 25, timeout=WAIT_MS)
        assert shown == sorted(shown) and shown[0] >= 10
        player.stop()
        assert player.speed == 0
        at = player.position
        shown.clear()
        player.shuttle_backward()
        assert player.speed == -1
        player.shuttle_backward()
        assert player.speed == -2
        qtbot.waitUntil(lambda: bool(shown) and shown[-1] <= at - 8, timeout=WAIT_MS)
        assert shown == sorted(shown, reverse=True)
        player.toggle()
        assert not player.playing
        player.seek(info.frame_count - 1)
        player.toggle()  # at the end: plays from the start again
        qtbot.waitUntil(lambda: not player.playing, timeout=WAIT_MS)  # stops at the end
        assert player.position == info.frame_count - 1
    finally:
        player.close()


def test_space_jkl_drive_the_window(qtbot, window, clip):
    w = window
    import_and_open(qtbot, w, clip)
    key(w, Qt.Key.Key_L)
    key(w, Qt.Key.Key_L)
    assert w.playback.speed == 2
    key(w, Qt.Key.Key_K)
    assert w.playback.speed == 0
    key(w, Qt.Key.Key_Space)
    assert w.playback.speed == 1
    qtbot.waitUntil(lambda: w.playhead > 5, timeout=WAIT_MS)
    key(w, Qt.Key.Key_Space)
    assert not w.playback.playing
    key(w, Qt.Key.Key_End)
    assert w.playhead == w.info.frame_count - 1
    key(w, Qt.Key.Key_Home)
    assert w.playhead == 0
    key(w, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert w.playhead == 25
    key(w, Qt.Key.Key_Left)
    assert w.playhead == 24


def test_no_audio_device_plays_silently(qtbot, monkeypatch, clip):
    import pygame.mixer

    def fail(*args, **kwargs):
        raise pygame.error("No available audio device")

    monkeypatch.setattr(pygame.mixer, "get_init", lambda: None)
    monkeypatch.setattr(pygame.mixer, "init", fail)
    out = audio_out.AudioOut()
    assert not out.available and out.status == audio_out.NO_DEVICE
    player = PlaybackController(audio=out)
    shown = []
    player.frameShown.connect(lambda i, rgb, processed: shown.append(i))
    try:
        player.set_clip(probe_video(clip), 0)
        player.toggle()
        qtbot.waitUntil(lambda: len(shown) > 3, timeout=WAIT_MS)  # the picture still plays
    finally:
        player.close()


def test_sound_streams_the_dialogue_inside_edits(qtbot, window, clip, face_photo, dialogue):
    w = window
    clip_id = import_and_open(qtbot, w, clip, face_photo, dialogue)
    w.seek(0)
    w.add_edit()
    edit = w.controller.project.clips[clip_id].edits[0]
    w.controller.push(SetEditField(clip_id, edit.id, "audio_id", media_id(w, dialogue)))
    w.viewer.set_mode("processed")
    overlays = w.audio_overlays()
    assert len(overlays) == 1 and overlays[0].path == dialogue.resolve()
    out = w.playback.audio
    if not out.available:
        pytest.skip("no audio device even with SDL's dummy driver")
    block = np.ones((out.rate // 10, out.channels), np.float32) * 0.5
    mixed = out._mix(block, overlays[0].t0, overlays)
    assert not np.allclose(mixed, block)  # the edit's range hears the dialogue
    outside = out._mix(block, overlays[0].t1 + 1.0, overlays)
    assert np.array_equal(outside, block)
    w.viewer.set_mode("original")
    assert w.audio_overlays() == []  # A is the source, sound too


def test_dragging_the_playhead_plays_the_sound_under_it(qtbot, window, clip, dialogue):
    w = window
    clip_id = import_and_open(qtbot, w, clip, dialogue)
    heard = []
    w.playback.audio.scrub = lambda source, t, overlays: heard.append((source, t, overlays))
    w.timeline.playheadDragged.emit(30)
    assert w.playhead == 30
    assert heard == [(w.info.path, w.info.audio_time(30), [])]
    # inside an edit with a new line, the line is what the drag plays (as playback has it)
    w.seek(20)
    w.add_edit()
    edit = w.controller.project.clips[clip_id].edits[0]
    w.controller.push(SetEditField(clip_id, edit.id, "audio_id", media_id(w, dialogue)))
    w.viewer.set_mode("processed")
    w.timeline.playheadDragged.emit(25)
    assert heard[-1][2] == w.audio_overlays() and len(heard[-1][2]) == 1
    action = w.acts.by_name["audio_scrub"]
    assert action.isCheckable() and action.isChecked()
    action.trigger()  # Playback > Audio Scrubbing off
    w.timeline.playheadDragged.emit(10)
    assert len(heard) == 2 and w.playhead == 10


def test_a_scrub_plays_a_short_faded_snippet_of_the_track(clip, dialogue):
    out = audio_out.AudioOut()
    try:
        info = probe_video(clip)
        t = 0.6
        snippet = out.scrub_samples(info.path, t, [])
        n = int(round(audio_out.SCRUB_S * out.rate))
        assert snippet.shape == (n, out.channels)
        assert abs(snippet[0]).max() < 1e-6 and abs(snippet[-1]).max() < 1e-6  # faded
        from swaptalk_desktop.media import load_audio, resample
        track = resample(load_audio(info.path), out.rate, out.channels).samples
        a = int(round(t * out.rate))
        middle = slice(n // 4, 3 * n // 4)
        assert np.allclose(snippet[middle], track[a:a + n][middle], atol=2e-3)
        # inside an edit's overlay the dialogue replaces the track
        over = [audio_out.Overlay(0.5, 1.0, dialogue, 0.0)]
        line = out.scrub_samples(info.path, t, over)
        voice = resample(load_audio(dialogue), out.rate, out.channels).samples
        b = int(round((t - 0.5) * out.rate))
        assert np.allclose(line[middle], voice[b:b + n][middle], atol=2e-3)
    finally:
        out.close()
