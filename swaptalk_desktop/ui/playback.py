"""Transport: play/pause, J/K/L shuttle (1x, 2x, 4x, both directions), slow shuttle at 0.5x
(Shift+J/L, or J/L held with K), driven by a clock.

A decode-ahead thread keeps a short buffer of frames in the playing direction; the GUI timer only
picks the frame that the clock says is due (dropping frames when decoding falls behind) and
hands it to the viewer. Sound plays at 1x forward through :mod:`audio_out`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ..media import VideoInfo, VideoReader
from .audio_out import AudioOut, Overlay

log = logging.getLogger(__name__)
SPEEDS = (0.5, 1, 2, 4)
SLOW = 0.5
AHEAD = 24
_BATCH = 8


class DecodeAhead:
    """Decodes frames from a position in one direction into a bounded buffer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._buffer: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        self._processor = None
        self._info: VideoInfo | None = None
        self._pos = 0
        self._direction = 0
        self._generation = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="decode-ahead", daemon=True)
        self._thread.start()

    def start(self, info: VideoInfo, index: int, direction: int, processor=None) -> None:
        """``processor(index, rgb)`` adds a processed frame (None where it has none)."""
        with self._cond:
            self._generation += 1
            self._processor = processor
            self._info, self._pos, self._direction = info, index, direction
            self._buffer.clear()
            self._cond.notify()

    def halt(self) -> None:
        with self._cond:
            self._generation += 1
            self._direction = 0
            self._buffer.clear()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._generation += 1
            self._cond.notify()
        self._thread.join(timeout=3)

    def take(self, target: int) -> tuple[int, tuple[np.ndarray, np.ndarray | None]] | None:
        """The decoded frame nearest to ``target`` not past it (in the playing direction);
        frames behind it are dropped so the thread can decode further."""
        with self._cond:
            d = self._direction
            if d == 0 or not self._buffer:
                return None
            ready = [k for k in self._buffer if (k - target) * d <= 0]
            if not ready:
                return None
            best = max(ready, key=lambda k: k * d)
            for k in ready:
                if k != best:
                    del self._buffer[k]
            frame = self._buffer.pop(best)
            self._pos = best + d
            self._cond.notify()
            return best, frame

    def lag(self, target: int) -> int:
        """How far (frames) the oldest buffered frame is behind ``target``; 0 when ahead."""
        with self._cond:
            if not self._buffer:
                return max(0, (target - self._pos) * self._direction)
            nearest = min(self._buffer, key=lambda k: k * self._direction)
            return max(0, (target - nearest) * self._direction)

    def _next_span(self) -> tuple[int, int] | None:
        n = self._info.frame_count
        d = self._direction
        if self._buffer:
            edge = max(self._buffer) + 1 if d > 0 else min(self._buffer) - 1
        else:
            edge = self._pos
        if d > 0:
            return (edge, min(n, edge + _BATCH)) if edge < n else None
        return (max(0, edge - _BATCH + 1), edge + 1) if edge >= 0 else None

    def _run(self) -> None:
        reader: VideoReader | None = None
        while True:
            with self._cond:
                while not self._stop and (self._direction == 0 or
                                          len(self._buffer) >= AHEAD or
                                          self._next_span() is None):
                    self._cond.wait(0.2)
                if self._stop:
                    break
                gen, info, span = self._generation, self._info, self._next_span()
                processor = self._processor
            if reader is None or reader.info is not info:
                if reader is not None:
                    reader.close()
                reader = VideoReader(info)
            try:
                frames = [(i, (rgb, processor(i, rgb) if processor else None))
                          for i, rgb in zip(range(*span), reader.read(*span), strict=False)]
            except Exception as exc:
                log.warning("playback decode stopped: %s", exc)
                with self._cond:
                    if gen == self._generation:
                        self._direction = 0
                continue
            with self._cond:
                if gen == self._generation:
                    self._buffer.update(frames)
        if reader is not None:
            reader.close()


class PlaybackController(QObject):
    frameShown = Signal(int, object, object)   # index, source rgb, processed rgb or None
    speedChanged = Signal(float)       # signed speed, 0 = stopped

    def __init__(self, parent: QObject | None = None, audio: AudioOut | None = None):
        super().__init__(parent)
        self.info: VideoInfo | None = None
        self.speed: float = 0
        self.position = 0
        self.audio = audio if audio is not None else AudioOut()
        self.overlays: Callable[[], list[Overlay]] = list
        self.scrub_audio = True
        """Play a snippet of sound at each playhead drag (Playback ▸ Audio Scrubbing)."""
        self.processed_frames: Callable[[], Callable | None] = lambda: None
        """Asked at each start: a ``processor(index, rgb)`` for processed playback, or None."""
        self._decoder = DecodeAhead()
        self._timer = QTimer(self)
        self._timer.setInterval(8)
        self._timer.timeout.connect(self._tick)
        self._t0 = 0.0
        self._origin_s = 0.0

    @property
    def playing(self) -> bool:
        return self.speed != 0

    def set_clip(self, info: VideoInfo | None, position: int = 0) -> None:
        self.stop()
        self.info = info
        self.position = position

    def seek(self, index: int) -> None:
        """Jump while playing keeps playing from there; otherwise just remembers it."""
        self.position = index
        if self.playing:
            self._start(self.speed)

    def scrub(self, index: int) -> None:
        """The sound at ``index`` while the playhead is dragged (stopped playback only)."""
        if self.playing or self.info is None or not self.scrub_audio or \
                self.info.audio is None:
            return
        index = max(0, min(int(index), self.info.frame_count - 1))
        self.audio.scrub(self.info.path, self.info.audio_time(index), self.overlays())

    def toggle(self) -> None:
        if self.playing:
            self.stop()
        else:
            self._start(1)

    def shuttle_forward(self) -> None:   # L
        self._start(1 if self.speed <= 0 else min(4, self.speed * 2))

    def shuttle_backward(self) -> None:  # J
        self._start(-1 if self.speed >= 0 else max(-4, self.speed * 2))

    def shuttle_slow(self, direction: int) -> None:  # Shift+L / Shift+J, or K held + L / J
        self._start(SLOW if direction > 0 else -SLOW)

    def stop(self) -> None:              # K
        if not self.playing:
            return
        self._timer.stop()
        self._decoder.halt()
        self.audio.stop()
        self.speed = 0
        self.speedChanged.emit(0)

    def close(self) -> None:
        self.stop()
        self._decoder.close()
        self.audio.close()

    def _start(self, speed: float) -> None:
        if self.info is None or self.info.frame_count == 0:
            return
        n = self.info.frame_count
        if speed > 0 and self.position >= n - 1:
            self.position = 0  # play from the start after the end, like most players
        if speed < 0 and self.position <= 0:
            return
        self.audio.stop()
        self.speed = speed
        self._t0 = time.monotonic()
        self._origin_s = float(self.info.frame_times[self.position])
        # Composing a processed frame costs about a decode; at 2x/4x the source is shown.
        processor = self.processed_frames() if abs(speed) <= 1 else None
        self._decoder.start(self.info, self.position, 1 if speed > 0 else -1, processor)
        if speed == 1:
            self.audio.play(self.info.path, self.info.audio_time(self.position),
                            self.overlays())
        self._timer.start()
        self.speedChanged.emit(speed)

    def _due(self) -> int:
        t = self._origin_s + (time.monotonic() - self._t0) * self.speed
        i = int(np.searchsorted(self.info.frame_times, t + 1e-6, side="right")) - 1
        return min(max(i, 0), self.info.frame_count - 1)

    def _tick(self) -> None:
        if self.info is None:
            return
        due = self._due()
        direction = 1 if self.speed > 0 else -1
        if self._decoder.lag(due) > AHEAD:
            # Decoding fell far behind (4x on a large clip): jump rather than crawl.
            self._decoder.start(self.info, due, direction, self._decoder._processor)
        got = self._decoder.take(due)
        if got is not None:
            self.position = got[0]
            self.frameShown.emit(got[0], *got[1])
        end = self.info.frame_count - 1 if direction > 0 else 0
        if due == end and self.position == end:
            self.stop()
