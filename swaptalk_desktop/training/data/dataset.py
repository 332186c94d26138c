"""Crops for the image stages (vqgan, identity), drawn deterministically per training step.

Every batch is a pure function of (seed, step, micro-batch, rank): resuming at step k draws the
same batches an uninterrupted run would have, with no sampler state to save, and each rank of
a distributed run draws its own. Decoded clips are kept in RAM up to a budget; when the whole
split fits (the usual case for a few hours of 256^2 crops on a training machine) every clip is
decoded once. When it does not, training visits the clips in groups: for ``steps_per_group``
steps batches come only from one group of clips that fits in half the budget, so each clip is
decoded about once per visit rather than once per sample.

Low-resolution photos (``use == "identity"``, see ``layout.classify_resolution``) are not
reconstruction targets by default: ``low_res_weight`` 0 leaves them out, a weight in (0, 1]
keeps them at that fraction of a full-resolution frame's chance of being drawn.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from ...media.crops_io import read_crops
from ...media.dataset_layout import USE_ALL, ClipRecord, DatasetIndex, DatasetLayout

DEFAULT_CACHE_BYTES = 4 << 30


def step_rng(seed: int, step: int, micro: int = 0, rank: int = 0, salt: int = 0
             ) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, step, micro, rank, salt])


class FrameStore:
    """Decoded crops per clip, least-recently-used out when over ``budget_bytes``."""

    def __init__(self, layout: DatasetLayout, budget_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.layout = layout
        self.budget = budget_bytes
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._clip_locks: dict[str, threading.Lock] = {}
        self.decodes = 0

    def frames(self, rec: ClipRecord) -> np.ndarray:
        """All crops of ``rec`` as ``uint8[n, S, S, 3]`` (shared, do not modify)."""
        with self._lock:
            if rec.id in self._cache:
                self._cache.move_to_end(rec.id)
                return self._cache[rec.id]
            clip_lock = self._clip_locks.setdefault(rec.id, threading.Lock())
        with clip_lock:  # two prefetch threads asking for one clip decode it once
            with self._lock:
                if rec.id in self._cache:
                    return self._cache[rec.id]
            path = self.layout.root / rec.crop
            if path.suffix == ".png":
                bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
                arr = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[None]
            else:
                arr = read_crops(path)
            arr.setflags(write=False)
            with self._lock:
                self.decodes += 1
                self._cache[rec.id] = arr
                self._bytes += arr.nbytes
                while self._bytes > self.budget and len(self._cache) > 1:
                    _, old = self._cache.popitem(last=False)
                    self._bytes -= old.nbytes
            return arr


@dataclass(frozen=True)
class FrameRef:
    clip: int   # index into the sampler's clip list
    frame: int  # stored-crop index within the clip


class ClipSchedule:
    """Which clips a step may draw from, and weighted draws of (clip, frame) in a range."""

    def __init__(self, clips: list[ClipRecord], ranges: list[tuple[int, int]], seed: int,
                 frame_bytes: int, budget_bytes: int, steps_per_group: int = 500,
                 item_weights: list[float] | None = None) -> None:
        if not clips:
            raise ValueError("no clips to sample from")
        self.clips, self.ranges, self.seed = clips, ranges, seed
        self.lengths = np.array([b - a for a, b in ranges], np.float64)
        mass = self.lengths if item_weights is None else \
            self.lengths * np.asarray(item_weights, np.float64)
        self.weights = mass / mass.sum()
        total = float(sum(c.frames for c in clips)) * frame_bytes
        self.grouped = total > budget_bytes
        self.steps_per_group = steps_per_group
        mean_clip = total / len(clips)
        self.group_size = max(1, min(len(clips), int(budget_bytes / 2 / max(mean_clip, 1.0))))

    def group(self, step: int) -> np.ndarray:
        if not self.grouped:
            return np.arange(len(self.clips))
        rng = step_rng(self.seed, step // self.steps_per_group, salt=7)
        return np.sort(rng.choice(len(self.clips), self.group_size, replace=False,
                                  p=self.weights))

    def draw(self, rng: np.random.Generator, step: int, n: int) -> list[FrameRef]:
        members = self.group(step)
        p = self.weights[members] / self.weights[members].sum()
        picks = members[rng.choice(len(members), n, p=p)]
        return [FrameRef(int(c), int(self.ranges[c][0] + rng.integers(self.lengths[c])))
                for c in picks]


class CropBatches:
    """Batches of aligned crops from one split, ``uint8[B, S, S, 3]`` plus their refs."""

    def __init__(self, index: DatasetIndex, split: str, seed: int, *,
                 store: FrameStore | None = None, flip: bool = False,
                 budget_bytes: int = DEFAULT_CACHE_BYTES, include_stills: bool = True,
                 low_res_weight: float = 0.0) -> None:
        if not 0 <= low_res_weight <= 1:
            raise ValueError("low_res_weight must be in [0, 1]")
        self.layout = DatasetLayout(index.root)
        candidates = [c for c in index.select(split)
                      if include_stills or c.kind != "still"]
        clips = [c for c in candidates if c.use == USE_ALL or low_res_weight > 0]
        self.left_out = len(candidates) - len(clips)
        if not clips:
            why = (f" ({self.left_out} low-resolution photos are not reconstruction targets;"
                   f" give them a weight above 0 to use them)") if self.left_out else ""
            raise ValueError(f"the dataset has no {split} frames{why}")
        train = split == "train"
        self.clips = clips
        self.ranges = [tuple(c.train_range if train else c.val_range) for c in clips]
        self.store = store or FrameStore(self.layout, budget_bytes)
        s = index.crop_size
        self.crop_size = s
        weights = [1.0 if c.use == USE_ALL else low_res_weight for c in clips]
        self.schedule = ClipSchedule(clips, self.ranges, seed, s * s * 3, self.store.budget,
                                     item_weights=weights)
        self.seed, self.flip = seed, flip

    @property
    def frame_count(self) -> int:
        return int(self.schedule.lengths.sum())

    def batch(self, step: int, size: int, micro: int = 0, rank: int = 0
              ) -> tuple[np.ndarray, list[FrameRef]]:
        rng = step_rng(self.seed, step, micro, rank, salt=1)
        refs = self.schedule.draw(rng, step, size)
        out = np.stack([self.store.frames(self.clips[r.clip])[r.frame] for r in refs])
        if self.flip:
            # mirrored faces are still faces; the template is left-right symmetric
            flips = rng.random(size) < 0.5
            out[flips] = out[flips, :, ::-1]
        return out, refs

    def fixed(self, count: int) -> tuple[np.ndarray, list[FrameRef]]:
        """A fixed, evenly spread selection (validation): the same every time it is asked."""
        refs: list[FrameRef] = []
        total = self.frame_count
        picks = np.linspace(0, total - 1, min(count, total)).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(self.schedule.lengths)]).astype(np.int64)
        for p in picks:
            c = int(np.searchsorted(starts, p, side="right") - 1)
            refs.append(FrameRef(c, int(self.ranges[c][0] + p - starts[c])))
        return np.stack([self.store.frames(self.clips[r.clip])[r.frame] for r in refs]), refs
