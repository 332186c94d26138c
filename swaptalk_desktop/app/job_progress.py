"""A job's progress as every view shows it (job card, inspector, the timeline's edit bar): the
whole job's fraction done and a smoothed time left, computed once per record update.

The engine reports each stage on its own (``track`` 0..N, then ``render`` 0..N, then ``write``
0..M for an export, per edit) with the stage's own rate and ETA, so a bar or an ETA read from
the latest event jumps back at every stage and a slow first batch gives an ETA of minutes. Here
the stages are laid end to end by weight into one fraction that never goes back while the job
runs, and the time left comes from an exponential average of that fraction's rate over wall
time, measured only after a warm-up (model loading, the first seek) and eased into the shown
value, so it counts down steadily. Qt-free; the clock is injectable for tests.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

STAGE_WEIGHTS = {"track": 1.0, "render": 2.0}
"""Rough relative time of an edit's stages (the smoothed rate absorbs the error)."""
WRITE_WEIGHT = 2.0
"""An export's final pass over the whole clip: fast per frame but many more frames; about as
long as rendering one edit."""
WARMUP_S = 3.0
RATE_TAU_S = 8.0
ETA_TAU_S = 4.0
_EDIT_OF = re.compile(r"\bedit (\d+) of (\d+)\b")


def format_percent(fraction: float) -> str:
    return f"{int(math.floor(min(1.0, max(0.0, fraction)) * 100))}%"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds // 60 % 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True)
class JobProgress:
    state: str
    fraction: float
    """Of the whole job, 0..1."""
    eta_s: float | None
    """Seconds left, smoothed; None while warming up or not running."""

    def text(self) -> str:
        """The words every view uses: ``queued``, ``47% · 0:32 left``."""
        if self.state == "queued":
            return "queued"
        if self.state != "running":
            return self.state
        left = f"{format_eta(self.eta_s)} left" if self.eta_s is not None else \
            "estimating time left"
        return f"{format_percent(self.fraction)} · {left}"


def job_fraction(record) -> float:
    """The whole job's fraction from its latest progress event (see the module doc)."""
    if record.state == "done":
        return 1.0
    if record.fraction is not None:  # jobs that weigh their own stages (adaptation)
        return float(record.fraction)
    stage_done = record.done / record.total if record.total else 0.0
    if record.kind not in ("process", "export"):
        return stage_done
    jobs = len(record.payload.get("jobs") or []) or 1
    match = _EDIT_OF.search(record.message or "")
    k = int(match.group(1)) - 1 if match else 0
    per_edit = sum(STAGE_WEIGHTS.values())
    write = WRITE_WEIGHT if record.kind == "export" else 0.0
    total = jobs * per_edit + write
    if record.stage == "write":
        return (jobs * per_edit + write * stage_done) / total
    before = k * per_edit
    if record.stage == "track":
        before += STAGE_WEIGHTS["track"] * stage_done
    elif record.stage == "render":
        before += STAGE_WEIGHTS["track"] + STAGE_WEIGHTS["render"] * stage_done
    else:  # a stage inside render (the mouth library) or before the edit's first stage
        before += STAGE_WEIGHTS["track"] if record.stage else 0.0
    return min(1.0, before / total)


class _Tracker:
    def __init__(self, now: float):
        self.started = now
        self.fraction = 0.0
        self.t_ref: float | None = None
        self.f_ref = 0.0
        self.rate: float | None = None
        self.eta: float | None = None
        self.t_eta = now


class ProgressBook:
    """The progress of every job, updated from its record snapshots."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, warmup_s: float = WARMUP_S,
                 rate_tau_s: float = RATE_TAU_S, eta_tau_s: float = ETA_TAU_S):
        self._clock = clock
        self.warmup_s, self.rate_tau_s, self.eta_tau_s = warmup_s, rate_tau_s, eta_tau_s
        self._trackers: dict[str, _Tracker] = {}
        self._shown: dict[str, JobProgress] = {}

    def update(self, record) -> JobProgress:
        now = self._clock()
        if record.state != "running":
            self._trackers.pop(record.id, None)
            fraction = 1.0 if record.state == "done" else 0.0
            p = JobProgress(record.state, fraction, None)
            self._shown[record.id] = p
            return p
        t = self._trackers.get(record.id)
        if t is None:
            t = self._trackers[record.id] = _Tracker(now)
        t.fraction = max(t.fraction, min(1.0, job_fraction(record)))
        self._measure(t, now)
        raw = self._raw_eta(record, t, now)
        if raw is None:
            t.eta = None
        elif t.eta is None:
            t.eta = raw
        else:  # count down from the last shown value and ease towards the new estimate
            dt = max(0.0, now - t.t_eta)
            predicted = max(0.0, t.eta - dt)
            t.eta = predicted + (raw - predicted) * (1 - math.exp(-dt / self.eta_tau_s))
        t.t_eta = now
        p = JobProgress("running", t.fraction, None if t.eta is None else max(0.0, t.eta))
        self._shown[record.id] = p
        return p

    def _measure(self, t: _Tracker, now: float) -> None:
        if now - t.started < self.warmup_s:
            return  # model loading and the first batch say nothing of the pace
        if t.t_ref is None:
            t.t_ref, t.f_ref = now, t.fraction
            return
        dt = now - t.t_ref
        if dt <= 0 or (t.fraction <= t.f_ref and dt < 1.0):
            return
        inst = (t.fraction - t.f_ref) / dt
        a = 1 - math.exp(-dt / self.rate_tau_s)
        t.rate = inst if t.rate is None else t.rate + a * (inst - t.rate)
        t.t_ref, t.f_ref = now, t.fraction

    @staticmethod
    def _raw_eta(record, t: _Tracker, now: float) -> float | None:
        if t.rate is None:
            return None
        if record.job_eta_s is not None:  # the job estimates its own stages (adaptation)
            return float(record.job_eta_s)
        if t.rate <= 0:
            return None
        return (1.0 - t.fraction) / t.rate

    def get(self, job_id: str) -> JobProgress | None:
        return self._shown.get(job_id)

    def forget(self, job_id: str) -> None:
        self._trackers.pop(job_id, None)
        self._shown.pop(job_id, None)
