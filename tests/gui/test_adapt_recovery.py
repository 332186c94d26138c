"""Kill the editor (SIGKILL) while it adapts a model set: the processing host dies with it, the
adaptation child is told to stop and saves its checkpoint; the next start offers the autosave,
re-queues the adaptation, which resumes from that checkpoint and, when done, gives the clip's
edits the adapted set."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from adapt_helpers import BASE_ID, talking_clip, tiny_base_dir  # noqa: E402

from swaptalk_desktop.app.media_import import describe_file  # noqa: E402
from swaptalk_desktop.app.preferences import Preferences  # noqa: E402
from swaptalk_desktop.core.commands import AddClip, AddEdit, AddMedia  # noqa: E402
from swaptalk_desktop.core.project import Project, RangeEdit  # noqa: E402
from swaptalk_desktop.core.project_io import load_project, save_project  # noqa: E402
from swaptalk_desktop.core.recovery import autosave_dir, write_autosave  # noqa: E402
from swaptalk_desktop.core.undo import UndoStack  # noqa: E402
from swaptalk_desktop.engine.adapt_job import adapt_command, work_folder  # noqa: E402
from swaptalk_desktop.ui.dialogs import RecoveryDialog  # noqa: E402
from swaptalk_desktop.ui.main_window import MainWindow  # noqa: E402

DRIVER = Path(__file__).with_name("adapt_driver.py")
SET_ID = f"{BASE_ID}-astronaut"
# A bound against a hang only: the adaptation runs at the processing host's low priority, which
# on a small machine busy with other work may get little CPU.
WAIT_MS = 1_200_000


def wait_job(qtbot, w, job_id: str, timeout: int = WAIT_MS) -> None:
    try:
        qtbot.waitUntil(lambda: (r := w.jobs.record(job_id)) is not None and r.finished,
                        timeout=timeout)
    except Exception:
        raise AssertionError(f"job {job_id} did not finish: "
                             f"{[(r.id, r.kind, r.state) for r in w.jobs.records()]}") from None
STEPS = 200


def make_project(folder: Path, clip: Path) -> tuple[Path, str]:
    project = Project(settings={"model_set": "source", "provider": "auto"})
    stack = UndoStack(project)
    video, _ = describe_file(clip)
    stack.push(AddMedia(video))
    stack.push(AddClip(video.id))
    stack.push(AddEdit(video.id, RangeEdit.new(30, 45, label="line 7")))
    path = folder / "actor.swaptalk"
    save_project(project, path)
    return path, video.id


def step_of(run: Path) -> int:
    try:
        return int(json.loads((run / "state.json").read_text()).get("step", 0))
    except (OSError, ValueError):
        return 0


def autosaved_adapt_job() -> bool:
    for path in autosave_dir().glob("*"):
        try:
            jobs = json.loads(path.read_text()).get("project", {}).get("pending_jobs") or []
        except (OSError, ValueError):
            continue
        if any(j.get("kind") == "adapt" for j in jobs):
            return True
    return False


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def crashed_autosave(project_path: Path, payload: dict) -> None:
    """What a crashed session leaves: its autosave with the unfinished job, stamped by a
    process that is gone."""
    project = load_project(project_path)
    project.pending_jobs = [payload]
    path = write_autosave(project, project_path)
    data = json.loads(path.read_text())
    data["autosave"].update(pid=dead_pid(), process_start=None)
    path.write_text(json.dumps(data))


def test_recovery_requeues_a_killed_adaptation(qtbot, tmp_path, tmp_path_factory, models_dir):
    """The job side of a crash, in-process: the adaptation the editor would run is killed
    after its first checkpoint; the autosave offered at the next start re-queues it and it
    resumes."""
    torch.set_num_threads(1)
    base = tiny_base_dir(tmp_path_factory)
    clip = talking_clip(tmp_path_factory)
    path, clip_id = make_project(tmp_path, clip)
    payload = {"kind": "adapt", "title": "Adapt to the actor of astronaut.mp4",
               "clip_id": clip_id, "video": str(clip), "base_set": BASE_ID, "set_id": SET_ID,
               "minutes": 0.0, "steps": STEPS, "exclude": [[30, 45]],
               "work": str(work_folder(SET_ID)), "models_dirs": [str(models_dir), str(base)]}
    run = work_folder(SET_ID) / "vqgan"
    proc = subprocess.Popen(adapt_command(payload), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        for _ in proc.stdout:
            if step_of(run) > 0:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    saved = step_of(run)
    assert 0 < saved < STEPS
    crashed_autosave(path, payload)

    w = MainWindow(Preferences(model_set="source"), models_dirs=[models_dir, base])
    w.ask_before_closing = False
    qtbot.addWidget(w)
    records: list = []
    w.jobs.recordChanged.connect(records.append)
    try:
        dialog = w.offer_recovery()
        assert isinstance(dialog, RecoveryDialog)
        dialog.accept()
        qtbot.waitUntil(lambda: bool(w.jobs.records()), timeout=WAIT_MS)
        record = w.jobs.records()[0]
        assert record.kind == "adapt" and record.payload["clip_id"] == clip_id
        wait_job(qtbot, w, record.id)
        assert w.jobs.record(record.id).state == "done", w.jobs.record(record.id).error
        first = next(r for r in records if r.stage == "train vqgan")
        assert first.done == saved  # resumed from the checkpoint the kill left
        project = w.controller.project
        qtbot.waitUntil(lambda: project.clips[clip_id].model_set == SET_ID, timeout=WAIT_MS)
        assert w.job_for(project.clips[clip_id].edits[0].id).run.model_set == SET_ID
    finally:
        w.shutdown()


@pytest.mark.slow
def test_kill_mid_adaptation_then_recover(qtbot, tmp_path, tmp_path_factory, models_dir):
    torch.set_num_threads(1)
    base = tiny_base_dir(tmp_path_factory)
    path, clip_id = make_project(tmp_path, talking_clip(tmp_path_factory))
    work = work_folder(SET_ID)
    proc = subprocess.Popen([sys.executable, str(DRIVER), str(path), BASE_ID, str(STEPS),
                             str(models_dir), str(base)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:  # until the decoder's first checkpoint is saved
            assert proc.stdout.readline(), "the app exited before it was killed"
            if step_of(work / "vqgan") > 0 and autosaved_adapt_job():
                break
        else:
            pytest.fail("the adaptation did not reach its first checkpoint in time")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    for _ in range(3000):  # the adaptation child stops too, after saving its checkpoint
        if not (work / "adapt.lock").exists():
            break
        time.sleep(0.1)
    assert not (work / "adapt.lock").exists(), "the adaptation outlived the editor"
    saved = step_of(work / "vqgan")
    assert 0 < saved < STEPS
    time.sleep(0.5)
    assert step_of(work / "vqgan") == saved  # nothing trains after the kill

    w = MainWindow(Preferences(model_set="source"), models_dirs=[models_dir, base])
    w.ask_before_closing = False
    qtbot.addWidget(w)
    records: list = []
    w.jobs.recordChanged.connect(records.append)
    try:
        dialog = w.offer_recovery()
        assert isinstance(dialog, RecoveryDialog)
        assert dialog.chosen().project_path == path
        dialog.accept()
        qtbot.waitUntil(lambda: bool(w.jobs.records()), timeout=WAIT_MS)
        record = w.jobs.records()[0]
        assert record.kind == "adapt" and record.payload["clip_id"] == clip_id
        wait_job(qtbot, w, record.id, timeout=900_000)
        assert w.jobs.record(record.id).state == "done", w.jobs.record(record.id).error
        first = next(r for r in records if r.stage == "train vqgan")
        assert first.done == saved  # resumed from the checkpoint the stop saved
        project = w.controller.project
        qtbot.waitUntil(lambda: project.clips[clip_id].model_set == SET_ID, timeout=WAIT_MS)
        assert w.job_for(project.clips[clip_id].edits[0].id).run.model_set == SET_ID
        assert w.offer_recovery() is None
    finally:
        w.shutdown()
