"""An edit's generated crops by frame index, from its render folder in the cache.

Render, preview and playback all read the crops that processing left in a range's chunk files
through this one lookup; each chunk file is complete once it exists (written atomically), so
the chunk held in memory never goes stale.
"""

from __future__ import annotations

import numpy as np

from .job import RangeJob
from .workdir import JobFolder


class RangeCache:
    """Crops of ``job``'s range in ``folder``, one chunk loaded at a time (a writer or a
    player walks forward, so the next frame is almost always in the chunk already held)."""

    def __init__(self, folder: JobFolder, job: RangeJob):
        self.folder, self.job = folder, job
        self._index = -1
        self._crops: np.ndarray | None = None
        self._present: np.ndarray | None = None

    def _chunk_of(self, frame: int) -> tuple[int, int]:
        return divmod(frame - self.job.start, max(1, self.job.run.chunk_frames))

    def has(self, frame: int) -> bool:
        """Whether the chunk holding ``frame`` has been processed."""
        index, _ = self._chunk_of(frame)
        return index == self._index or self.folder.has_chunk(index)

    def crop(self, frame: int) -> np.ndarray | None:
        """The generated crop shown at ``frame``; None where the range has no face there.
        The frame's chunk must exist (:meth:`has`)."""
        index, k = self._chunk_of(frame)
        if index != self._index:
            self._crops, self._present = self.folder.load_chunk(index)
            self._index = index
        return self._crops[k] if self._present[k] else None

    def release(self) -> None:
        """Let go of the chunk held in memory."""
        self._index, self._crops, self._present = -1, None, None
