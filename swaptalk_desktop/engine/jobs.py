"""A queue of processing and export jobs run one at a time on a worker thread (Qt-free).

The queue is the model behind the jobs panel: each job has a record with its state and the
latest progress, and every change is reported through ``on_change`` so a GUI can re-emit it as
a signal. Payloads are JSON-ready, so unfinished jobs can be saved with the project and
submitted again after a crash. A failing job records its one-line error and the queue goes on.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core.cancel import CancelToken
from ..core.errors import Cancelled, SwapTalkError, internal_error_message
from ..core.progress import ProgressCallback, ProgressEvent
from ..media import EncodeSettings
from .context import EngineContext
from .job import RangeJob
from .process import process_range
from .render import export_clip

log = logging.getLogger(__name__)

JobKind = Literal["process", "export", "adapt"]
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
KINDS = ("process", "export", "adapt")
Runner = Callable[[dict, EngineContext, ProgressCallback, CancelToken], Any]


@dataclass
class JobRecord:
    id: str
    kind: str
    title: str
    state: str = "queued"
    stage: str = ""
    """The engine stage of the latest progress event: track, render or write."""
    done: int = 0
    total: int = 0
    fps: float = 0.0
    eta_s: float | None = None
    fraction: float | None = None
    """Of the whole job when its stages differ in size (adaptation); else done / total."""
    job_eta_s: float | None = None
    """Seconds left of the whole job when it reports them (adaptation)."""
    error: str | None = None
    """The one-line message of a failed job."""
    payload: dict = field(default_factory=dict)
    message: str = ""
    """Extra words of the latest progress event ("edit 2 of 3")."""
    result: Any = None
    """list[ProcessResult] of a process job, the RenderResult of an export, the adapted set
    (``set_id``, ...) of an adaptation, once done."""

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")


def run_payload(payload: dict, ctx: EngineContext, progress: ProgressCallback,
                cancel: CancelToken) -> Any:
    """Run one job payload through the engine (the queue's default runner)."""
    jobs = [RangeJob.from_description(d) for d in payload.get("jobs") or []]
    kind = payload.get("kind")
    if kind == "process":
        results = []
        for k, job in enumerate(jobs):
            sink = progress if len(jobs) == 1 else _labelled(progress, k, len(jobs))
            results.append(process_range(job, ctx=ctx, progress=sink, cancel=cancel))
        return results
    if kind == "adapt":  # training runs in its own process (it needs torch)
        from .adapt_job import run_adapt_job
        return run_adapt_job(payload, progress, cancel)
    if kind == "export" and payload.get("sequence"):
        from .sequence_export import SequencePart, export_sequence
        return export_sequence([SequencePart.from_description(d) for d in payload["sequence"]],
                               Path(payload["output"]),
                               ctx=ctx, encode=EncodeSettings(**(payload.get("encode") or {})),
                               overwrite=bool(payload.get("overwrite", False)),
                               audio_mode=payload.get("audio_mode", "replace"),
                               progress=progress, cancel=cancel,
                               span=tuple(payload["span"]) if payload.get("span") else None)
    if kind == "export":
        return export_clip(Path(payload["video"]), jobs, Path(payload["output"]), ctx=ctx,
                           encode=EncodeSettings(**(payload.get("encode") or {})),
                           overwrite=bool(payload.get("overwrite", False)),
                           audio_mode=payload.get("audio_mode", "replace"),
                           progress=progress, cancel=cancel,
                           span=tuple(payload["span"]) if payload.get("span") else None,
                           full_encode=bool(payload.get("full_encode", False)))
    raise ValueError(f"unknown job kind {kind!r}")


def _snapshot(record: JobRecord) -> JobRecord:
    """A copy a listener may keep and change without touching the queue's own record."""
    return dataclasses.replace(record, payload=copy.deepcopy(record.payload))


def _labelled(progress: ProgressCallback, k: int, n: int) -> ProgressCallback:
    return lambda ev: progress(dataclasses.replace(ev, message=f"edit {k + 1} of {n}"))


class JobQueue:
    """Jobs run in submission order on one worker thread that owns its EngineContext.

    ``on_change(record)`` gets a snapshot after every change: from the worker thread for a
    running job's progress and outcome, from the calling thread for submit/cancel/retry of a
    job that is not running. ``context_factory`` is called on the worker thread (MediaPipe
    graphs must stay on the thread that made them).
    """

    def __init__(self, context_factory: Callable[[], EngineContext] = EngineContext,
                 on_change: Callable[[JobRecord], None] | None = None, *,
                 runner: Runner = run_payload, start: bool = True) -> None:
        self._factory = context_factory
        self._on_change = on_change
        self._runner = runner
        self._records: dict[str, JobRecord] = {}
        self._queue: deque[str] = deque()
        self._running: tuple[str, CancelToken] | None = None
        self._remove_when_stopped: set[str] = set()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="swaptalk-jobs",
                                                daemon=True)
                self._thread.start()

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop after cancelling the running job; queued jobs stay queued (unfinished)."""
        with self._cond:
            self._stopping = True
            if self._running is not None:
                self._running[1].cancel()
            self._cond.notify_all()
            thread = self._thread
        if wait and thread is not None:
            thread.join(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._running is None,
                                       timeout)

    def submit(self, kind: JobKind, title: str, payload: dict) -> JobRecord:
        if kind not in KINDS:
            raise ValueError(f"job kind must be one of {', '.join(KINDS)}")
        # A JSON round trip: the payload must survive being saved with the project.
        payload = json.loads(json.dumps({**payload, "kind": kind}))
        record = JobRecord(id=uuid.uuid4().hex[:12], kind=kind, title=title, payload=payload)
        with self._cond:
            self._records[record.id] = record
            self._queue.append(record.id)
            snapshot = _snapshot(record)
            self._cond.notify_all()
        self._notify(snapshot)
        return _snapshot(snapshot)

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once, or ask the running one to stop (its chunks are kept)."""
        with self._cond:
            record = self._records.get(job_id)
            if record is None or record.finished:
                return False
            if self._running is not None and self._running[0] == job_id:
                self._running[1].cancel()
                return True
            self._queue.remove(job_id)
            record.state = "cancelled"
            snapshot = _snapshot(record)
            self._cond.notify_all()
        self._notify(snapshot)
        return True

    def retry(self, job_id: str) -> bool:
        """Queue a failed or cancelled job again, at the end; a process job resumes."""
        with self._cond:
            record = self._records.get(job_id)
            if record is None or record.state not in ("failed", "cancelled"):
                return False
            fresh = JobRecord(record.id, record.kind, record.title, payload=record.payload)
            self._records[job_id] = fresh
            self._queue.append(job_id)
            snapshot = _snapshot(fresh)
            self._cond.notify_all()
        self._notify(snapshot)
        return True

    def remove(self, job_id: str) -> bool:
        """Forget a job; a running one is cancelled first and dropped when it stops."""
        with self._cond:
            if job_id not in self._records:
                return False
            if self._running is not None and self._running[0] == job_id:
                self._running[1].cancel()
                self._remove_when_stopped.add(job_id)
                return True
            if job_id in self._queue:
                self._queue.remove(job_id)
            del self._records[job_id]
            self._cond.notify_all()
        return True

    # -- views -----------------------------------------------------------------------------

    def records(self) -> list[JobRecord]:
        with self._cond:
            return [_snapshot(r) for r in self._records.values()]

    def record(self, job_id: str) -> JobRecord | None:
        with self._cond:
            found = self._records.get(job_id)
            return _snapshot(found) if found is not None else None

    def unfinished_payloads(self) -> list[dict]:
        """Payloads of queued and running jobs (with their ``title``), to save for recovery."""
        with self._cond:
            return [{**copy.deepcopy(r.payload), "title": r.title}
                    for r in self._records.values() if r.state in ("queued", "running")]

    # -- the worker ------------------------------------------------------------------------

    def _notify(self, snapshot: JobRecord) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(snapshot)
        except Exception:  # a listener's bug must not stop the queue
            log.exception("job listener failed")

    def _update(self, job_id: str, **changes) -> JobRecord:
        with self._cond:
            record = self._records[job_id]
            for key, value in changes.items():
                setattr(record, key, value)
            return _snapshot(record)

    def _work(self) -> None:
        ctx: EngineContext | None = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or bool(self._queue))
                if self._stopping:
                    return
                job_id = self._queue.popleft()
                token = CancelToken()
                self._running = (job_id, token)
                record = self._records[job_id]
                record.state = "running"
                payload = copy.deepcopy(record.payload)
                snapshot = _snapshot(record)
            self._notify(snapshot)

            def progress(ev: ProgressEvent, job_id: str = job_id) -> None:
                self._notify(self._update(job_id, stage=ev.stage, done=ev.done, total=ev.total,
                                          fps=ev.fps, eta_s=ev.eta_s, message=ev.message,
                                          fraction=ev.fraction, job_eta_s=ev.job_eta_s))

            outcome: dict = {}
            try:
                if ctx is None:
                    ctx = self._factory()
                outcome = {"state": "done", "result": self._runner(payload, ctx, progress,
                                                                   token)}
            except Cancelled:
                outcome = {"state": "cancelled"}
            except SwapTalkError as err:
                outcome = {"state": "failed", "error": str(err)}
            except Exception as err:  # a bug: one line for the panel, the traceback in the log
                log.exception("job %s failed", job_id)
                outcome = {"state": "failed", "error": internal_error_message(err)}
            with self._cond:
                self._running = None
                record = self._records[job_id]
                for key, value in outcome.items():
                    setattr(record, key, value)
                snapshot = _snapshot(record)
                if job_id in self._remove_when_stopped:
                    self._remove_when_stopped.discard(job_id)
                    del self._records[job_id]
                self._cond.notify_all()
            self._notify(snapshot)
