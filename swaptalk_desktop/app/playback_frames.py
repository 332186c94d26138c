"""Processed frames for playback, made only from what processing left in the cache.

Playback cannot wait for the models; frames of processed ranges are composed from the cached
face track and generated crops exactly as an export composes them, and anything not in the cache
plays as the source. Qt-free; called on the decode-ahead thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import RangeJob
from ..engine.frames import compose
from ..engine.prepare import PreparedJob
from ..engine.process import render_folder, track_folder
from ..engine.workdir import JobFolder
from ..faces import FaceTrack


@dataclass
class _Range:
    job: RangeJob
    folder: JobFolder
    track_path: object
    track: FaceTrack | None = None


class CachedFrames:
    def __init__(self, prepared: list[PreparedJob]):
        self.ranges = [_Range(p.job, render_folder(p), track_folder(p).path / "track.npz")
                       for p in prepared]
        self._chunk: tuple[int, int] | None = None
        self._crops: tuple[np.ndarray, np.ndarray] | None = None

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __call__(self, index: int, rgb: np.ndarray) -> np.ndarray | None:
        """The processed frame, ``rgb`` itself where no face was tracked, None if not cached."""
        for n, r in enumerate(self.ranges):
            if r.job.start <= index < r.job.stop:
                return self._frame(n, r, index, rgb)
        return None

    def _frame(self, n: int, r: _Range, index: int, rgb: np.ndarray) -> np.ndarray | None:
        size = max(1, r.job.run.chunk_frames)
        chunk, k = divmod(index - r.job.start, size)
        if (n, chunk) != self._chunk:
            if not r.folder.has_chunk(chunk):
                return None
            self._crops, self._chunk = r.folder.load_chunk(chunk), (n, chunk)
        crops, present = self._crops
        if not present[k]:
            return rgb
        if r.track is None:
            if not r.track_path.exists():
                return None
            r.track = FaceTrack.load(r.track_path)
        edit = r.job.edit
        return compose(rgb, crops[k], r.track.landmarks[index - r.track.start],
                       region=r.job.mask_region, feather=edit.feather, strength=edit.strength,
                       color_match=edit.color_match)
