"""Processed frames for playback, made only from what processing left in the cache.

Playback cannot wait for the models; frames of processed ranges are composed from the cached
face track and generated crops exactly as an export composes them, and anything not in the cache
plays as the source. Qt-free; called on the decode-ahead thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import RangeJob
from ..engine.frames import compose
from ..engine.prepare import PreparedJob
from ..engine.process import render_folder, track_folder
from ..engine.range_cache import RangeCache
from ..faces import FaceTrack


@dataclass
class _Range:
    job: RangeJob
    crops: RangeCache
    track_path: Path
    track: FaceTrack | None = None


class CachedFrames:
    def __init__(self, prepared: list[PreparedJob]):
        self.ranges = [_Range(p.job, RangeCache(render_folder(p), p.job),
                              track_folder(p).path / "track.npz") for p in prepared]
        self._held: _Range | None = None

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __call__(self, index: int, rgb: np.ndarray) -> np.ndarray | None:
        """The processed frame, ``rgb`` itself where no face was tracked, None if not cached."""
        for r in self.ranges:
            if r.job.start <= index < r.job.stop:
                return self._frame(r, index, rgb)
        return None

    def _frame(self, r: _Range, index: int, rgb: np.ndarray) -> np.ndarray | None:
        if not r.crops.has(index):
            return None
        if self._held is not r:  # one chunk in memory across all ranges
            if self._held is not None:
                self._held.crops.release()
            self._held = r
        crop = r.crops.crop(index)
        if crop is None:
            return rgb
        if r.track is None:
            if not r.track_path.exists():
                return None
            r.track = FaceTrack.load(r.track_path)
        edit = r.job.edit
        return compose(rgb, crop, r.track.landmarks[index - r.track.start],
                       region=r.job.mask_region, feather=edit.feather, strength=edit.strength,
                       color_match=edit.color_match)
