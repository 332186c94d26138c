"""The job queue: order, progress, cancel, failure, retry and recovery payloads."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from render_helpers import save_png

from swaptalk_desktop.engine import (
    EditOptions,
    EngineContext,
    JobQueue,
    RangeJob,
    RunOptions,
    range_status,
)
from swaptalk_desktop.engine.workdir import JobFolder
from swaptalk_desktop.inference import ModelRegistry

WAIT_S = 300  # a generous bound only against a hang; nothing here is timed


def job_for(clip, start, stop, **kwargs) -> RangeJob:
    run = RunOptions(model_set="tint", chunk_frames=8, batch_size=4)
    return RangeJob(video=clip, start=start, stop=stop,
                    edit=EditOptions(color_match=False, swap_method="latent"), run=run, **kwargs)


def process_payload(*jobs: RangeJob) -> dict:
    return {"kind": "process", "jobs": [j.describe() for j in jobs]}


class Recorder:
    """Collects every record the queue reports, from whichever thread reports it."""

    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()
        self.hook = None

    def __call__(self, record):
        with self.lock:
            self.seen.append(record)
        if self.hook is not None:
            self.hook(record)

    def of(self, title):
        return [r for r in self.seen if r.title == title]


@pytest.fixture
def make_queue(models_dir):
    queues = []

    def make(on_change=None, start=True):
        def context():  # built on the worker thread, as the app does
            return EngineContext(ModelRegistry(extra_dirs=[models_dir / "tint"],
                                               include_builtin=False, include_user=False))
        queue = JobQueue(context, on_change, start=start)
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.shutdown()


def test_jobs_run_in_order_a_failure_does_not_stop_the_queue(make_queue, clip, dialogue,
                                                             tmp_path):
    blank = tmp_path / "blank.png"
    save_png(blank, np.full((256, 256, 3), 128, np.uint8))
    seen = Recorder()
    queue = make_queue(seen)
    job = job_for(clip, 0, 8, audio=dialogue)
    out = tmp_path / "export.mp4"
    a = queue.submit("process", "A", process_payload(job))
    b = queue.submit("process", "B", process_payload(job_for(clip, 0, 8, face=blank)))
    c = queue.submit("export", "C", {"video": str(clip), "jobs": [job.describe()],
                                     "output": str(out), "audio_mode": "replace",
                                     "encode": {"crf": 0, "preset": "ultrafast"}})
    assert [a.state, b.state, c.state] == ["queued"] * 3
    assert queue.wait_idle(WAIT_S)

    records = {r.title: r for r in queue.records()}
    assert [r.title for r in queue.records()] == ["A", "B", "C"]
    assert [r.title for r in seen.seen if r.state == "running" and r.stage == ""] == \
        ["A", "B", "C"]
    assert {t: r.state for t, r in records.items()} == {"A": "done", "B": "failed",
                                                         "C": "done"}
    assert "blank.png" in records["B"].error and "\n" not in records["B"].error
    # progress: every stage of A reported, counting up to its total
    stages = [(r.stage, r.done, r.total) for r in seen.of("A") if r.stage]
    assert {s for s, _, _ in stages} == {"track", "render"}
    for stage in ("track", "render"):
        done = [d for s, d, _ in stages if s == stage]
        assert done == sorted(done) and done[-1] == 8
    assert any(s == "write" for s, _, _ in [(r.stage, r.done, r.total) for r in seen.of("C")])
    assert records["A"].result[0].chunks_rendered == 1
    assert records["C"].result.chunks_reused == 1 and out.exists()  # A's chunk, reused

    assert queue.retry(b.id) and not queue.retry(a.id)  # only failed/cancelled jobs retry
    assert queue.wait_idle(WAIT_S)
    assert [r.state for r in seen.of("B")].count("running") >= 2
    assert queue.record(b.id).state == "failed"


def test_cancel_running_job_keeps_chunks_and_retry_resumes(make_queue, ctx, clip, dialogue,
                                                           monkeypatch):
    seen = Recorder()
    queue = make_queue(seen)
    job = job_for(clip, 0, 40, audio=dialogue)
    original = JobFolder.save_chunk
    state = {"id": None, "armed": True}

    def save_then_cancel_after_two(self, index, crops, present):
        original(self, index, crops, present)
        if state["armed"] and len(self.finished_chunks()) == 2:
            state["armed"] = False
            queue.cancel(state["id"])

    monkeypatch.setattr(JobFolder, "save_chunk", save_then_cancel_after_two)
    record = queue.submit("process", "long", process_payload(job))
    state["id"] = record.id
    assert queue.wait_idle(WAIT_S)
    assert queue.record(record.id).state == "cancelled"
    assert queue.record(record.id).error is None
    assert range_status(job, ctx) == (2, 5)
    assert queue.unfinished_payloads() == []

    assert queue.retry(record.id)
    assert queue.wait_idle(WAIT_S)
    again = queue.record(record.id)
    assert again.state == "done"
    assert (again.result[0].chunks_reused, again.result[0].chunks_rendered) == (2, 3)
    assert range_status(job, ctx) == (5, 5)


def test_unfinished_payloads_rebuild_the_same_jobs(make_queue, clip, dialogue, face_photo,
                                                   tmp_path):
    seen = Recorder()
    queue = make_queue(seen, start=False)  # nothing runs: the jobs stay unfinished
    jobs = [job_for(clip, 0, 8, audio=dialogue, audio_offset=-0.25),
            RangeJob(video=clip, start=10, stop=20, face=face_photo,
                     edit=EditOptions(swap=True, sync=False, feather=5.0, strength=0.5,
                                      target="reference", target_photo=face_photo),
                     run=RunOptions(model_set="source", chunk_frames=4, provider="cpu"))]
    a = queue.submit("process", "Process 2 edits", process_payload(*jobs))
    b = queue.submit("export", "Export", {"video": str(clip), "jobs": [jobs[0].describe()],
                                          "output": str(tmp_path / "o.mp4"), "encode": {}})
    saved = json.loads(json.dumps(queue.unfinished_payloads()))  # as a project file keeps it
    assert [p["title"] for p in saved] == ["Process 2 edits", "Export"]
    assert [p["kind"] for p in saved] == ["process", "export"]
    assert [RangeJob.from_description(d) for d in saved[0]["jobs"]] == jobs

    assert queue.cancel(b.id) and queue.record(b.id).state == "cancelled"
    assert [p["title"] for p in queue.unfinished_payloads()] == ["Process 2 edits"]
    assert queue.remove(a.id) and [r.title for r in queue.records()] == ["Export"]
    assert not queue.cancel(a.id) and not queue.remove(a.id)
    with pytest.raises(ValueError, match="kind"):
        queue.submit("render", "x", {})
    assert [r.state for r in seen.seen] == ["queued", "queued", "cancelled"]
