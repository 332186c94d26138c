"""Frame-accurate reading of RGB frames by index.

Frames are identified by their presentation timestamp against the probe's frame table, never
by counting after a seek (decoders may emit or drop leading pictures around a keyframe), so
``frame(i)`` is the same picture whether reached by seeking or by decoding from the start.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator

import av
import av.error
import numpy as np

from ..core.errors import InputError
from .colour import frame_planes, rotate_planes, yuv_to_rgb
from .container import frame_timestamp, open_input
from .probe import VideoInfo

log = logging.getLogger(__name__)


class VideoReader:
    """Reads upright RGB uint8 frames ``[start, stop)`` of a probed clip.

    Consecutive reads continue the running decoder; a seek happens only when the requested
    start lies behind the decoder or beyond the next keyframe. One read at a time: starting a
    new :meth:`read` invalidates the iterator of the previous one.
    """

    def __init__(self, info: VideoInfo) -> None:
        self.info = info
        self._spec = info.colour
        self._index_of = {int(p): i for i, p in enumerate(info.pts)}
        self._container: av.container.InputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._packets: Iterator[av.Packet] | None = None
        self._pending: deque[tuple[int, av.VideoFrame]] = deque()
        self._last = -1          # index of the last frame handed out (or skipped past)
        self._keyframe_pos = 0   # position in info.keyframes of the last seek target
        self._generation = 0
        self.seek_count = 0
        """How many times the reader repositioned the file (for tests and diagnostics)."""

    # -- public API ----------------------------------------------------------------------

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pending.clear()
        self._packets = None
        self._stream = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Yield frames ``start .. stop-1`` as RGB uint8 ``(height, width, 3)``."""
        n = self.info.frame_count
        stop = n if stop is None else stop
        if not (0 <= start <= stop <= n):
            raise IndexError(f"frame range [{start}, {stop}) is outside 0..{n} of "
                             f"{self.info.name}")
        self._generation += 1
        return self._read(start, stop, self._generation)

    def read_decoded(self, start: int, stop: int) -> Iterator[tuple[int, av.VideoFrame]]:
        """Yield ``(index, decoded frame)`` for ``start .. stop-1``: the decoder's own YUV
        pictures, for writers that pass frames through without an RGB round trip."""
        n = self.info.frame_count
        if not (0 <= start <= stop <= n):
            raise IndexError(f"frame range [{start}, {stop}) is outside 0..{n} of "
                             f"{self.info.name}")
        self._generation += 1
        return self._read_raw(start, stop, self._generation)

    def frame(self, index: int) -> np.ndarray:
        """One frame as RGB uint8; reading ``i`` then ``i + 1`` does not seek."""
        if not 0 <= index < self.info.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.info.frame_count - 1} of "
                             f"{self.info.name}")
        return next(self.read(index, index + 1))

    def to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        """The upright RGB picture of a decoded frame of this clip."""
        planes = rotate_planes(frame_planes(frame), self.info.rotation)
        return yuv_to_rgb(planes, self._spec)

    # -- positioning ---------------------------------------------------------------------

    def _open(self) -> None:
        self.close()
        self._container = open_input(self.info.path, "a video file")
        self._stream = next(s for s in self._container.streams
                            if s.index == self.info.stream_index)
        self._stream.thread_type = "AUTO"
        self._packets = self._container.demux(self._stream)
        self._last = -1
        self._keyframe_pos = 0

    def _seek(self, keyframe_pos: int) -> None:
        self.seek_count += 1
        if keyframe_pos <= 0:
            # Reopening is the one way to start at the very first packet on every demuxer.
            self._open()
            return
        assert self._container is not None and self._stream is not None
        target = int(self.info.keyframe_dts[keyframe_pos])
        try:
            self._container.seek(target, stream=self._stream, backward=True)
        except av.error.FFmpegError:
            log.debug("%s: seek to %d failed; reading from the start", self.info.name, target)
            self._open()
            return
        self._pending.clear()
        self._packets = self._container.demux(self._stream)
        self._last = int(self.info.keyframes[keyframe_pos]) - 1
        self._keyframe_pos = keyframe_pos

    def _position_for(self, start: int) -> None:
        keyframe_pos = int(np.searchsorted(self.info.keyframes, start, side="right")) - 1
        if self._container is None:
            self._open()
            if keyframe_pos > 0:
                self._seek(keyframe_pos)
            return
        behind = start <= self._last
        keyframe = int(self.info.keyframes[max(keyframe_pos, 0)])
        # Decoding forward is cheaper than seeking unless a keyframe lies between us and start.
        if behind or keyframe > self._last + 1:
            self._seek(keyframe_pos)

    # -- decoding ------------------------------------------------------------------------

    def _next_frame(self) -> tuple[int, av.VideoFrame] | None:
        assert self._stream is not None and self._packets is not None
        while not self._pending:
            packet = next(self._packets, None)
            if packet is None:
                return None
            try:
                frames = self._stream.decode(packet)
            except av.error.FFmpegError as err:
                raise InputError(f"{self.info.name} could not be decoded near frame "
                                 f"{self._last + 1} ({err}); re-export it from your "
                                 "editor") from err
            for frame in frames:
                ts = frame_timestamp(frame)
                index = self._index_of.get(int(ts)) if ts is not None else None
                if index is None:
                    log.debug("%s: skipping a frame outside the frame table (ts %s)",
                              self.info.name, ts)
                    continue
                self._pending.append((index, frame))
        return self._pending.popleft()

    def _read_raw(self, start: int, stop: int,
                  generation: int) -> Iterator[tuple[int, av.VideoFrame]]:
        if start == stop:
            return
        self._position_for(start)
        just_seeked = True
        i = start
        while i < stop:
            if generation != self._generation:
                raise RuntimeError("a newer read() on this VideoReader replaced this one")
            item = self._next_frame()
            if item is not None and item[0] < i:
                continue
            if item is None or item[0] > i:
                if just_seeked and self._keyframe_pos > 0:
                    # The demuxer landed after frame i (seek by dts vs pts, open GOP):
                    # start again one keyframe earlier.
                    self._seek(self._keyframe_pos - 1)
                    continue
                raise InputError(
                    f"{self.info.name}: frame {i} of {self.info.frame_count} could not be "
                    "decoded (the file is damaged); re-export it from your editor")
            index, frame = item
            just_seeked = False
            self._last = index
            yield index, frame
            i += 1

    def _read(self, start: int, stop: int, generation: int) -> Iterator[np.ndarray]:
        for _index, frame in self._read_raw(start, stop, generation):
            yield self.to_rgb(frame)
