"""What the timeline shows, and the frame arithmetic behind its gestures (no Qt here).

The x axis is continuous frames: frame ``i`` covers ``[i, i + 1)``, so an edit ``[start, stop)``
covers exactly ``x in [start, stop)`` and every boundary (edit ends, marks, playhead) is an
integer x. Seconds only appear where audio is drawn (see :class:`FrameClock`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

EditStatus = Literal["none", "partial", "done", "running"]


@dataclass(frozen=True)
class EditView:
    """One range edit as the timeline draws it; ``color`` is anything ``pg.mkColor`` takes."""

    id: str
    start: int
    stop: int
    color: object = "#5b8fd1"
    status: EditStatus = "none"
    progress: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class MarkerView:
    """A marker as the ruler draws it; ``color`` is a name of core.project.MARKER_COLORS."""

    id: str
    frame: int
    name: str = ""
    color: str = "green"


class FrameClock:
    """Continuous frame positions <-> seconds on the audio clock.

    ``frame_times[i]`` is when frame ``i`` is shown, on the clock of the waveform drawn under
    it (``VideoInfo.audio_time(i)``); without it frame ``i`` is at ``i / fps``. Positions beyond
    the table extend at the average rate, so dialogue that overhangs the clip still maps.
    """

    def __init__(self, frame_count: int, fps: Fraction | float,
                 frame_times: Sequence[float] | np.ndarray | None = None):
        self.frame_count = max(0, int(frame_count))
        self.fps = fps if float(fps) > 0 else 25
        self.rate = float(self.fps)
        times = None if frame_times is None else np.asarray(frame_times, np.float64)
        if times is not None and len(times) >= 2 and np.all(np.diff(times) > 0):
            # the last frame lasts as long as the one before it
            self._t = np.append(times, 2 * times[-1] - times[-2])
            self._x = np.arange(len(self._t), dtype=np.float64)
        else:
            self._t = self._x = None

    def seconds(self, x: float | np.ndarray) -> float | np.ndarray:
        if self._t is None:
            return np.asarray(x, np.float64) / self.rate if np.ndim(x) else float(x) / self.rate
        xs = np.asarray(x, np.float64)
        out = np.interp(xs, self._x, self._t)
        out = np.where(xs < 0, self._t[0] + xs / self.rate, out)
        out = np.where(xs > self._x[-1], self._t[-1] + (xs - self._x[-1]) / self.rate, out)
        return out if np.ndim(x) else float(out)

    def frames(self, t: float | np.ndarray) -> float | np.ndarray:
        if self._t is None:
            return np.asarray(t, np.float64) * self.rate if np.ndim(t) else float(t) * self.rate
        ts = np.asarray(t, np.float64)
        out = np.interp(ts, self._t, self._x)
        out = np.where(ts < self._t[0], (ts - self._t[0]) * self.rate, out)
        out = np.where(ts > self._t[-1], self._x[-1] + (ts - self._t[-1]) * self.rate, out)
        return out if np.ndim(t) else float(out)


@dataclass(frozen=True)
class Lane:
    top: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def center(self) -> float:
        return self.top + self.height / 2

    def contains(self, y: float) -> bool:
        return self.top <= y < self.bottom


LANE_NAMES = ("edits", "video", "audio", "dialogue")
LANE_TITLES = {"edits": "EDITS", "video": "V1", "audio": "A1", "dialogue": "DLG"}
_PREFERRED = {"edits": 30, "video": 58, "audio": 72, "dialogue": 54}
LANE_GAP = 2


def layout_lanes(height: float) -> dict[str, Lane]:
    """Lanes stacked from the top in pixels; spare height goes to the audio lane, where the
    editor reads the dialogue, and a short view shrinks every lane alike."""
    want = sum(_PREFERRED.values()) + LANE_GAP * len(_PREFERRED)
    scale = min(1.0, max(height, 1.0) / want)
    heights = {name: h * scale for name, h in _PREFERRED.items()}
    if scale == 1.0:
        heights["audio"] += height - want
    lanes, y = {}, LANE_GAP * scale
    for name in LANE_NAMES:
        lanes[name] = Lane(y, heights[name])
        y += heights[name] + LANE_GAP * scale
    return lanes


@dataclass
class TimelineState:
    """The widget's document: edits, marks, playhead and the lanes they are drawn in."""

    clock: FrameClock = field(default_factory=lambda: FrameClock(0, 25))
    edits: dict[str, EditView] = field(default_factory=dict)
    selected: str | None = None
    playhead: int = 0
    mark_in: int | None = None
    mark_out: int | None = None
    lanes: dict[str, Lane] = field(default_factory=lambda: layout_lanes(0))
    hovered: tuple[str, str] | None = None  # (edit id, "left"|"right"|"body")
    markers: list[MarkerView] = field(default_factory=list)  # sorted by frame

    @property
    def frame_count(self) -> int:
        return self.clock.frame_count

    def sorted_edits(self) -> list[EditView]:
        return sorted(self.edits.values(), key=lambda e: (e.start, e.stop))

    def snap_targets(self, exclude: str | None = None) -> list[int]:
        """Boundaries an edge is drawn to: playhead, marks, markers, other edits' ends, clip
        ends."""
        targets = [0, self.frame_count, self.playhead]
        targets += [m for m in (self.mark_in, self.mark_out) if m is not None]
        targets += [m.frame for m in self.markers]
        for edit in self.edits.values():
            if edit.id != exclude:
                targets += [edit.start, edit.stop]
        return targets

    def free_span(self, edit: EditView) -> tuple[int, int]:
        """How far an edit may grow or move without overlapping its neighbours."""
        lo, hi = 0, self.frame_count
        for other in self.edits.values():
            if other.id == edit.id:
                continue
            if other.stop <= edit.start:
                lo = max(lo, other.stop)
            elif other.start >= edit.stop:
                hi = min(hi, other.start)
        return lo, hi


def snap_position(x: float, targets: Iterable[int], tolerance: float) -> int:
    """The nearest target within ``tolerance`` frames, else the nearest whole frame."""
    best: tuple[float, int] | None = None
    for target in targets:
        distance = abs(target - x)
        if distance <= tolerance and (best is None or distance < best[0]):
            best = (distance, target)
    return best[1] if best is not None else int(round(x))


def snap_move(start: int, stop: int, delta: float, targets: Iterable[int],
              tolerance: float) -> int:
    """New start of ``[start, stop)`` moved by ``delta`` frames; whichever end comes within
    ``tolerance`` of a target sticks to it (the closer one wins)."""
    raw_start, raw_stop = start + delta, stop + delta
    best: tuple[float, int] | None = None
    for target in targets:
        for raw, new_start in ((raw_start, target), (raw_stop, target - (stop - start))):
            distance = abs(target - raw)
            if distance <= tolerance and (best is None or distance < best[0]):
                best = (distance, new_start)
    return best[1] if best is not None else int(round(raw_start))


def trim_edge(edit: EditView, side: str, x: float, state: TimelineState,
              tolerance: float) -> tuple[int, int]:
    """``(start, stop)`` after dragging one edge to ``x``; kept at least one frame long and
    clear of the neighbours."""
    lo, hi = state.free_span(edit)
    targets = state.snap_targets(exclude=edit.id)
    if side == "left":
        start = snap_position(x, targets, tolerance)
        return min(max(start, lo), edit.stop - 1), edit.stop
    stop = snap_position(x, targets, tolerance)
    return edit.start, max(min(stop, hi), edit.start + 1)


def move_body(edit: EditView, delta: float, state: TimelineState,
              tolerance: float) -> tuple[int, int]:
    lo, hi = state.free_span(edit)
    length = edit.stop - edit.start
    start = snap_move(edit.start, edit.stop, delta, state.snap_targets(exclude=edit.id),
                      tolerance)
    start = min(max(start, lo), max(lo, hi - length))
    return start, start + length


# -- ruler ticks --------------------------------------------------------------------------------

_SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def tick_steps(rate: int) -> list[int]:
    """Frame counts that make tidy timecode steps at ``rate`` frames per second."""
    steps = [s for s in (1, 2, 5, 10) if s < rate]
    if rate % 2 == 0 and rate // 2 not in steps:
        steps.append(rate // 2)
    return sorted(set(steps)) + [rate * s for s in _SECOND_STEPS]


def ruler_steps(pixels_per_frame: float, rate: int, label_px: float = 96.0,
                minor_px: float = 7.0) -> tuple[int, int]:
    """(major, minor) steps in frames: majors far enough apart for a timecode label, minors
    the finest step that divides the major and stays legible."""
    steps = tick_steps(rate)
    major = next((s for s in steps if s * pixels_per_frame >= label_px), steps[-1])
    minor = next((s for s in steps if s * pixels_per_frame >= minor_px and major % s == 0),
                 major)
    return major, minor


def ticks_between(x0: float, x1: float, step: int, limit: int) -> list[int]:
    first = max(0, math.ceil(x0 / step) * step)
    last = min(limit, math.floor(x1 / step) * step)
    return list(range(int(first), int(last) + 1, step)) if last >= first else []


# -- thumbnails ---------------------------------------------------------------------------------

_NICE = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80)


def thumbnail_step(thumb_px: float, pixels_per_frame: float) -> int:
    """Frames per thumbnail slot: the first tidy count whose slot fits a whole picture. Slots
    sit on multiples of it, so panning reuses pictures already fetched."""
    need = thumb_px / max(pixels_per_frame, 1e-9)
    scale = 1
    while True:
        for nice in _NICE:
            if nice * scale >= need:
                return nice * scale
        scale *= 100


def thumbnail_slots(x0: float, x1: float, step: int, frame_count: int) -> list[int]:
    first = max(0, math.floor(max(x0, 0) / step) * step)
    last = min(frame_count - 1, math.ceil(x1) - 1)  # the last frame whose cell is in view
    return list(range(first, last + 1, step)) if frame_count > 0 and last >= first else []
