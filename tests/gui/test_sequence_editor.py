"""Sequences in the editor (issue 9): three clips in a row, trimmed and reordered in the
Sequence panel, markers and edits on two of them, the whole sequence exported to one MP4 whose
frames differ from the sources only in the edited ranges; undo, save and reopen."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from gui_helpers import WAIT_MS, import_and_open, key, media_id, open_window, wait_job
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from render_helpers import decode_all

from swaptalk_desktop.core.commands import SetMarks
from swaptalk_desktop.core.project_format import project_to_dict
from swaptalk_desktop.eval.synthetic_clip import write_moving_face_clip
from swaptalk_desktop.ui.export_dialog import ExportDialog

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("takes")
    return [write_moving_face_clip(folder / "take_2.mp4", n=30, width=640, height=480,
                                   face_height=0.95),
            write_moving_face_clip(folder / "take_3.mp4", n=25, width=640, height=480,
                                   face_height=0.95, with_audio=False)]


def open_in_timeline(qtbot, w, clip_id: str) -> None:
    w.media_bin.openRequested.emit(clip_id)  # a double-click in the bin
    qtbot.waitUntil(lambda: w.clip_id == clip_id and w.info is not None, timeout=WAIT_MS)


def edit_with_photo(w, clip_id: str, start: int, stop: int, photo_id: str) -> None:
    assert w.controller.push(SetMarks(clip_id, start, stop))
    key(w, Qt.Key.Key_E)
    combo = w.inspector.photo
    combo.setCurrentIndex(combo.findData(photo_id))
    combo.activated.emit(combo.currentIndex())
    edit = w.controller.project.clips[clip_id].edits[-1]
    assert (edit.start, edit.stop, edit.photo_id) == (start, stop, photo_id)


def test_a_three_clip_sequence_exports_to_one_mp4(qtbot, window, clip, takes, face_photo,
                                                  tmp_path, models_dir):
    w = window
    first = import_and_open(qtbot, w, clip, *takes, face_photo)
    second, third = media_id(w, takes[0]), media_id(w, takes[1])
    photo = media_id(w, face_photo)
    project = w.controller.project
    for clip_id in (second, third):
        open_in_timeline(qtbot, w, clip_id)
    assert [s.media_id for s in project.sequence] == [first, second, third]
    panel = w.sequence_panel
    assert panel.ids() == [s.id for s in project.sequence]
    assert "3 clips" in panel.summary.text() and "95 frames" in panel.summary.text()

    # Trim the first clip to frames 2-37 in the panel (open it, mark, Trim to Marks).
    panel.select(project.sequence[0].id)
    panel.openRequested.emit(project.sequence[0].id)
    qtbot.waitUntil(lambda: w.clip_id == first and w.info is not None, timeout=WAIT_MS)
    assert w.controller.push(SetMarks(first, 2, 38))
    panel.buttons["trim"].click()
    assert (project.sequence[0].source_in, project.sequence[0].source_out) == (2, 38)

    # Reorder: the third clip one step earlier, undone and redone from the keyboard.
    panel.select(project.sequence[2].id)
    panel.buttons["earlier"].click()
    assert [s.media_id for s in project.sequence] == [first, third, second]
    key(w, Qt.Key.Key_Z, CTRL)
    assert [s.media_id for s in project.sequence] == [first, second, third]
    key(w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert [s.media_id for s in project.sequence] == [first, third, second]
    assert panel.ids() == [s.id for s in project.sequence]

    # Markers and edits on two clips; each stays its clip's, in source frames.
    edit_with_photo(w, first, 4, 12, photo)
    w.seek(20)
    key(w, Qt.Key.Key_M)
    open_in_timeline(qtbot, w, second)
    edit_with_photo(w, second, 10, 20, photo)
    w.seek(3)
    key(w, Qt.Key.Key_M)
    assert [m.frame for m in project.clips[first].markers] == [20]
    assert [m.frame for m in project.clips[second].markers] == [3]
    assert "1 edit" in panel.list.item(0).text() and "1 edit" in panel.list.item(2).text()
    assert "edit" not in panel.list.item(1).text()

    # The strip above the timeline shows the sequence on V1/A1; a click on it goes to that
    # sequence frame: the clip showing it opens, the playhead on the source frame it shows.
    strip = w.sequence_strip
    assert strip.isVisible()
    assert [(b.start, b.length, b.edits) for b in strip.blocks] == \
        [(0, 36, ((2, 10),)), (36, 25, ()), (61, 30, ((71, 81),))]
    x = int(strip.x_of(75.5))
    frame = strip.frame_at(x)
    assert 61 <= frame < 91
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, 8))
    qtbot.waitUntil(lambda: w.clip_id == second and w.info is not None, timeout=WAIT_MS)
    assert w.playhead == frame - 61 == project.locate(frame)[1]
    assert strip.current == project.sequence[2].id and strip.playhead == frame
    w.seek(2)
    assert strip.playhead == 63
    x = int(strip.x_of(40.5))
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, 8))
    qtbot.waitUntil(lambda: w.clip_id == third and w.info is not None, timeout=WAIT_MS)
    assert w.playhead == strip.frame_at(x) - 36
    assert panel.selected() == project.sequence[1].id

    # Export the whole sequence through the dialog, losslessly so that untouched frames
    # can be compared exactly.
    out = tmp_path / "cut.mp4"
    w.acts.export.trigger()
    dialog = [d for d in w.findChildren(ExportDialog) if d.isVisible()][-1]
    assert dialog.sequence.isEnabled() and "3 clips · 91 frames" in dialog.sequence.text()
    dialog.sequence.setChecked(True)
    dialog.output.setText(str(out))
    dialog.crf.setValue(0)
    dialog.preset.setCurrentText("ultrafast")
    dialog.accept()
    export_id = w.jobs.records()[-1].id
    wait_job(qtbot, w, export_id)
    record = w.jobs.record(export_id)
    assert record.state == "done", record.error

    a, b, c = decode_all(clip), decode_all(takes[0]), decode_all(takes[1])
    expected = a[2:38] + c + b  # first (trimmed), third, second
    edited = set(range(4 - 2, 12 - 2)) | {36 + 25 + i for i in range(10, 20)}
    got = decode_all(out)
    assert len(got) == len(expected) == 91
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.frames in (0, 91) and abs(float(stream.average_rate) - 25) < 1e-3
    for i, (x, y) in enumerate(zip(expected, got, strict=True)):
        diff = int((np.abs(x.astype(int) - y.astype(int)).max(axis=-1) > 6).sum())
        if i in edited:
            assert diff > 200, f"frame {i} of an edit is unchanged"
        else:
            assert np.array_equal(x, y), f"frame {i} outside the edits was altered"
    sidecar = json.loads(out.with_name(out.name + ".swaptalk.json").read_text())
    assert [cl["file"] for cl in sidecar["clips"]] == ["presenter.mp4", "take_3.mp4",
                                                       "take_2.mp4"]
    assert [[e["frames"] for e in cl["edits"]] for cl in sidecar["clips"]] == \
        [[[4, 12]], [], [[10, 20]]]

    # The sequence's own marks (Alt+I / Alt+O at sequence frames 30 and 70) and an export of
    # that range only.
    ALT = Qt.KeyboardModifier.AltModifier
    w.activateWindow()  # back from the export dialog: shortcuts go to the active window
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT_MS)
    w.go_to_sequence_frame(30)
    qtbot.waitUntil(lambda: w.clip_id == first and w.playhead == 32, timeout=WAIT_MS)
    key(w, Qt.Key.Key_I, ALT)
    w.go_to_sequence_frame(70)
    qtbot.waitUntil(lambda: w.clip_id == second and w.playhead == 9, timeout=WAIT_MS)
    key(w, Qt.Key.Key_O, ALT)
    assert (project.sequence_in, project.sequence_out) == (30, 71)
    assert w.sequence_strip.marks == (30, 71)
    part = tmp_path / "cut_range.mp4"
    w.acts.export.trigger()
    dialog = [d for d in w.findChildren(ExportDialog) if d.isVisible()][-1]
    assert dialog.sequence_range.isEnabled() and "41 frames" in dialog.sequence_range.text()
    dialog.sequence_range.setChecked(True)
    dialog.output.setText(str(part))
    dialog.crf.setValue(0)
    dialog.preset.setCurrentText("ultrafast")
    dialog.accept()
    part_id = w.jobs.records()[-1].id
    wait_job(qtbot, w, part_id)
    assert w.jobs.record(part_id).state == "done", w.jobs.record(part_id).error
    got = decode_all(part)
    assert len(got) == 41
    for i, (x, y) in enumerate(zip(expected[30:71], got, strict=True)):
        if i + 30 in edited:
            assert not np.array_equal(x, y), f"frame {i} of an edit is unchanged"
        else:
            assert np.array_equal(x, y), f"frame {i} outside the edits was altered"

    # Save and reopen: the sequence, its trims and every clip's edits and markers.
    saved = tmp_path / "cut.swaptalk"
    assert w.controller.save_as(saved)
    other = open_window(qtbot, models_dir)
    try:
        assert other.open_project(saved)
        assert project_to_dict(other.controller.project, tmp_path) == \
            project_to_dict(project, tmp_path)
        assert other.sequence_panel.ids() == [s.id for s in project.sequence]
        qtbot.waitUntil(lambda: other.info is not None, timeout=WAIT_MS)
    finally:
        other.shutdown()

    # Removing a clip from the sequence keeps its edits; undo puts it back where it was.
    panel.select(project.sequence[2].id)
    panel.buttons["remove"].click()
    assert [s.media_id for s in project.sequence] == [first, third]
    assert len(project.clips[second].edits) == 1
    w.acts.undo.trigger()
    assert [s.media_id for s in project.sequence] == [first, third, second]
