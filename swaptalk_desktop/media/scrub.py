"""Random frame access for scrubbing and frame stepping in a viewer.

One decoder stays open. A request ahead of it decodes forward unless seeking to a keyframe
closer to the target saves more than a seek costs; anything else seeks. Every picture the
decoder produces on the way is kept (still in YUV, so passing over it costs no conversion) in a
least-recently-used cache bounded in bytes, so stepping backwards after a seek, or scrubbing back
and forth over a stretch, is served from memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import av
import numpy as np

from .decode import VideoReader
from .probe import VideoInfo

DEFAULT_CACHE_BYTES = 384 << 20
SEEK_COST_FRAMES = 8
"""Decoding this many frames costs about as much as one seek (flush, threads refilling)."""


class ScrubReader:
    """``frame(i)`` as upright RGB uint8, frame-accurate like :class:`VideoReader`.

    Returned arrays are shared with the cache and read-only; copy one to change it. Safe to
    call from several threads (one request decodes at a time).
    """

    def __init__(self, info: VideoInfo, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 seek_cost_frames: int = SEEK_COST_FRAMES) -> None:
        self.info = info
        self.cache_bytes = int(cache_bytes)
        self._cache: OrderedDict[int, np.ndarray | av.VideoFrame] = OrderedDict()
        self._sizes: dict[int, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._decoder = _ScrubDecoder(info, self._remember, seek_cost_frames)
        self.hits = 0
        """Requests answered from the cache (for tests and diagnostics)."""

    def __enter__(self) -> ScrubReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._decoder.close()
            self._cache.clear()
            self._sizes.clear()
            self._bytes = 0

    @property
    def seek_count(self) -> int:
        return self._decoder.seek_count

    def cached(self, index: int) -> bool:
        return index in self._cache

    def frame(self, index: int) -> np.ndarray:
        if not 0 <= index < self.info.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.info.frame_count - 1} of "
                             f"{self.info.name}")
        with self._lock:
            entry = self._cache.get(index)
            if isinstance(entry, np.ndarray):
                self.hits += 1
                self._cache.move_to_end(index)
                return entry
            if entry is not None:
                self.hits += 1
                rgb = self._decoder.to_rgb(entry)
            else:
                rgb = next(self._decoder.read(index, index + 1))
            rgb.flags.writeable = False
            self._remember(index, rgb)
            return rgb

    def _remember(self, index: int, item: np.ndarray | av.VideoFrame) -> None:
        if isinstance(self._cache.get(index), np.ndarray) and not isinstance(item, np.ndarray):
            self._cache.move_to_end(index)  # already converted; keep the RGB
            return
        size = item.nbytes if isinstance(item, np.ndarray) else sum(
            p.buffer_size for p in item.planes)
        self._bytes += size - self._sizes.get(index, 0)
        self._cache[index] = item
        self._sizes[index] = size
        self._cache.move_to_end(index)
        while self._bytes > self.cache_bytes and len(self._cache) > 1:
            old, _ = self._cache.popitem(last=False)
            self._bytes -= self._sizes.pop(old)


class _ScrubDecoder(VideoReader):
    """A VideoReader that reports every decoded picture and weighs seeks against decoding."""

    def __init__(self, info: VideoInfo, sink, seek_cost_frames: int) -> None:
        super().__init__(info)
        self._sink = sink
        self._seek_cost = int(seek_cost_frames)

    def _position_for(self, start: int) -> None:
        if self._container is not None and start > self._last:
            keyframe_pos = int(np.searchsorted(self.info.keyframes, start, side="right")) - 1
            keyframe = int(self.info.keyframes[max(keyframe_pos, 0)])
            forward = start - self._last - 1
            if keyframe > self._last + 1 and forward <= self._seek_cost + (start - keyframe):
                return  # cheaper to decode through the keyframe than to seek to it
        super()._position_for(start)

    def _next_frame(self) -> tuple[int, av.VideoFrame] | None:
        item = super()._next_frame()
        if item is not None:
            self._sink(*item)
        return item
