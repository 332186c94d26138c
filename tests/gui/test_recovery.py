"""Kill the editor mid-job with SIGKILL; the next start offers the autosave, re-queues the job
and the engine reuses the chunks rendered before the kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS, open_window, wait_job

from swaptalk_desktop.app.media_import import describe_file
from swaptalk_desktop.app.project_jobs import job_for_edit
from swaptalk_desktop.core.commands import AddClip, AddEdit, AddMedia
from swaptalk_desktop.core.project import Project, RangeEdit
from swaptalk_desktop.core.project_io import save_project
from swaptalk_desktop.core.recovery import autosave_dir
from swaptalk_desktop.core.undo import UndoStack
from swaptalk_desktop.engine import EngineContext
from swaptalk_desktop.engine.prepare import prepared_for
from swaptalk_desktop.engine.process import render_folder
from swaptalk_desktop.eval.synthetic_clip import write_moving_face_clip
from swaptalk_desktop.inference import ModelRegistry
from swaptalk_desktop.ui.dialogs import RecoveryDialog

DRIVER = Path(__file__).with_name("app_driver.py")
FRAMES, CHUNK = 150, 3


def make_project(folder: Path, photo: Path) -> tuple[Path, Project, str, str]:
    clip = write_moving_face_clip(folder / "long_take.mp4", n=FRAMES, width=320, height=240,
                                  face_height=0.9)
    project = Project(settings={"model_set": "source", "provider": "auto",
                                "chunk_frames": CHUNK})
    stack = UndoStack(project)
    video, _ = describe_file(clip)
    face, _ = describe_file(photo)
    stack.push(AddMedia(video))
    stack.push(AddMedia(face))
    stack.push(AddClip(video.id))
    edit = RangeEdit.new(0, FRAMES, photo_id=face.id, label="whole take")
    stack.push(AddEdit(video.id, edit))
    path = folder / "take.swaptalk"
    save_project(project, path)
    return path, project, video.id, edit.id


def chunk_files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.glob("chunk_*.npz")}


def autosave_with_job() -> Path | None:
    for path in autosave_dir().glob("*"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("project", {}).get("pending_jobs"):
            return path
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").is_dir() and "Z" not in \
        Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]


def test_kill_mid_job_then_recover(qtbot, tmp_path, models_dir, face_photo):
    path, project, clip_id, edit_id = make_project(tmp_path, face_photo)
    ctx = EngineContext(ModelRegistry(extra_dirs=[models_dir]))
    chunks = render_folder(prepared_for(job_for_edit(project, clip_id, edit_id), ctx)).path
    total = -(-FRAMES // CHUNK)

    proc = subprocess.Popen([sys.executable, str(DRIVER), str(path), str(models_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    host_pid = None
    try:
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:  # read the driver's lines until chunks appear
            line = proc.stdout.readline()
            assert line, "the app exited before it was killed"
            event = json.loads(line)
            host_pid = event.get("host_pid") or host_pid
            done = len(chunk_files(chunks)) if chunks.is_dir() else 0
            if done >= 2 and autosave_with_job() is not None:
                break
        else:
            pytest.fail("no chunk was rendered in time")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = chunk_files(chunks)
    assert 2 <= len(before) < total, "the kill did not land mid-way"
    assert host_pid is not None
    for _ in range(100):  # the processing host dies with the app
        if not alive(host_pid):
            break
        time.sleep(0.05)
    assert not alive(host_pid)
    time.sleep(0.3)
    assert chunk_files(chunks) == before  # nothing renders after the kill

    # The next start finds the crashed session's autosave and offers it.
    w = open_window(qtbot, models_dir)
    try:
        dialog = w.offer_recovery()
        assert isinstance(dialog, RecoveryDialog)
        assert dialog.chosen().project_path == path
        dialog.accept()
        qtbot.waitUntil(lambda: bool(w.jobs.records()), timeout=WAIT_MS)
        recovered = w.controller.project
        assert recovered.clips[clip_id].edits[0].id == edit_id
        assert w.controller.path == path and w.controller.dirty
        record = w.jobs.records()[0]
        wait_job(qtbot, w, record.id)
        record = w.jobs.record(record.id)
        assert record.state == "done", record.error
        result = record.result[0]
        assert result["chunks_reused"] >= len(before)
        assert result["chunks_reused"] + result["chunks_rendered"] == total
        after = chunk_files(chunks)
        assert len(after) == total
        assert {k: after[k] for k in before} == before  # reused, not rendered again
        assert w.offer_recovery() is None  # recovered once, not offered again
    finally:
        w.shutdown()
