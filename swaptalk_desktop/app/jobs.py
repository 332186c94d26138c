"""The editor's jobs without Qt: the engine's ``JobQueue`` whose runner hands each payload to
the processing host (job_client.py), the records as last seen by the views, each job's one
progress (job_progress.py) and the cache status of edits.

``engine.jobs.JobQueue`` keeps the records (state, progress, errors, retry, recovery payloads)
on its worker thread and reports every change to ``on_change`` there; the owner brings each
change to the thread the views read on and passes it to :meth:`JobManager.record_changed`
(ui/job_bridge.py does it with a queued Qt signal).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core import wire
from ..core.cancel import CancelToken
from ..engine import RangeJob, range_status
from ..engine.jobs import JobQueue, JobRecord
from ..media import EncodeSettings
from .job_client import HostClient
from .job_progress import JobProgress, ProgressBook

__all__ = ["ExportRequest", "JobManager", "JobRecord"]


@dataclass(frozen=True)
class ExportRequest:
    output: Path
    span: tuple[int, int] | None
    """None: the whole clip; else frames [start, stop) written as their own file."""
    encode: EncodeSettings
    audio_mode: str
    overwrite: bool
    sequence: bool = False
    """True: the sequence (every clip in order, trimmed) to one MP4; ``span`` is then None
    (the whole sequence) or its marked range in sequence frames."""


class JobManager:
    def __init__(self, models_dirs: Callable[[], list[Path]],
                 on_change: Callable[[JobRecord], None], log_path: Path | None = None):
        self._models_dirs = models_dirs
        self.client = HostClient(models_dirs(), log_path)
        self.status: dict[RangeJob, tuple[int, int]] = {}
        """Finished and total chunks of each edit's job in the cache, as last measured."""
        self.waveforms: dict[Path, object] = {}
        self._asked: set[RangeJob] = set()
        self._records: dict[str, JobRecord] = {}
        self._jobs_of: dict[str, list[RangeJob]] = {}
        self.progress = ProgressBook()
        """Each job's whole-job fraction and smoothed time left, read by every view."""
        self.queue = JobQueue(context_factory=lambda: None, on_change=on_change,
                              runner=self._run_in_host)

    # --- the runner (job queue's worker thread) ---------------------------------------------
    def _run_in_host(self, payload: dict, _ctx, progress, cancel: CancelToken):
        return self.client.run(uuid.uuid4().hex, payload,
                               lambda d: progress(wire.progress_event(d)), cancel)

    # --- submitting -------------------------------------------------------------------------
    def submit_process(self, jobs: list[RangeJob], title: str) -> JobRecord:
        payload = {"kind": "process", "jobs": [j.describe() for j in jobs]}
        record = self.queue.submit("process", title, payload)
        self._jobs_of[record.id] = list(jobs)
        return record

    def submit_export(self, video: Path, jobs: list[RangeJob],
                      request: ExportRequest) -> JobRecord:
        e = request.encode
        payload = {"kind": "export", "video": str(video), "jobs": [j.describe() for j in jobs],
                   "output": str(request.output), "audio_mode": request.audio_mode,
                   "overwrite": request.overwrite,
                   "encode": {"video_codec": e.video_codec, "crf": e.crf, "preset": e.preset},
                   "span": list(request.span) if request.span else None}
        record = self.queue.submit("export", f"Export {request.output.name}", payload)
        self._jobs_of[record.id] = list(jobs)
        return record

    def submit_sequence_export(self, parts: list, request: ExportRequest) -> JobRecord:
        """The whole sequence to one MP4 (``parts``: engine ``SequencePart``s in order)."""
        e = request.encode
        jobs = [j for p in parts for j in p.jobs]
        payload = {"kind": "export", "sequence": [p.describe() for p in parts],
                   "jobs": [j.describe() for j in jobs], "output": str(request.output),
                   "audio_mode": request.audio_mode, "overwrite": request.overwrite,
                   "encode": {"video_codec": e.video_codec, "crf": e.crf, "preset": e.preset},
                   "span": list(request.span) if request.span else None}
        record = self.queue.submit("export", f"Export sequence to {request.output.name}",
                                   payload)
        self._jobs_of[record.id] = jobs
        return record

    def submit_adapt(self, payload: dict, title: str) -> JobRecord:
        """An adaptation (engine/adapt_job.py); its payload names the clip it is for."""
        return self.queue.submit("adapt", title, payload)

    def resubmit(self, payload: dict) -> JobRecord:
        """A job saved with the project (crash recovery); a process job reuses its chunks."""
        payload = dict(payload)
        title = payload.pop("title", None) or f"{payload.get('kind', 'job').title()} (recovered)"
        kind = payload.get("kind", "process")
        record = self.queue.submit(kind, title, payload)
        self._jobs_of[record.id] = [RangeJob.from_description(d) for d in payload.get("jobs", [])]
        return record

    def cancel(self, job_id: str) -> None:
        self.queue.cancel(job_id)

    def retry(self, job_id: str) -> None:
        self.queue.retry(job_id)

    def remove(self, job_id: str) -> None:
        self.queue.remove(job_id)
        self._records.pop(job_id, None)
        self.progress.forget(job_id)

    def records(self) -> list[JobRecord]:
        return list(self._records.values())

    def record(self, job_id: str) -> JobRecord | None:
        return self._records.get(job_id)

    def unfinished_payloads(self) -> list[dict]:
        return self.queue.unfinished_payloads()

    def busy(self) -> bool:
        return any(r.state in ("queued", "running") for r in self._records.values())

    # --- records on the views' thread -------------------------------------------------------
    def record_changed(self, record: JobRecord) -> None:
        self._records[record.id] = record
        self.progress.update(record)
        if record.finished:
            for job in self._jobs_of.get(record.id, []):
                self.status.pop(job, None)  # measure again
                self._asked.discard(job)

    def progress_of(self, job: RangeJob) -> JobProgress | None:
        """The progress of the processing or export job that works on ``job``'s range (the
        running one first), as the job card shows it; None when none is queued or runs."""
        queued = None
        for job_id, jobs in self._jobs_of.items():
            record = self._records.get(job_id)
            if record is None or record.state not in ("queued", "running") or job not in jobs:
                continue
            p = self.progress.get(job_id) or self.progress.update(record)
            if record.state == "running":
                return p
            queued = queued or p
        return queued

    # --- cache status of edits --------------------------------------------------------------
    def query_status(self, job: RangeJob, tasks, context, then) -> None:
        """Measure ``job``'s finished chunks once, on ``tasks`` (anything with the ui's
        ``TaskRunner.submit``), then call ``then``."""
        if job in self._asked:
            return
        self._asked.add(job)

        def done(result, job=job):
            self.status[job] = result
            then()

        tasks.submit(lambda: range_status(job, context()), on_done=done,
                     on_error=lambda message, job=job: self.status.__setitem__(job, (0, 0)))

    def forget_status(self) -> None:
        self.status.clear()
        self._asked.clear()

    def reset_context(self) -> None:
        """New model folders: the next job starts a fresh host (once nothing runs)."""
        self.client.models_dirs = [Path(p) for p in self._models_dirs()]
        if not self.busy():
            self.client.close()

    def shutdown(self) -> None:
        self.queue.shutdown(wait=False)
        self.client.close()
        self.queue.shutdown(wait=True, timeout=5)
