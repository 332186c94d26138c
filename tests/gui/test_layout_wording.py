"""Layout and wording of the editor: the window fits 1280×720 and 1440×900 with every panel
readable however long a message is; a range is written one way in every view; a job's progress
is one number and one smoothed time left in every view; engine messages name the editor's
controls, not the command line's flags."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS, import_and_open, wait_job
from PySide6.QtWidgets import QApplication

from swaptalk_desktop.app.job_progress import ProgressBook
from swaptalk_desktop.app.jobs import ExportRequest
from swaptalk_desktop.app.preferences import Preferences
from swaptalk_desktop.core.commands import SetMarks
from swaptalk_desktop.core.timebase import format_range
from swaptalk_desktop.engine.jobs import JobRecord
from swaptalk_desktop.media import EncodeSettings
from swaptalk_desktop.ui.export_dialog import ExportDialog
from swaptalk_desktop.ui.main_window import MainWindow
from swaptalk_desktop.ui.wording import FLAG_CONTROLS, gui_wording

LONG_PATH = "/media/editor/" + "a_very_long_folder_name_of_a_project/" * 10 + "take_03.mp4"
LONG_ERROR = f"cannot read {LONG_PATH}: the file is damaged; give --audio or pass --overwrite"
FLAG = re.compile(r"(?<![\w/.-])--[a-z]")
ENGINE = Path(__file__).resolve().parents[2] / "swaptalk_desktop" / "engine"


def sized_window(qtbot, models_dir, size) -> MainWindow:
    """A window that starts at ``size`` (as on a screen of that size)."""
    w = MainWindow(Preferences(model_set="source"), models_dirs=[models_dir])
    w.ask_before_closing = False
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w


def settle(qtbot) -> None:
    qtbot.wait(300)
    QApplication.processEvents()


@pytest.mark.parametrize("size", [(1280, 720), (1440, 900)], ids=["1280x720", "1440x900"])
def test_every_panel_is_readable_and_a_long_error_does_not_widen_the_window(
        qtbot, models_dir, clip, face_photo, dialogue, size):
    w = sized_window(qtbot, models_dir, size)
    try:
        clip_id = import_and_open(qtbot, w, clip, face_photo, dialogue)
        w.controller.push(SetMarks(clip_id, 5, 20))
        w.add_edit()
        # a long error everywhere one can appear: status bar, job card, inspector, viewer
        w.show_error(LONG_ERROR)
        w.jobs_panel.update_record(JobRecord("x", "export", f"Export {LONG_PATH}",
                                             state="failed", error=LONG_ERROR))
        w.inspector.set_status(LONG_ERROR)
        w.viewer.set_status(LONG_ERROR)
        settle(qtbot)
        assert (w.width(), w.height()) == size
        hint = w.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 720, hint
        assert w.minimumWidth() <= 1280
        sizes = {d.windowTitle(): (d.width(), d.height()) for d in w.docks}
        assert all(d.isVisible() for d in w.docks)
        for title in ("Media", "Jobs", "Markers", "Edit Inspector"):
            assert sizes[title][0] >= 200, sizes
            assert sizes[title][1] >= 120, sizes
        assert sizes["Edit Inspector"][0] >= 300, sizes
        assert sizes["Timeline"][1] >= 180, sizes
        assert w.viewer.canvas.width() >= 320 and w.viewer.canvas.height() >= 180
        # nothing is cut off inside the inspector: its form fits its width
        form = w.inspector.scroll.widget()
        assert form.width() <= w.inspector.scroll.viewport().width()
        # a shortened text keeps the whole of it as its tooltip
        w.inspector.set_status(LONG_ERROR)
        assert w.inspector.status.shown_text().endswith("…")
        assert w.inspector.status.toolTip() == w.inspector.status.text() == LONG_ERROR
        assert "take_03.mp4" in w.statusBar().toolTip()
    finally:
        w.shutdown()


@pytest.fixture
def edited(qtbot, window, clip, face_photo, dialogue):
    w = window
    clip_id = import_and_open(qtbot, w, clip, face_photo, dialogue)
    w.controller.push(SetMarks(clip_id, 5, 20))
    w.add_edit()
    return w, clip_id, w.controller.project.clips[clip_id].edits[0]


def test_a_range_is_written_one_way_in_every_view(qtbot, edited):
    w, clip_id, edit = edited
    fps = w.info.nominal_fps
    text = format_range(5, 20, fps)
    assert w.statusBar().currentMessage() == "added Edit 1: " + text  # the status bar
    assert text == "00:00:00:05\u201300:00:00:19 \u00b7 15 frames"  # out = the last frame
    w.select_edit(edit.id)
    assert w.inspector.range_text.text() == text                     # inspector
    assert w.inspector.title.text() == "Edit 1"                      # as the timeline names it
    assert text in w.timeline._edit_tooltip(edit.id)                 # the edit bar
    w.select_edit(None)
    assert text in w.inspector.empty_text.text()                     # the marks
    dialog = w.export_dialog()                                       # the export dialog
    try:
        assert text in dialog.range.text()
    finally:
        dialog.reject()
    job_id = w.process_edits([edit.id])[0]                           # the jobs list
    try:
        assert text in w.jobs.record(job_id).title
    finally:
        w.jobs.cancel(job_id)
        wait_job(qtbot, w, job_id)


def test_progress_is_one_number_in_the_card_the_inspector_and_the_edit_bar(qtbot, edited):
    w, clip_id, edit = edited
    w.select_edit(edit.id)
    job = w.job_for(edit.id)
    record = JobRecord("fake", "process", "Process it", state="running", stage="render",
                       done=30, total=40, payload={"jobs": [job.describe()]})
    w.jobs._jobs_of[record.id] = [job]
    w.jobs._on_record(dataclasses.replace(record, stage="track", done=40, total=40))
    w.jobs._on_record(record)  # render 30/40: the whole job is (1 + 2 * 0.75) / 3
    qtbot.waitUntil(lambda: "83%" in w.inspector.status.text(), timeout=WAIT_MS)
    p = w.jobs.progress.get("fake")
    assert p.fraction == pytest.approx(2.5 / 3)
    assert "83%" in w.jobs_panel.state_text("fake")
    view = w.timeline.state.edits[edit.id]
    assert view.status == "running" and view.progress == pytest.approx(p.fraction)
    assert p.text() in w.inspector.status.text() and p.text() in w.jobs_panel.state_text("fake")
    # the stage's own 75 % (what the edit bar used to show beside "0%") appears nowhere
    assert "75%" not in w.inspector.status.text() + w.jobs_panel.state_text("fake")
    w.jobs._on_record(dataclasses.replace(record, state="cancelled"))


def _export_stream(warmup_s=2.5, dt=0.25):
    """The events of a one-edit export as the engine sends them: nothing while the models
    load, then track (fast), render (slower), write (the whole clip, fast per frame)."""
    t = 0.0
    yield t, dict(stage="", done=0, total=0)
    t += warmup_s
    for stage, total, fps in (("track", 100, 25.0), ("render", 100, 12.0), ("write", 750, 90.0)):
        done = 0
        while done < total:
            t += dt
            done = min(total, done + max(1, round(fps * dt)))
            yield t, dict(stage=stage, done=done, total=total, fps=fps,
                          eta_s=(total - done) / fps)


def test_the_eta_counts_down_smoothly_through_the_stages():
    now = [0.0]
    book = ProgressBook(clock=lambda: now[0])
    base = JobRecord("e", "export", "Export", state="running", payload={"jobs": [{}]})
    shown, raw = [], []
    for t, fields in _export_stream():
        now[0] = t
        p = book.update(dataclasses.replace(base, **fields))
        shown.append((t, p.eta_s, p.fraction))
        raw.append(fields.get("eta_s"))
    end = shown[-1][0]
    fractions = [f for _, _, f in shown]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    etas = [(t, e) for t, e, _ in shown if e is not None]
    assert etas and etas[0][0] <= 2.5 + 3.5  # an estimate soon after the warm-up
    for (t0, e0), (t1, e1) in zip(etas, etas[1:], strict=False):
        expected = max(e0 - (t1 - t0), 0.0)
        if t1 > end - 3:  # the last seconds: a few seconds either way is no jump
            break
        assert abs(e1 - expected) <= 0.3 * max(e0, 1.0), (t1, e0, e1)
    # the engine's stage ETA jumps at every stage (the bug): the shown one never does
    jumps = [b - a for a, b in zip(raw, raw[1:], strict=False) if a is not None and b is not None]
    assert max(jumps) > 3
    # and it is roughly right: halfway through the time, within 40 % of the truth
    t_mid, e_mid = min(etas, key=lambda te: abs(te[0] - end / 2))
    assert abs(e_mid - (end - t_mid)) <= 0.4 * (end - t_mid)


def test_no_eta_during_the_warm_up():
    now = [0.0]
    book = ProgressBook(clock=lambda: now[0])
    base = JobRecord("w", "process", "P", state="running", payload={"jobs": [{}]})
    for t, done in ((0.0, 0), (0.5, 1), (1.5, 2)):  # a slow first batch says nothing
        now[0] = t
        p = book.update(dataclasses.replace(base, stage="track", done=done, total=100))
        assert p.eta_s is None and "estimating" in p.text()


# --- engine messages in the GUI --------------------------------------------------------------
def _engine_flag_messages() -> list[str]:
    """The literal text of every message the engine raises that names a flag."""
    found = []
    for path in sorted(ENGINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                parts = [n.value for n in ast.walk(node.exc)
                         if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                text = "".join(parts)
                if FLAG.search(text):
                    found.append(text)
    return found


def test_every_engine_message_with_a_flag_is_worded_for_the_gui():
    messages = _engine_flag_messages()
    assert len(messages) >= 5  # --overwrite, --audio-offset, --face/--audio, ...
    for message in messages:
        worded = gui_wording(message)
        assert not FLAG.search(worded), (message, worded)
    assert set(FLAG_CONTROLS) >= {"--face", "--audio", "--overwrite", "--audio-offset"}


def test_an_engine_error_shown_by_the_gui_names_the_export_dialogs_control(
        qtbot, edited, tmp_path):
    w, clip_id, edit = edited
    existing = tmp_path / "taken.mp4"
    existing.write_bytes(b"not empty")
    job_id = w.export(ExportRequest(existing, None, EncodeSettings(preset="ultrafast"),
                                    "replace", overwrite=False))
    wait_job(qtbot, w, job_id)
    record = w.jobs.record(job_id)
    assert record.state == "failed" and "--overwrite" in record.error  # the engine's words
    for shown in (w.statusBar().currentMessage(), w.jobs_panel.state_text(job_id)):
        assert not FLAG.search(shown), shown
        assert "Replace the file if it exists" in shown
    assert isinstance(w.findChild(ExportDialog), (ExportDialog, type(None)))
