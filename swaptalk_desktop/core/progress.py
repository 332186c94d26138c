"""Progress events with rate and ETA, shared by the engine, training, the CLI, JSON-lines
output and the GUI."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

STAGE_LABELS = {
    "prepare": "Checking inputs",
    "track": "Tracking faces",
    "render": "Rendering faces",
    "write": "Writing MP4",
}


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    done: int
    total: int
    fps: float
    eta_s: float | None
    message: str = ""
    fraction: float | None = None
    """Of the whole job, when it has several stages of unlike size (adaptation)."""
    job_eta_s: float | None = None
    """Seconds left of the whole job, beside ``eta_s`` of the stage."""

    @property
    def label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    def as_dict(self) -> dict:
        d = asdict(self)
        for key in ("fraction", "job_eta_s"):  # only jobs that report them
            if d[key] is None:
                del d[key]
        return {"event": "progress", **d}


ProgressCallback = Callable[[ProgressEvent], None]


class StageMeter:
    """Turns (done, total) counts of one stage into events with a smoothed rate and ETA.

    The rate is an exponential average over wall time so a slow first batch (model warm-up,
    seek) does not dominate the ETA for the rest of the stage.
    """

    def __init__(self, stage: str, total: int, sink: ProgressCallback | None,
                 min_interval_s: float = 0.1, clock: Callable[[], float] = time.monotonic):
        self.stage = stage
        self.total = total
        self._sink = sink
        self._clock = clock
        self._min_interval = min_interval_s
        self._t_last = clock()
        self._done_last = 0
        self._t_emit = -1e9
        self._rate: float | None = None
        self.done = 0

    def update(self, done: int, total: int | None = None, message: str = "") -> None:
        if total is not None:
            self.total = total
        now = self._clock()
        dt = now - self._t_last
        if done > self._done_last and dt > 0:
            inst = (done - self._done_last) / dt
            self._rate = inst if self._rate is None else 0.7 * self._rate + 0.3 * inst
            self._t_last, self._done_last = now, done
        self.done = done
        final = done >= self.total
        if self._sink is None or (not final and now - self._t_emit < self._min_interval):
            return
        self._t_emit = now
        fps = self._rate or 0.0
        eta = (self.total - done) / fps if fps > 0 else None
        self._sink(ProgressEvent(self.stage, done, self.total, round(fps, 2),
                                 None if eta is None else round(eta, 1), message))

    def skip_to(self, done: int) -> None:
        """Account for work already finished (resumed chunks) without counting it as speed."""
        self.done = self._done_last = done
        self._t_last = self._clock()
        self.update(done)

    def callback(self) -> Callable[[int, int], None]:
        return lambda done, total: self.update(done, total)
