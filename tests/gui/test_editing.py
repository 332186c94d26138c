"""Editing on the real window: drags and slider moves as one undo step, refused changes, a
failing and a cancelled job, export checks, settings and the cache, autosave, recent projects,
relinking moved media, dropping files, and the `python -m swaptalk_desktop` switch."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys

import numpy as np
import pytest
from gui_helpers import WAIT_MS, import_and_open, media_id, open_window, wait_job
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from render_helpers import save_png

from swaptalk_desktop.app.preferences import preferences_file
from swaptalk_desktop.core.cachedir import cache_root
from swaptalk_desktop.core.commands import SetEditField, SetMarks
from swaptalk_desktop.core.project_io import autosave_path
from swaptalk_desktop.ui.dialogs import RelinkDialog
from swaptalk_desktop.ui.export_dialog import ExportDialog
from swaptalk_desktop.ui.settings_dialog import SettingsDialog


@pytest.fixture
def edited(qtbot, window, clip, face_photo, dialogue):
    """The window with the clip open and one edit [5, 20) using the photo and the dialogue."""
    w = window
    clip_id = import_and_open(qtbot, w, clip, face_photo, dialogue)
    w.controller.push(SetMarks(clip_id, 5, 20))
    w.add_edit()
    edit = w.controller.project.clips[clip_id].edits[0]
    return w, clip_id, edit


def test_a_drag_on_the_timeline_is_one_undo_step(edited):
    w, clip_id, edit = edited
    steps = w.controller.undo_stack.count()
    for start in (6, 8, 11):  # the body dragged right...
        w.timeline.editDragged.emit(edit.id, start, start + 15, "drag-1", start == 11)
    for stop in (25, 28):     # ...then the right handle
        w.timeline.editDragged.emit(edit.id, 11, stop, "drag-2", stop == 28)
    assert (edit.start, edit.stop) == (11, 28)
    assert w.controller.undo_stack.count() == steps + 2
    w.controller.undo_stack.undo()
    assert (edit.start, edit.stop) == (11, 26)
    w.controller.undo_stack.undo()
    assert (edit.start, edit.stop) == (5, 20)
    w.timeline.offsetDragged.emit(edit.id, 0.2, "drag-3", False)
    w.timeline.offsetDragged.emit(edit.id, 0.35, "drag-3", True)
    assert edit.audio_offset == pytest.approx(0.35)
    w.controller.undo_stack.undo()
    assert edit.audio_offset == 0.0


def test_a_slider_drag_is_one_undo_step(edited):
    w, clip_id, edit = edited
    w.select_edit(edit.id)
    slider = w.inspector.feather
    steps = w.controller.undo_stack.count()
    slider.sliderPressed.emit()
    for value in (14, 18, 25, 30):
        slider.setValue(value)
    slider.sliderReleased.emit()
    assert edit.feather == 30.0
    assert w.controller.undo_stack.count() == steps + 1
    slider.setValue(31)  # a key press: its own step
    assert w.controller.undo_stack.count() == steps + 2
    w.controller.undo_stack.undo()
    w.controller.undo_stack.undo()
    assert edit.feather == 12.0
    assert "feather" in w.controller.undo_stack.redoText().lower()


def test_the_swap_method_is_chosen_in_the_inspector_and_undoable(edited):
    w, clip_id, edit = edited
    w.select_edit(edit.id)
    combo = w.inspector.swap_method
    assert edit.swap_method == "warp" and combo.currentData() == "warp" and combo.isEnabled()
    combo.setCurrentIndex(combo.findData("latent"))
    combo.activated.emit(combo.currentIndex())
    assert edit.swap_method == "latent"
    from swaptalk_desktop.app.project_jobs import job_for_edit
    assert job_for_edit(w.controller.project, clip_id, edit.id).edit.swap_method == "latent"
    assert "swap method" in w.controller.undo_stack.undoText().lower()
    w.controller.undo_stack.undo()
    assert edit.swap_method == "warp" and combo.currentData() == "warp"


def test_a_refused_change_is_one_line_and_not_an_undo_step(edited):
    w, clip_id, edit = edited
    steps = w.controller.undo_stack.count()
    w.seek(30)
    w.controller.push(SetMarks(clip_id, 10, 30))
    w.add_edit()  # would overlap the edit at 5-20
    message = w.statusBar().currentMessage()
    assert "overlap" in message and "\n" not in message
    assert len(w.controller.project.clips[clip_id].edits) == 1
    assert w.controller.undo_stack.count() == steps + 1  # only the marks


def test_a_failing_job_shows_one_line_and_the_app_goes_on(qtbot, edited, tmp_path):
    w, clip_id, edit = edited
    blank = tmp_path / "no_face.png"
    yy, xx = np.mgrid[0:200, 0:160]
    save_png(blank, np.stack([xx, yy, xx * 0 + 90], -1).astype(np.uint8))
    w.import_files([blank])
    qtbot.waitUntil(lambda: len(w.controller.project.media) == 4, timeout=WAIT_MS)
    w.controller.push(SetEditField(clip_id, edit.id, "photo_id", media_id(w, blank)))
    job_id = w.process_edits([edit.id])[0]
    wait_job(qtbot, w, job_id)
    record = w.jobs.record(job_id)
    assert record.state == "failed"
    assert "face" in record.error and "\n" not in record.error and "Traceback" not in \
        record.error
    assert record.error in w.jobs_panel.state_text(job_id)
    assert record.error in w.statusBar().currentMessage()
    w.seek(12)  # still working
    qtbot.waitUntil(lambda: w.viewer.index == 12, timeout=WAIT_MS)
    w.jobs_panel.retryRequested.emit(job_id)  # the retry button
    qtbot.waitUntil(lambda: w.jobs.record(job_id).state in ("queued", "running"),
                    timeout=WAIT_MS)
    wait_job(qtbot, w, job_id)
    assert w.jobs.record(job_id).state == "failed"


def test_cancel_a_running_job_then_resume_it(qtbot, edited):
    w, clip_id, edit = edited
    job_id = w.process_edits([edit.id])[0]
    qtbot.waitUntil(lambda: w.jobs.record(job_id).done > 0, timeout=WAIT_MS)
    w.jobs_panel.cancelRequested.emit(job_id)
    wait_job(qtbot, w, job_id)
    assert w.jobs.record(job_id).state == "cancelled"
    assert w.controller.project.pending_jobs == []
    w.jobs_panel.retryRequested.emit(job_id)
    qtbot.waitUntil(lambda: not w.jobs.record(job_id).finished, timeout=WAIT_MS)
    wait_job(qtbot, w, job_id)
    assert w.jobs.record(job_id).state == "done"


def test_export_dialog_checks_the_output_in_one_line(qtbot, edited, tmp_path):
    w, clip_id, edit = edited
    taken = tmp_path / "taken.mp4"
    taken.write_bytes(b"not a video")
    dialog = w.export_dialog()
    assert isinstance(dialog, ExportDialog)
    assert dialog.range.isEnabled()
    dialog.output.setText(str(taken))
    dialog.accept()
    assert dialog.isVisible() and "exists" in dialog.error.text()
    dialog.output.setText(str(tmp_path / "notes.txt"))
    dialog.accept()
    assert dialog.isVisible() and ".mp4" in dialog.error.text()
    dialog.output.setText(str(taken))
    dialog.overwrite.setChecked(True)
    dialog.range.setChecked(True)
    request = dialog.request()
    assert request.span == (5, 20)
    assert request.overwrite and request.audio_mode == "replace"
    dialog.reject()


def test_settings_choose_models_and_clear_the_cache(qtbot, edited):
    w, clip_id, edit = edited
    job_id = w.process_edits([edit.id])[0]
    wait_job(qtbot, w, job_id)
    jobs = cache_root() / "jobs"
    assert any(jobs.iterdir())
    dialog = w.settings_dialog()
    assert isinstance(dialog, SettingsDialog)
    sets = [dialog.model_set.itemData(i) for i in range(dialog.model_set.count())]
    assert {"tint", "source", "mel", "pipeline-check"} <= set(sets)
    qtbot.waitUntil(lambda: "measuring" not in dialog.usage.text(), timeout=WAIT_MS)
    assert "MiB" in dialog.usage.text() or "KiB" in dialog.usage.text()
    dialog.clear_button.click()
    qtbot.waitUntil(lambda: not any(jobs.iterdir()), timeout=WAIT_MS)
    dialog.model_set.setCurrentIndex(dialog.model_set.findData("tint"))
    dialog.provider.setCurrentIndex(dialog.provider.findData("cpu"))
    dialog.accept()
    assert w.controller.project.settings["model_set"] == "tint"
    assert json.loads(preferences_file().read_text())["provider"] == "cpu"
    qtbot.waitUntil(lambda: w.model_set_used == "tint", timeout=WAIT_MS)
    assert w.provider_label.text() == "Inference: CPU · models: tint"


def test_autosave_recent_projects_and_relink(qtbot, edited, tmp_path, models_dir, monkeypatch):
    w, clip_id, edit = edited
    w.controller.push(SetEditField(clip_id, edit.id, "label", "Line 7"))
    try:  # written a moment after the change (debounced), without any save
        qtbot.waitUntil(lambda: autosave_path(None).is_file(), timeout=20_000)
    except Exception:
        pytest.fail(f"no autosave; status: {w.statusBar().currentMessage()!r}, dirty "
                    f"{w.controller.dirty}, file {w.controller._autosave_file}")
    w.controller.flush_autosave()
    saved = json.loads(autosave_path(None).read_text())
    assert '"Line 7"' in json.dumps(saved["project"])
    folder = tmp_path / "proj"
    folder.mkdir()
    media = folder / "media"
    media.mkdir()
    moved_clip = media / "take.mp4"
    shutil.copy(w.controller.project.media[clip_id].path, moved_clip)
    assert w.controller.save_as(folder / "dub.swaptalk")
    assert not autosave_path(None).exists()  # saved: the untitled autosave went away
    assert w.recent_menu.actions()[0].text().startswith("dub.swaptalk")

    # The same project, its clip moved away: opening offers relinking, a folder search finds it.
    other = open_window(qtbot, models_dir)
    try:
        import swaptalk_desktop.ui.window_files as wf
        shown = []
        monkeypatch.setattr(wf.RelinkDialog, "open", lambda self: shown.append(self))
        clip_path = w.controller.project.media[clip_id].path
        project = w.controller.project
        project.media[clip_id].path = moved_clip
        w.controller.save()
        hidden = tmp_path / "elsewhere"
        hidden.mkdir()
        moved_clip.rename(hidden / "renamed_take.mp4")
        assert other.open_project(folder / "dub.swaptalk")
        assert other.controller.project.media[clip_id].missing
        assert len(shown) == 1 and isinstance(shown[0], RelinkDialog)
        assert shown[0].search(hidden) == 1
        shown[0].finished.emit(0)
        assert not other.controller.project.media[clip_id].missing
        assert other.controller.dirty
        qtbot.waitUntil(lambda: other.info is not None, timeout=WAIT_MS)
        assert clip_path.exists()
    finally:
        other.shutdown()


def test_dropping_files_on_the_bin_imports_them(qtbot, window, clip, face_photo):
    w = window
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip)), QUrl.fromLocalFile(str(face_photo))])
    target = w.media_bin.list
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    target.dropEvent(event)
    qtbot.waitUntil(lambda: len(w.controller.project.media) == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)  # the clip opened
    qtbot.waitUntil(lambda: all(w.media_bin.has_icon(m) for m in w.controller.project.media),
                    timeout=WAIT_MS)
    kinds = sorted(m.kind for m in w.controller.project.media.values())
    assert kinds == ["photo", "video"]
    assert w.controller.undo_stack.undoText().startswith("Open")
    w.controller.undo_stack.undo()
    w.controller.undo_stack.undo()
    assert w.controller.project.media == {}


def test_python_m_switch(monkeypatch):
    out = subprocess.run([sys.executable, "-m", "swaptalk_desktop", "--version"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("swaptalk ")
    import swaptalk_desktop.ui.app as app
    called = []
    monkeypatch.setattr(app, "main", lambda: called.append(True) or 0)
    monkeypatch.setattr(sys, "argv", ["swaptalk_desktop"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("swaptalk_desktop", run_name="__main__")
    assert exit_info.value.code == 0 and called == [True]


def test_a_dialogue_only_edit_puts_its_line_in_the_export(qtbot, edited, tmp_path):
    from swaptalk_desktop.app.jobs import ExportRequest
    from swaptalk_desktop.engine.metadata import sidecar_path
    from swaptalk_desktop.media import EncodeSettings, load_audio

    w, clip_id, edit = edited
    w.controller.push(SetEditField(clip_id, edit.id, "photo_id", None))
    w.controller.push(SetEditField(clip_id, edit.id, "sync", False))
    out = tmp_path / "dialogue_only.mp4"
    job_id = w.export(ExportRequest(out, None, EncodeSettings(preset="ultrafast"), "replace",
                                    False))
    assert job_id is not None, w.statusBar().currentMessage()
    wait_job(qtbot, w, job_id)
    assert w.jobs.record(job_id).state == "done", w.jobs.record(job_id).error
    record = json.loads(sidecar_path(out).read_text())
    # the status line says how the file was written, as the sidecar does
    qtbot.waitUntil(lambda: "exported" in w.statusBar().currentMessage(), timeout=WAIT_MS)
    message = w.statusBar().currentMessage()
    if record["write"]["mode"] == "smart":
        assert f"smart render: {record['write']['frames_reencoded']} of" in message
    else:
        assert f"the whole clip was encoded: {record['write']['reason']}" in message
    [entry] = record["edits"]
    assert entry["frames"] == [5, 20] and entry["audio_replaced"] and not entry["sync"]
    # the line is in the sound of the edit's range (the clip's own track is a quiet tone)
    source, result = load_audio(w.info.path), load_audio(out)
    t0, t1 = entry["seconds"]
    rate = result.sample_rate
    a, b = int((t0 + 0.1) * rate), int((t1 - 0.1) * rate)
    assert source.sample_rate == rate
    assert np.abs(result.samples[a:b] - source.samples[a:b]).mean() > 0.01
