"""Planning a per-actor adaptation without torch: which frames of the clip it may learn from,
which installed sets it can start from, and how long it takes on this machine.

Shared by ``swaptalk adapt`` (and its ``--estimate``), the data preparation it runs and the
editor's Adapt dialog, so that all three count the same frames. The edit ranges being replaced
are left out (``exclude``), and with them the frames whose sound window reaches into such a
range: the sync stages read 0.2 s of mel centred on each frame, so a frame closer than 0.1 s
to an excluded range would hear part of the line that is being replaced.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..core.progress import ProgressCallback, ProgressEvent
from ..core.timebase import parse_position
from ..inference.manifest import train_weights_file

DEFAULT_STEPS = {"tiny": 60, "small": 1500, "base": 3000}
"""Steps of each fine-tune (decoder, then sync) when ``--steps`` is not given."""
AUDIO_MARGIN_S = 0.1
"""Half the sync stages' mel window (16 frames at 80/s): see the module doc."""


@dataclass(frozen=True)
class AdaptCost:
    """Measured speeds of one configuration's adaptation on one machine."""

    prepare_s_per_frame: float  # tracking, aligning, storing one source frame...
    prepare_s_per_mpx: float    # ...plus decoding it: per megapixel of the source frame
    decoder_steps_per_s: float  # decoder fine-tune (batch 8), steady
    crop_load_fps: float        # its first steps also read every stored crop once (cached)
    encode_fps: float           # prepared crops encoded to latents per second
    sync_steps_per_s: float     # sync fine-tune (batch 16 windows of 5 frames)
    fixed_s: float              # start-up, base weights, ONNX export + parity, install


COSTS: dict[str, AdaptCost] = {
    # scripts/measure_adapt.py on the project's 2-core Xeon (2 vCPU, torch 2.13 CPU,
    # --threads 2, nothing else running): hdtf_tedlieu_60s (256x256 H.264, 30 s, 120 steps)
    # gave 30.9 prepared frames/s, 3.2 / 0.61 steps/s, 123 encoded frames/s, 22 s fixed;
    # latentsync_demo3 (1080x1920 HEVC, 600 frames) 14.5 prepared frames/s. The two sizes
    # give the per-frame and per-megapixel preparation costs. docs/training.md has the table.
    "small": AdaptCost(prepare_s_per_frame=0.0311, prepare_s_per_mpx=0.0183,
                       decoder_steps_per_s=3.2, crop_load_fps=1000.0, encode_fps=120.0,
                       sync_steps_per_s=0.61, fixed_s=22.0),
    # the synthetic 192x192 test clip (75 frames, 200 steps, --threads 1)
    "tiny": AdaptCost(prepare_s_per_frame=0.0192, prepare_s_per_mpx=0.0183,
                      decoder_steps_per_s=35.0, crop_load_fps=1000.0, encode_fps=900.0,
                      sync_steps_per_s=27.0, fixed_s=12.0),
}
MEASURED_ON = "an idle 2-core CPU"
TYPICAL_MPX = 0.26
"""Source frame size assumed when it is not known (512x512)."""

PHASES = ("prepare", "decoder", "encode", "sync", "export")
PHASE_TEXT = {"prepare": "preparing the footage", "decoder": "fine-tuning the decoder",
              "encode": "encoding the frames", "sync": "fine-tuning the lip sync",
              "export": "exporting and installing the set"}


# --- ranges and footage ---------------------------------------------------------------------
def parse_range(text: str, fps, frame_times: np.ndarray | None = None) -> tuple[int, int]:
    """``START:END`` (or ``START..END``), END exclusive, each a position as ``swaptalk render
    --start/--end`` take it: frames (``120:240``), seconds (``4.8s:9.6s``) or timecodes
    (``00:00:04:00..00:00:06:00``)."""
    s = str(text).strip()
    if ".." in s:
        splits = [tuple(s.split("..", 1))]
    else:  # timecodes contain colons themselves: take the one split where both halves parse
        parts = s.split(":")
        splits = [(":".join(parts[:i]), ":".join(parts[i:])) for i in range(1, len(parts))]
    found = []
    for a, b in splits:
        try:
            found.append((parse_position(a, fps, frame_times), parse_position(b, fps, frame_times)))
        except InputError:
            continue
    if len(found) != 1:
        raise InputError(f"cannot read range {text!r}; use START:END in frames (120:240) or "
                         "START..END (00:00:04:00..00:00:06:00, 4.8s..9.6s)")
    start, stop = found[0]
    if stop <= start:
        raise InputError(f"range {text!r} is empty (its end must come after its start)")
    return start, stop


def merge_ranges(ranges: Iterable[Sequence[int]], frame_count: int) -> list[tuple[int, int]]:
    """Sorted, clipped to the clip, overlapping or touching ranges joined."""
    out: list[list[int]] = []
    for a, b in sorted((max(0, int(a)), min(frame_count, int(b))) for a, b in ranges):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def usable_mask(frame_times: np.ndarray, duration_s: float,
                exclude: Sequence[Sequence[int]], margin_s: float = AUDIO_MARGIN_S) -> np.ndarray:
    """bool per frame: True where adaptation may learn from the frame (its picture is outside
    every excluded range and its sound window does not reach into one)."""
    times = np.asarray(frame_times, np.float64)
    n = len(times)
    keep = np.ones(n, bool)
    for a, b in merge_ranges(exclude, n):
        t0 = times[a]
        t1 = times[b] if b < n else max(float(duration_s), float(times[-1]))
        keep &= ~((times > t0 - margin_s) & (times < t1 + margin_s))
        keep[a:b] = False
    return keep


@dataclass(frozen=True)
class Footage:
    """What of a clip an adaptation uses."""

    frame_count: int
    fps: float
    excluded: list[tuple[int, int]]
    cutoff: int
    """Frames [0, cutoff) are read (the minutes limit, counted on usable frames)."""
    usable: int
    """Frames before the cutoff that may be learnt from (before face detection)."""
    left_out: int
    """Frames before the cutoff left out for the excluded ranges (with their sound margin)."""

    @property
    def usable_s(self) -> float:
        return self.usable / self.fps if self.fps > 0 else 0.0

    def max_seconds(self, frame_times: np.ndarray) -> float | None:
        """The prepare option that reads exactly [0, cutoff)."""
        return None if self.cutoff >= self.frame_count else float(frame_times[self.cutoff])


def plan_footage(frame_times: np.ndarray, duration_s: float, fps: float,
                 exclude: Sequence[Sequence[int]], minutes: float | None) -> Footage:
    """Usable footage of a clip: ``minutes`` (None or 0 = all) of frames outside ``exclude``,
    from the start of the clip."""
    n = len(frame_times)
    keep = usable_mask(frame_times, duration_s, exclude)
    counted = np.cumsum(keep)
    cutoff = n
    if minutes:
        want = max(1, int(round(minutes * 60 * fps)))
        if n and counted[-1] > want:
            cutoff = int(np.searchsorted(counted, want, side="left")) + 1
    usable = int(counted[cutoff - 1]) if cutoff else 0
    return Footage(frame_count=n, fps=float(fps), excluded=merge_ranges(exclude, n),
                   cutoff=cutoff, usable=usable, left_out=cutoff - usable)


# --- base sets ------------------------------------------------------------------------------
def weights_config_name(path: Path) -> str | None:
    """The training configuration recorded in a checkpoint's header (no torch needed: a
    safetensors file starts with the length of its JSON header)."""
    try:
        with open(path, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > 64 << 20:
                return None
            header = json.loads(fh.read(length))
        meta = json.loads(header.get("__metadata__", {}).get("meta", "{}"))
        name = meta.get("config", {}).get("name")
        return str(name) if name else None
    except (OSError, ValueError, struct.error, AttributeError):
        return None


def adaptable_sets(registry) -> list[tuple[str, str]]:
    """(set id, config name) of every installed set with training weights, default first."""
    default = registry.default_set_id()
    out = []
    for model_set in registry.sets():
        weights = train_weights_file(model_set)
        if weights.is_file():
            name = weights_config_name(weights)
            if name:
                out.append((model_set.id, name))
    return sorted(out, key=lambda s: (s[0] != default, s[0]))


# --- time -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    config: str
    seconds: dict[str, float]
    """Planned seconds per phase (see PHASES)."""
    detail: dict[str, str]

    @property
    def total_s(self) -> float:
        return float(sum(self.seconds.values()))

    megapixels: float = TYPICAL_MPX

    def per_footage_minute_s(self, fps: float) -> float:
        """Seconds each minute of footage adds (preparing it, reading its crops, encoding
        them)."""
        cost = COSTS[self.config]
        return 60 * fps * (_prepare_s(cost, self.megapixels) + 1 / cost.crop_load_fps +
                           1 / cost.encode_fps)

    def to_json(self) -> dict:
        return {"config": self.config, "total_s": round(self.total_s, 1),
                "megapixels": round(self.megapixels, 3),
                "phases": {k: round(v, 1) for k, v in self.seconds.items()},
                "measured_on": MEASURED_ON}


def _prepare_s(cost: AdaptCost, megapixels: float) -> float:
    return cost.prepare_s_per_frame + cost.prepare_s_per_mpx * megapixels


def estimate(config: str, footage: Footage, steps: int | None,
             megapixels: float = TYPICAL_MPX) -> Estimate | None:
    """Expected CPU time of an adaptation, from the measured table (``megapixels``: of a
    source frame); None for a configuration that was never measured."""
    cost = COSTS.get(config)
    if cost is None:
        return None
    steps = steps or DEFAULT_STEPS.get(config, 1500)
    frames = footage.usable
    per_frame = _prepare_s(cost, megapixels)
    seconds = {"prepare": footage.cutoff * per_frame,
               "decoder": steps / cost.decoder_steps_per_s + frames / cost.crop_load_fps,
               "encode": frames / cost.encode_fps,
               "sync": steps / cost.sync_steps_per_s,
               "export": cost.fixed_s}
    detail = {"prepare": f"{footage.cutoff} frames at {1 / per_frame:.1f} frames/s "
                         f"({megapixels:.2f} Mpx each)",
              "decoder": f"{steps} steps at {cost.decoder_steps_per_s:g} steps/s, reading "
                         f"{frames} crops at {cost.crop_load_fps:g}/s",
              "encode": f"{frames} frames at {cost.encode_fps:g} frames/s",
              "sync": f"{steps} steps at {cost.sync_steps_per_s:g} steps/s",
              "export": "start-up, export, parity check"}
    return Estimate(config, seconds, detail, megapixels)


def clock(seconds: float | None) -> str:
    """``1 h 05 min``, ``12 min``, ``40 s``: how editors read a duration."""
    if seconds is None:
        return "unknown"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = (seconds + 30) // 60
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def footage_clock(seconds: float) -> str:
    """Footage length as editors count it: ``M:SS`` (``H:MM:SS`` past an hour)."""
    whole = int(seconds)
    h, rem = divmod(whole, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


# --- progress -------------------------------------------------------------------------------
STAGE_PHASE = {"train vqgan": "decoder", "encode": "encode", "train sync": "sync",
               "export": "export"}


class AdaptProgress:
    """One progress stream over the phases: every event keeps its stage's own counts and gets
    the whole job's ``fraction`` and ``job_eta_s``, weighted by the estimate and corrected by
    the speed seen so far in this session (a resumed run starts its clock again)."""

    def __init__(self, plan: Estimate | None, sink: ProgressCallback | None,
                 clock_fn: Callable[[], float] | None = None) -> None:
        import time
        self.sink = sink
        self.weights = dict(plan.seconds) if plan else {p: 1.0 for p in PHASES}
        self.total = sum(self.weights.values()) or 1.0
        self.clock = clock_fn or time.monotonic
        self.done_phases: set[str] = set()
        self._start: tuple[float, float] | None = None
        self._planned = 0.0

    def __call__(self, ev: ProgressEvent) -> None:
        phase = STAGE_PHASE.get(ev.stage, "prepare")
        for earlier in PHASES[:PHASES.index(phase)]:
            self.done_phases.add(earlier)
        part = min(1.0, ev.done / ev.total) if ev.total > 0 else 0.0
        planned = sum(self.weights[p] for p in self.done_phases) + self.weights[phase] * part
        # never backwards (a stage's own counter may restart, e.g. the dataset after a clip)
        planned = max(planned, self._planned)
        self._planned = planned
        fraction = min(1.0, planned / self.total)
        now = self.clock()
        if self._start is None:
            self._start = (now, planned)
        t0, p0 = self._start
        ratio = (now - t0) / (planned - p0) if planned - p0 > 0.02 * self.total else 1.0
        eta = max(0.0, (self.total - planned) * ratio)
        message = ev.message or PHASE_TEXT[phase]
        if self.sink is not None:
            self.sink(ProgressEvent(ev.stage, ev.done, ev.total, ev.fps, ev.eta_s, message,
                                    fraction=round(fraction, 4), job_eta_s=round(eta, 1)))
