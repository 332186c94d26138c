"""Sound for playback through pygame's mixer (SDL2), streamed in short blocks from a thread.

The source track is decoded from the playhead on; inside edits that have dialogue, the dialogue
replaces it the way an export with "replace" would, so the user hears what they will get. When
no audio device opens, playback runs silently and ``status`` says so.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ..media import load_audio, remix, resample

log = logging.getLogger(__name__)
BLOCK_S = 0.25
SCRUB_S = 0.09
"""Sound played for one playhead move while scrubbing (about two frames, as NLEs do)."""
SCRUB_FADE_S = 0.006
NO_DEVICE = "no audio device"
_mixer_users = 0  # pygame's mixer is one per process; the last AudioOut to close shuts it


@dataclass(frozen=True)
class Overlay:
    """Dialogue that replaces the source over ``[t0, t1)`` (seconds on the clip's audio)."""

    t0: float
    t1: float
    path: Path
    offset: float


class AudioOut:
    def __init__(self, rate: int = 48000):
        self.status = ""
        self.rate = rate
        self.channels = 2
        self._mixer = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._dialogue: dict[Path, np.ndarray] = {}
        self._channel = None
        self._scrub_lock = threading.Lock()
        self._scrub_next: tuple | None = None
        self._scrub_thread: threading.Thread | None = None
        self._scrub_channel = None
        global _mixer_users
        try:
            os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
            # SDL would otherwise take over SIGINT/SIGTERM, and the editor would ignore them.
            os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
            import pygame.mixer
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=rate, size=-16, channels=2, buffer=1024)
            got = pygame.mixer.get_init()
            if not got:
                raise RuntimeError("mixer did not start")
            self.rate, _, self.channels = got
            self._mixer = pygame.mixer
            _mixer_users += 1
        except Exception as exc:  # no device, no SDL audio driver, headless machine
            log.info("audio playback off: %s", exc)
            self.status = NO_DEVICE

    @property
    def available(self) -> bool:
        return self._mixer is not None

    def play(self, source: Path | None, start_s: float, overlays: list[Overlay]) -> None:
        self.stop()
        if not self.available or source is None:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._stream, daemon=True, name="audio",
                                        args=(source, start_s, overlays, self._stop))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._channel is not None:
            try:
                self._channel.stop()
            except Exception:  # the mixer went away under us; nothing is playing then
                pass
            self._channel = None

    def scrub(self, source: Path | None, t: float, overlays: list[Overlay]) -> None:
        """Play the ~90 ms of sound at ``t`` (a playhead drag), without waiting: the decode
        runs on a thread and only the latest position is played (older ones are dropped)."""
        if not self.available or source is None or self._thread is not None:
            return  # playing: the playback's own sound goes on
        with self._scrub_lock:
            self._scrub_next = (source, float(t), list(overlays))
            if self._scrub_thread is None or not self._scrub_thread.is_alive():
                self._scrub_thread = threading.Thread(target=self._scrub_loop, daemon=True,
                                                      name="audio-scrub")
                self._scrub_thread.start()

    def scrub_samples(self, source: Path, t: float, overlays: list[Overlay]) -> np.ndarray:
        """float32 [n, channels]: the sound a scrub at ``t`` plays (the dialogue inside an
        edit, as playback has it), faded in and out so that fast drags do not click."""
        n = int(round(SCRUB_S * self.rate))
        got, have = [], 0
        stop = threading.Event()
        for block in self._blocks(source, t, stop):
            got.append(block)
            have += len(block)
            if have >= n:
                break
        samples = np.concatenate(got)[:n] if got else np.zeros((0, self.channels), np.float32)
        if len(samples) < n:  # the end of the track: silence after it
            samples = np.concatenate([samples, np.zeros((n - len(samples), self.channels),
                                                        np.float32)])
        samples = self._mix(samples, t, overlays)
        fade = min(int(SCRUB_FADE_S * self.rate), n // 2)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)[:, None]
            samples = samples.copy()
            samples[:fade] *= ramp
            samples[-fade:] *= ramp[::-1]
        return samples

    def _scrub_loop(self) -> None:
        while True:
            with self._scrub_lock:
                request, self._scrub_next = self._scrub_next, None
                if request is None:
                    self._scrub_thread = None
                    return
            try:
                samples = self.scrub_samples(*request)
                pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
                sound = self._mixer.Sound(buffer=np.ascontiguousarray(pcm).tobytes())
                if self._scrub_channel is not None:
                    self._scrub_channel.stop()
                self._scrub_channel = sound.play()
            except Exception as exc:  # a broken track or a lost device: scrub silently
                log.info("audio scrub skipped: %s", exc)

    def close(self) -> None:
        global _mixer_users
        self.stop()
        if self.available:
            _mixer_users -= 1
            if _mixer_users <= 0:
                self._mixer.quit()
            self._mixer = None

    # --- the streaming thread ---------------------------------------------------------------
    def _dialogue_samples(self, path: Path) -> np.ndarray:
        if path not in self._dialogue:
            clip = resample(load_audio(path), self.rate, self.channels)
            self._dialogue[path] = clip.samples
        return self._dialogue[path]

    def _blocks(self, source: Path, start_s: float, stop: threading.Event):
        """float32 [n, channels] blocks of the source's audio from ``start_s`` on."""
        with av.open(str(source)) as container:
            if not container.streams.audio:
                return
            stream = container.streams.audio[0]
            stream.thread_type = "AUTO"
            container.seek(int(max(0.0, start_s) / stream.time_base), stream=stream,
                           backward=True)
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=self.rate)
            skip = None
            for packet in container.demux(stream):
                if stop.is_set():
                    return
                for frame in packet.decode():
                    t = float(frame.pts * stream.time_base) if frame.pts is not None else None
                    for out in resampler.resample(frame):
                        block = out.to_ndarray().reshape(-1, 2)
                        if skip is None:
                            skip = max(0, int(round((start_s - (t or start_s)) * self.rate)))
                        if skip:
                            cut = min(skip, len(block))
                            block, skip = block[cut:], skip - cut
                        if len(block):
                            yield remix(block, self.channels)

    def _mix(self, block: np.ndarray, t: float, overlays: list[Overlay]) -> np.ndarray:
        n = len(block)
        times = t + np.arange(n) / self.rate
        for ov in overlays:
            inside = (times >= ov.t0) & (times < ov.t1)
            if not inside.any():
                continue
            lines = self._dialogue_samples(ov.path)
            u = np.round((times[inside] - ov.t0 - ov.offset) * self.rate).astype(np.int64)
            valid = (u >= 0) & (u < len(lines))
            replaced = np.zeros((int(inside.sum()), self.channels), np.float32)
            replaced[valid] = lines[u[valid]]
            block = block.copy()
            block[inside] = replaced
        return block

    def _stream(self, source: Path, start_s: float, overlays: list[Overlay],
                stop: threading.Event) -> None:
        try:
            channel = None
            t = start_s
            pending = np.zeros((0, self.channels), np.float32)
            size = int(BLOCK_S * self.rate)
            for block in self._blocks(source, start_s, stop):
                pending = np.concatenate([pending, block])
                while len(pending) >= size and not stop.is_set():
                    chunk, pending = pending[:size], pending[size:]
                    chunk = self._mix(chunk, t, overlays)
                    t += size / self.rate
                    pcm = (np.clip(chunk, -1, 1) * 32767).astype(np.int16)
                    sound = self._mixer.Sound(buffer=np.ascontiguousarray(pcm).tobytes())
                    if channel is None:
                        channel = self._channel = sound.play()
                        if channel is None:
                            return
                        continue
                    while channel.get_queue() is not None and not stop.is_set():
                        stop.wait(0.02)
                    if stop.is_set():
                        return
                    channel.queue(sound)
        except Exception as exc:  # a broken audio track must not take playback down
            log.warning("audio playback stopped: %s", exc)
