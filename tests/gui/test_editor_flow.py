"""The editor end to end on the real MainWindow: import, marks from the keyboard, an edit with a
photo and dialogue, processing, the processed preview, undo/redo, save/reopen and export."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from gui_helpers import (
    WAIT_MS,
    import_and_open,
    key,
    media_id,
    open_window,
    wait_job,
    wait_processed,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from swaptalk_desktop.core.project_format import project_to_dict
from swaptalk_desktop.engine.prepare import prepared_for
from swaptalk_desktop.engine.process import track_folder
from swaptalk_desktop.faces import FaceTrack
from swaptalk_desktop.ui.export_dialog import ExportDialog

SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def face_box(w, job, index: int, margin: float) -> tuple[int, int, int, int]:
    """The tracked face's landmark box at ``index``, grown by ``margin`` of its size."""
    p = prepared_for(job, w.status_context())
    track = FaceTrack.load(track_folder(p).path / "track.npz")
    pts = track.landmarks[index - track.start]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    return int(x0 - mx), int(y0 - my), int(np.ceil(x1 + mx)), int(np.ceil(y1 + my))


def check_export(path: Path, frames: int, fps, size: tuple[int, int], decodes) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = sum(1 for _ in container.decode(stream))
        assert decoded == frames
        assert abs(float(stream.average_rate) - float(fps)) < 1e-3
        assert (stream.codec_context.width, stream.codec_context.height) == size
    decodes(path)
    assert path.with_name(path.name + ".swaptalk.json").is_file()


def run_flow(qtbot, w, clip: Path, photo: Path, line: Path, tmp_path: Path, models_dir: Path,
             monkeypatch, decodes, step_s: int = 1) -> None:
    clip_id = import_and_open(qtbot, w, clip, photo, line)
    info = w.info
    second = int(round(float(info.nominal_fps)))
    assert w.media_bin.ids() == list(w.controller.project.media)

    # Marks from the keyboard: three frames in, then one second (or step_s seconds) later.
    key(w, Qt.Key.Key_Right, times=3)
    assert w.playhead == 3
    key(w, Qt.Key.Key_I)
    key(w, Qt.Key.Key_Right, SHIFT, times=step_s)
    key(w, Qt.Key.Key_Left)
    assert w.playhead == 3 + step_s * second - 1
    key(w, Qt.Key.Key_O)
    state = w.controller.project.clips[clip_id]
    start, stop = 3, 3 + step_s * second  # the out mark's frame is inside the range
    assert (state.mark_in, state.mark_out) == (start, stop)

    # An edit over the marks, its photo and dialogue chosen in the inspector.
    key(w, Qt.Key.Key_E)
    assert len(state.edits) == 1
    edit = state.edits[0]
    assert (edit.start, edit.stop) == (start, stop) and w.selected_edit == edit.id
    for combo, wanted in ((w.inspector.photo, media_id(w, photo)),
                          (w.inspector.audio, media_id(w, line))):
        combo.setCurrentIndex(combo.findData(None))
        combo.activated.emit(combo.currentIndex())
        combo.setCurrentIndex(combo.findData(wanted))
        combo.activated.emit(combo.currentIndex())
    assert (edit.photo_id, edit.audio_id) == (media_id(w, photo), media_id(w, line))
    w.inspector.nudges["+1f"].click()
    w.inspector.nudges["−10ms"].click()
    assert edit.audio_offset == pytest.approx(1 / float(info.nominal_fps) - 0.01)
    w.inspector.nudges["+10ms"].click()
    w.inspector.nudges["−1f"].click()
    assert edit.audio_offset == pytest.approx(0.0, abs=1e-9)

    # Process it; the timeline marks it done and the viewer shows the cached result.
    w.acts.process_range.trigger()
    job_id = w.jobs.records()[-1].id
    wait_job(qtbot, w, job_id)
    record = w.jobs.record(job_id)
    assert record.state == "done", record.error
    assert record.result[0]["chunks_rendered"] > 0
    qtbot.waitUntil(lambda: w.timeline.state.edits[edit.id].status == "done", timeout=WAIT_MS)
    assert w.provider_label.text().startswith("Inference: CPU")

    middle = (start + stop) // 2
    w.viewer.set_mode("split")
    w.seek(middle)
    processed = wait_processed(qtbot, w, middle).astype(int)
    original = w.viewer.original.astype(int)
    assert "cache" in w.viewer.status.text()
    diff = np.abs(processed - original).sum(axis=2)
    x0, y0, x1, y1 = face_box(w, w.job_for(edit.id), middle, margin=0.35)
    outside = diff.copy()
    outside[max(0, y0):y1, max(0, x0):x1] = 0
    assert outside.max() == 0, "pixels changed outside the face"
    x0, y0, x1, y1 = face_box(w, w.job_for(edit.id), middle, margin=0.0)
    inside = diff[max(0, y0):y1, max(0, x0):x1]
    assert (inside > 30).mean() > 0.3, "the face did not change"

    # Playing the range shows processed frames, composed from the cache.
    seen: list[tuple[int, bool]] = []
    w.playback.frameShown.connect(lambda i, rgb, processed: seen.append((i, processed is not None)))
    w.seek(start)
    key(w, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: any(i >= start + 6 for i, _ in seen), timeout=WAIT_MS)
    key(w, Qt.Key.Key_K)
    inside = [has for i, has in seen if start <= i < stop]
    assert inside and all(inside)
    assert "cache" in w.viewer.status.text()

    # Undo the whole edit from the keyboard, then redo it.
    before = project_to_dict(w.controller.project, None)
    steps = 0
    while state.find(edit.id) is not None:
        key(w, Qt.Key.Key_Z, CTRL)
        steps += 1
        assert steps < 20
    key(w, Qt.Key.Key_Z, CTRL | SHIFT, times=steps)
    assert project_to_dict(w.controller.project, None) == before

    # Save with Ctrl+S (the file dialog answered), reopen in a second window, compare.
    saved = tmp_path / "dub.swaptalk"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    key(w, Qt.Key.Key_S, CTRL)
    assert saved.is_file() and not w.controller.dirty
    other = open_window(qtbot, models_dir)
    try:
        assert other.open_project(saved)
        assert project_to_dict(other.controller.project, tmp_path) == \
            project_to_dict(w.controller.project, tmp_path)
        qtbot.waitUntil(lambda: other.info is not None, timeout=WAIT_MS)
        assert other.timeline.state.edits[edit.id].start == start
    finally:
        other.shutdown()

    # Export the whole clip through the dialog.
    out = tmp_path / "dub.mp4"
    w.acts.export.trigger()
    dialog = w.findChild(ExportDialog)
    dialog.output.setText(str(out))
    dialog.crf.setValue(20)
    dialog.preset.setCurrentText("veryfast")
    dialog.accept()
    export_id = w.jobs.records()[-1].id
    wait_job(qtbot, w, export_id)
    assert w.jobs.record(export_id).state == "done", w.jobs.record(export_id).error
    check_export(out, info.frame_count, info.fps, (info.width, info.height), decodes)

    # Just the marked range, as its own file.
    part = tmp_path / "dub_range.mp4"
    w.acts.export.trigger()
    dialog = [d for d in w.findChildren(ExportDialog) if d.isVisible()][-1]
    dialog.output.setText(str(part))
    assert dialog.range.isEnabled()
    dialog.range.setChecked(True)
    dialog.accept()
    part_id = w.jobs.records()[-1].id
    wait_job(qtbot, w, part_id)
    assert w.jobs.record(part_id).state == "done", w.jobs.record(part_id).error
    check_export(part, stop - start, info.fps, (info.width, info.height), decodes)


def test_flow_on_synthetic_clip(qtbot, window, clip, face_photo, dialogue, tmp_path, models_dir,
                                monkeypatch, ffmpeg_decodes_cleanly):
    run_flow(qtbot, window, clip, face_photo, dialogue, tmp_path, models_dir, monkeypatch,
             ffmpeg_decodes_cleanly)


@pytest.mark.slow
def test_flow_on_real_clip(qtbot, window, shared_data, face_photo, dialogue, tmp_path,
                           models_dir, monkeypatch, ffmpeg_decodes_cleanly):
    folder = shared_data / "videos" / "talking"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    clips = sorted(folder.glob("*.mp4"), key=lambda p: p.stat().st_size)
    if not clips:
        pytest.skip(f"no clips in {folder}")
    run_flow(qtbot, window, clips[0], face_photo, dialogue, tmp_path, models_dir, monkeypatch,
             ffmpeg_decodes_cleanly)
