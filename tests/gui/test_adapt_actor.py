"""Adapt to This Actor on the real window: the dialog shows the usable footage outside the
edit ranges and the estimate, the job runs in the processing host's child process with
progress in the Jobs panel, and the clip's edits then use the adapted set (undoable, saved with
the project, shown in the inspector and the status bar); Cancel stops it with its checkpoint
and Retry resumes from it. A tiny base set and a few steps keep it cheap."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")  # the adaptation itself needs the training extras
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from adapt_helpers import BASE_ID, talking_clip, tiny_base_dir  # noqa: E402
from gui_helpers import import_and_open  # noqa: E402

from swaptalk_desktop.app.job_progress import JobProgress  # noqa: E402
from swaptalk_desktop.app.preferences import Preferences  # noqa: E402
from swaptalk_desktop.core.commands import SetEditField, SetMarks  # noqa: E402
from swaptalk_desktop.core.project_io import load_project  # noqa: E402
from swaptalk_desktop.engine.adapt_job import work_folder  # noqa: E402
from swaptalk_desktop.inference import ModelRegistry  # noqa: E402
from swaptalk_desktop.ui.adapt_dialog import AdaptDialog  # noqa: E402
from swaptalk_desktop.ui.jobs_panel import status_line  # noqa: E402
from swaptalk_desktop.ui.main_window import MainWindow  # noqa: E402

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


@pytest.fixture
def adapting(qtbot, models_dir, tmp_path_factory):
    """The window over the test sets and the tiny base set, with the talking clip open and one
    edit over frames [30, 45)."""
    torch.set_num_threads(1)
    base = tiny_base_dir(tmp_path_factory)
    w = MainWindow(Preferences(model_set="source"), models_dirs=[models_dir, base])
    w.ask_before_closing = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    clip_id = import_and_open(qtbot, w, talking_clip(tmp_path_factory))
    w.controller.push(SetMarks(clip_id, 30, 45))
    w.add_edit()
    edit = w.controller.project.clips[clip_id].edits[0]
    records: list = []
    w.jobs.recordChanged.connect(records.append)
    yield w, clip_id, edit, records
    w.shutdown()


def start_adapt(w, steps: int) -> str:
    w.acts.adapt_actor.trigger()
    dialog = w.adapt.dialog
    assert isinstance(dialog, AdaptDialog) and dialog.isVisible()
    dialog.base.setCurrentIndex(dialog.base.findData(BASE_ID))
    dialog.minutes.setValue(0)  # all of the usable footage
    dialog.steps.setValue(steps)
    assert dialog.start_button.isEnabled(), dialog.error.text()
    dialog.start_button.click()
    assert not dialog.isVisible()
    return next(r.id for r in w.jobs.records() if r.kind == "adapt" and not r.finished)


def test_adapt_to_this_actor(qtbot, adapting, tmp_path):
    w, clip_id, edit, records = adapting
    w.acts.adapt_actor.trigger()
    dialog = w.adapt.dialog
    dialog.base.setCurrentIndex(dialog.base.findData(BASE_ID))
    dialog.minutes.setValue(0)
    # 75 frames; [30, 45) and the 0.1 s of sound either side (frames 28-47) are left out
    assert "(55 frames)" in dialog.usable.text() and "1 edit range(s)" in dialog.usable.text()
    assert dialog.set_id.text() == SET_ID
    assert dialog.estimate_text.text().startswith("<b>About ")
    dialog.reject()

    job_id = start_adapt(w, steps=4)
    wait_job(qtbot, w, job_id)
    record = w.jobs.record(job_id)
    assert record.state == "done", record.error
    assert record.result["set_id"] == SET_ID and record.result["excluded"] == [[30, 45]]

    # progress on the way: the whole job's fraction grows, with time left and the stage named
    mine = [r for r in records if r.id == job_id and r.state == "running" and r.fraction]
    fractions = [r.fraction for r in mine]
    assert fractions == sorted(fractions) and fractions[-1] > 0.9
    lines = [status_line(r, JobProgress(r.state, r.fraction, r.job_eta_s)) for r in mine]
    assert any("fine-tuning the decoder" in s and "steps" in s and "left" in s for s in lines)
    assert any("fine-tuning the lip sync" in s for s in lines)

    # the clip's edits use the adapted set, which the inspector and the status bar show
    project = w.controller.project
    qtbot.waitUntil(lambda: project.clips[clip_id].model_set == SET_ID, timeout=WAIT_MS)
    assert w.job_for(edit.id).run.model_set == SET_ID
    w.select_edit(edit.id)
    assert SET_ID in w.inspector.models.text()
    assert SET_ID in w.provider_label.text()
    base = ModelRegistry(extra_dirs=w.model_dirs())
    assert f"{SET_ID}-decode" in [e.id for e in base.get_set(SET_ID).stages["decode"]]

    # the edit renders through it (its own sound as dialogue, so the adapted sync runs)
    w.controller.push(SetEditField(clip_id, edit.id, "audio_id", clip_id))
    queued = w.process_edits([edit.id])
    wait_job(qtbot, w, queued[0])
    assert w.jobs.record(queued[0]).state == "done", w.jobs.record(queued[0]).error

    # undoable, and saved with the project (an optional field of the clip)
    w.controller.undo_stack.undo()  # the dialogue
    w.controller.undo_stack.undo()  # the model set
    assert project.clips[clip_id].model_set is None
    assert w.job_for(edit.id).run.model_set == "source"
    w.controller.undo_stack.redo()
    assert project.clips[clip_id].model_set == SET_ID
    saved = tmp_path / "adapted.swaptalk"
    assert w.controller.save_as(saved)
    assert json.loads(saved.read_text())["clips"][0]["model_set"] == SET_ID
    assert load_project(saved).clips[clip_id].model_set == SET_ID


def test_cancel_keeps_the_checkpoint_and_retry_resumes(qtbot, adapting):
    w, clip_id, edit, records = adapting
    job_id = start_adapt(w, steps=400)
    training = lambda: [r for r in records if r.id == job_id and r.stage == "train vqgan"]  # noqa
    qtbot.waitUntil(lambda: any(r.done >= 2 for r in training()), timeout=WAIT_MS)
    card = w.jobs_panel._cards[job_id][1]
    assert card.cancel.isVisible()
    card.cancel.click()
    wait_job(qtbot, w, job_id)
    assert w.jobs.record(job_id).state == "cancelled"
    run = work_folder(SET_ID) / "vqgan"
    saved = json.loads((run / "state.json").read_text())["step"]
    assert 2 <= saved < 400  # the stop saved the step it reached
    assert w.controller.project.clips[clip_id].model_set is None
    assert card.retry.isVisible()

    before = len(records)
    card.retry.click()
    qtbot.waitUntil(lambda: any(r.stage == "train vqgan" for r in records[before:]
                                if r.id == job_id), timeout=WAIT_MS)
    first = next(r for r in records[before:] if r.id == job_id and r.stage == "train vqgan")
    assert first.done == saved  # resumed from the checkpoint, not from step 0
    card.cancel.click()
    wait_job(qtbot, w, job_id)
    assert w.jobs.record(job_id).state == "cancelled"
