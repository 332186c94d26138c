"""Project files that cannot be opened (a dialog with the reason, the backup offered), the
backup a save keeps, a crashed session's autosave offered however a project is opened, and
every failed import listed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QPushButton

from swaptalk_desktop.app.media_import import describe_file
from swaptalk_desktop.core.commands import AddClip, AddMedia, SetMarks
from swaptalk_desktop.core.project import Project
from swaptalk_desktop.core.project_io import (
    autosave_path,
    backup_path,
    load_project,
    save_project,
    write_autosave,
)
from swaptalk_desktop.core.undo import UndoStack
from swaptalk_desktop.ui.dialogs import ImportErrorsDialog, OpenFailedDialog, RecoveryDialog

SCREENSHOT = Path(os.environ.get("SWAPTALK_DIALOG_SHOT", "/tmp/swaptalk_corrupt_project.png"))


def make_project(folder: Path, clip: Path, photo: Path, name: str = "take.swaptalk",
                 label: str = "") -> tuple[Path, str]:
    """A saved project with the clip (open) and the photo; ``label`` goes in its settings."""
    folder.mkdir(parents=True, exist_ok=True)
    project = Project(settings={"model_set": "source", "provider": "auto", "note": label})
    stack = UndoStack(project)
    video, _ = describe_file(clip)
    face, _ = describe_file(photo)
    stack.push(AddMedia(video))
    stack.push(AddMedia(face))
    stack.push(AddClip(video.id))
    path = folder / name
    save_project(project, path)
    return path, video.id


def failed_dialog(qtbot, w) -> OpenFailedDialog:
    qtbot.waitUntil(lambda: w.findChild(OpenFailedDialog) is not None, timeout=5000)
    dialog = w.findChild(OpenFailedDialog)
    assert dialog.isVisible()
    return dialog


def close(qtbot, dialog: QMessageBox, button) -> None:
    button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)


def test_a_cut_off_project_shows_why_and_the_open_project_stays(qtbot, window, clip,
                                                                 face_photo, tmp_path):
    w = window
    good, clip_id = make_project(tmp_path / "good", clip, face_photo)
    assert w.open_project(good)
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    broken, _ = make_project(tmp_path / "broken", clip, face_photo, "broken.swaptalk")
    text = broken.read_text()
    broken.write_text(text[: len(text) // 2])  # cut off, as a full disk or a copy would leave
    line = len(text[: len(text) // 2].rstrip().splitlines())

    assert not w.open_project(broken)
    dialog = failed_dialog(qtbot, w)
    assert dialog.windowTitle() == "Cannot open project"
    assert dialog.text() == "Cannot open broken.swaptalk"
    info = dialog.informativeText()
    assert f"broken.swaptalk is damaged (not valid JSON: the file ends early, at line {line}; " \
           "it was cut off" in info
    assert str(broken) in info and "still open" in info
    assert dialog.backup_button is None  # never saved twice: no backup to offer
    dialog.grab().save(str(SCREENSHOT))
    assert "ends early" in w.statusBar().currentMessage()

    close(qtbot, dialog, dialog.button(QMessageBox.StandardButton.Close))
    # The window goes on with the project it had: editable, savable.
    assert w.controller.path == good and clip_id in w.controller.project.clips
    assert w.clip_id == clip_id and w.info is not None
    assert w.controller.push(SetMarks(clip_id, 2, 9))
    assert w.controller.save()
    assert load_project(good).clips[clip_id].mark_out == 9


def test_a_newer_project_names_both_versions(qtbot, window, tmp_path):
    w = window
    path = tmp_path / "future.swaptalk"
    path.write_text(json.dumps({"format": "swaptalk-desktop-project", "schema_version": 3,
                                "media": [], "clips": []}))
    backup_path(path).write_text(path.read_text())  # a backup made by the newer version too
    assert not w.open_project(path)
    dialog = failed_dialog(qtbot, w)
    info = dialog.informativeText()
    assert "future.swaptalk was made by a newer SwapTalk Desktop (schema 3; this version " \
           "reads up to 2); update SwapTalk Desktop to open it" in info
    assert dialog.backup_button is None  # the file is intact: its backup would not help
    close(qtbot, dialog, dialog.button(QMessageBox.StandardButton.Close))
    assert w.controller.path is None and not w.controller.dirty


def test_saving_keeps_the_save_before_and_a_damaged_file_offers_it(qtbot, window, clip,
                                                                    face_photo, tmp_path):
    w = window
    path, clip_id = make_project(tmp_path, clip, face_photo)
    assert w.open_project(path)
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    w.controller.push(SetMarks(clip_id, 3, 12))
    assert w.controller.save()
    first = path.read_bytes()
    assert backup_path(path).is_file()  # the file as make_project saved it
    w.controller.push(SetMarks(clip_id, 4, 20))
    assert w.controller.save()
    assert backup_path(path).read_bytes() == first  # the backup holds the first save
    assert load_project(path).clips[clip_id].mark_out == 20

    path.write_bytes(path.read_bytes()[:100])  # damaged after the last save
    w.new_project()
    assert not w.open_project(path)
    dialog = failed_dialog(qtbot, w)
    assert "take.swaptalk is damaged" in dialog.informativeText()
    assert "take.swaptalk.bak" in dialog.informativeText()
    assert dialog.backup_button is not None and dialog.backup_button.text() == "Open Backup"
    close(qtbot, dialog, dialog.backup_button)
    # The backup opens as the project itself, unsaved: saving repairs the damaged file.
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    assert w.controller.path == path and w.controller.dirty
    assert w.controller.project.clips[clip_id].mark_out == 12
    assert "backup" in w.statusBar().currentMessage()
    assert w.controller.save()
    assert load_project(path).clips[clip_id].mark_out == 12
    assert backup_path(path).read_bytes() == first  # the damaged file never became the backup


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def crash_left_autosave(path: Path, clip_id: str) -> Path:
    """What a session that crashed with ``path`` open leaves: an autosave with a change that
    was never saved (marks 7-17), stamped by a process that is gone, and no lock."""
    project = load_project(path)
    project.clips[clip_id].mark_in, project.clips[clip_id].mark_out = 7, 17
    written = write_autosave(project, path)
    data = json.loads(written.read_text())
    data["autosave"].update(pid=dead_pid(), process_start=None)
    written.write_text(json.dumps(data))
    return written


def recovery_dialog(qtbot, w, path: Path) -> RecoveryDialog:
    def shown() -> list[RecoveryDialog]:
        return [d for d in w.findChildren(RecoveryDialog) if d.isVisible()]
    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=5000)
    dialog = shown()[0]
    assert dialog.opening == path and [c.project_path for c in dialog.candidates] == [path]
    return dialog


def by_open_dialog(w, path: Path, monkeypatch) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    w.acts.open.trigger()


def by_recent(w, path: Path, monkeypatch) -> None:
    w.controller.recent.add(path)
    w.refresh_recent_menu()
    action = next(a for a in w.recent_menu.actions() if a.text().startswith(path.name))
    action.trigger()


@pytest.mark.parametrize("how", [by_open_dialog, by_recent])
def test_opening_a_crashed_project_offers_its_autosave(qtbot, window, clip, face_photo,
                                                       tmp_path, monkeypatch, how):
    w = window
    path, clip_id = make_project(tmp_path, clip, face_photo)
    autosave = crash_left_autosave(path, clip_id)
    how(w, path, monkeypatch)
    dialog = recovery_dialog(qtbot, w, path)
    assert "did not close normally while take.swaptalk was open" in dialog.findChild(QLabel).text()
    assert sorted(b.text() for b in dialog.findChildren(QPushButton)) == \
        ["Cancel", "Open Saved File", "Recover"]
    dialog.accept()
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    clip_state = w.controller.project.clips[clip_id]
    assert (clip_state.mark_in, clip_state.mark_out) == (7, 17)  # the unsaved change is back
    assert w.controller.path == path and w.controller.dirty
    assert not autosave.exists() or json.loads(autosave.read_text())["autosave"]["pid"] == \
        os.getpid()  # the crashed session's copy is gone (ours may have its name)
    assert w.offer_recovery() is None


def test_declining_the_autosave_opens_the_saved_file_or_nothing(qtbot, window, clip,
                                                                 face_photo, tmp_path):
    w = window
    path, clip_id = make_project(tmp_path, clip, face_photo)
    autosave = crash_left_autosave(path, clip_id)
    assert w.open_project(path)
    dialog = recovery_dialog(qtbot, w, path)
    dialog.reject()  # Cancel: nothing opens, the autosave stays for later
    assert w.controller.path is None and autosave.is_file()
    assert w.open_project(path)
    dialog = recovery_dialog(qtbot, w, path)
    dialog.done(RecoveryDialog.DISCARD)  # Open Saved File
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    assert w.controller.path == path and not w.controller.dirty
    assert w.controller.project.clips[clip_id].mark_out is None  # as saved
    assert not autosave.exists() or json.loads(autosave.read_text())["autosave"]["pid"] == \
        os.getpid()


def test_the_command_line_offers_the_autosave_of_its_project(qtbot, clip, face_photo, tmp_path,
                                                             models_dir, monkeypatch):
    from swaptalk_desktop.ui.app import create_window
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # create_window installs its own
    path, clip_id = make_project(tmp_path, clip, face_photo)
    crash_left_autosave(path, clip_id)
    _, w = create_window([str(path), "--models-dir", str(models_dir)])
    qtbot.addWidget(w)
    w.ask_before_closing = False
    try:
        w.show()
        dialog = recovery_dialog(qtbot, w, path)
        dialog.accept()
        qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
        assert w.controller.project.clips[clip_id].mark_out == 17
    finally:
        w.shutdown()
    # --no-recovery opens the file as saved and leaves the autosave alone.
    path2, clip2 = make_project(tmp_path / "two", clip, face_photo)
    left = crash_left_autosave(path2, clip2)
    _, w = create_window([str(path2), "--no-recovery", "--models-dir", str(models_dir)])
    qtbot.addWidget(w)
    w.ask_before_closing = False
    try:
        assert w.findChild(RecoveryDialog) is None and w.controller.path == path2
        assert w.controller.project.clips[clip2].mark_out is None and left.is_file()
    finally:
        w.shutdown()
    assert autosave_path(path2) == left


def test_every_failed_import_is_listed_with_its_reason(qtbot, window, clip, tmp_path):
    w = window
    # a broken RIFF header, not random bytes: random noise was once read as audio (3 of 4 listed)
    bad = {"empty.mp4": b"", "notes.mov": b"just some text, not a movie\n" * 20,
           "noise.wav": b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(4080),
           "broken.png": b"\x89PNG\r\n\x1a\n garbage"}
    paths = []
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    w.import_files([clip, *paths])
    qtbot.waitUntil(lambda: w.findChild(ImportErrorsDialog) is not None, timeout=WAIT_MS)
    dialog = w.findChild(ImportErrorsDialog)
    assert dialog.isVisible()
    lines = dialog.lines()
    assert len(lines) == 4
    for name in bad:
        line = next(x for x in lines if name in x)
        reason = line.split(name, 1)[1].strip(" :")
        assert len(reason) > 8, line  # a reason, not only the name
    assert any("not a readable image" in x for x in lines)
    assert dialog.findChild(QLabel).text() == "4 of 5 files could not be imported:"
    print("\n".join(lines))
    qtbot.waitUntil(lambda: len(w.controller.project.media) == 1, timeout=WAIT_MS)  # the clip
    dialog.accept()
    qtbot.waitUntil(lambda: w.findChild(ImportErrorsDialog) is None, timeout=5000)
