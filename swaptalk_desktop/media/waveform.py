"""Min/max peak pyramids of a sound track, for drawing waveforms at any zoom without lag.

A track is decoded once, block by block (a 60-minute stereo file never sits in memory as
float32), mixed to mono and reduced to min/max peaks of 2^6 samples; each further level halves
the one below. The pyramid is cached on disk by the file's content fingerprint, so opening the
same media again (even after a move or rename) costs one small file read. Drawing picks the
level with one to two peaks per pixel and slices out only the visible window.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
import soundfile

from ..core.atomic import write_bytes_atomic
from ..core.cachedir import cache_root
from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError, OutputError
from ..core.hashing import content_fingerprint
from .audio import _SOUNDFILE_SUFFIXES, _frame_samples
from .container import (
    IMAGE_SUFFIXES,
    check_input_file,
    is_image_container,
    open_input,
    pick_audio_stream,
)

log = logging.getLogger(__name__)

BASE_LOG2 = 6
"""Level 0 holds one min/max pair per 64 samples (1.3 ms at 48 kHz)."""
FORMAT_VERSION = 1
"""Bump when the cached file's layout or contents change."""
_SCALE = 32767.0
_BLOCK = 1 << 20  # samples per decode block (multiple of the base peak size)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class WaveformPyramid:
    """Peaks of a mono mix: ``mins[k]``/``maxs[k]`` are int16 (full scale 32767) with one pair
    per ``2 ** (base_log2 + k)`` samples. Times are seconds from the track's first sample
    (the clock of :meth:`VideoInfo.audio_time`)."""

    sample_rate: int
    n_samples: int
    mins: tuple[np.ndarray, ...]
    maxs: tuple[np.ndarray, ...]
    base_log2: int = BASE_LOG2

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    @property
    def levels(self) -> int:
        return len(self.mins)

    def samples_per_peak(self, level: int) -> int:
        return 1 << (self.base_log2 + level)

    def level_for(self, t0: float, t1: float, pixels: int) -> int:
        """The finest level with at least one peak per pixel (fewer than two, unless clamped)."""
        spp = max((t1 - t0) * self.sample_rate / max(pixels, 1), 1.0)
        level = int(math.floor(math.log2(spp))) - self.base_log2
        return min(max(level, 0), self.levels - 1)

    def window(self, t0: float, t1: float,
               pixels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(times, mins, maxs)`` float arrays for ``[t0, t1)`` drawn ``pixels`` wide.

        ``times`` is the start of each peak's span; only peaks overlapping the window are
        returned (at most about twice ``pixels``), with values in -1..1.
        """
        t0, t1 = max(0.0, float(t0)), min(self.duration_s, float(t1))
        if t1 <= t0 or pixels <= 0:
            empty = np.zeros(0, np.float32)
            return empty.astype(np.float64), empty, empty
        level = self.level_for(t0, t1, pixels)
        size = self.samples_per_peak(level)
        count = len(self.mins[level])
        i0 = min(count, int(t0 * self.sample_rate) // size)
        i1 = min(count, -(-int(math.ceil(t1 * self.sample_rate)) // size))
        times = np.arange(i0, i1, dtype=np.float64) * (size / self.sample_rate)
        scale = np.float32(1.0 / _SCALE)
        return (times, self.mins[level][i0:i1].astype(np.float32) * scale,
                self.maxs[level][i0:i1].astype(np.float32) * scale)

    # -- building and storage ----------------------------------------------------------------

    @classmethod
    def from_base(cls, mins: np.ndarray, maxs: np.ndarray, sample_rate: int,
                  n_samples: int) -> WaveformPyramid:
        """Build every level above level-0 peaks (int16)."""
        levels_min, levels_max = [mins], [maxs]
        while len(levels_min[-1]) > 1:
            lo, hi = levels_min[-1], levels_max[-1]
            if len(lo) % 2:  # an odd tail pairs with itself
                lo, hi = np.append(lo, lo[-1]), np.append(hi, hi[-1])
            levels_min.append(np.minimum(lo[0::2], lo[1::2]))
            levels_max.append(np.maximum(hi[0::2], hi[1::2]))
        return cls(int(sample_rate), int(n_samples), tuple(levels_min), tuple(levels_max))

    @classmethod
    def from_samples(cls, samples: np.ndarray, sample_rate: int) -> WaveformPyramid:
        """A pyramid of float32 ``[n]`` or ``[n, channels]`` samples already in memory."""
        builder = _PeakBuilder()
        builder.feed(_mono(np.asarray(samples, np.float32)))
        mins, maxs = builder.finish()
        return cls.from_base(mins, maxs, sample_rate, builder.n_samples)

    def to_bytes(self) -> bytes:
        offsets = np.cumsum([0] + [len(m) for m in self.mins]).astype(np.int64)
        buf = io.BytesIO()
        # Uncompressed: int16 peaks barely compress and loading must stay instant.
        np.savez(buf, version=np.int64(FORMAT_VERSION), sample_rate=np.int64(self.sample_rate),
                 n_samples=np.int64(self.n_samples), base_log2=np.int64(self.base_log2),
                 offsets=offsets, mins=np.concatenate(self.mins),
                 maxs=np.concatenate(self.maxs))
        return buf.getvalue()

    @classmethod
    def load(cls, path: Path) -> WaveformPyramid:
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != FORMAT_VERSION:
                raise ValueError(f"{path.name}: peak cache format {int(data['version'])}")
            offsets = data["offsets"]
            mins, maxs = data["mins"], data["maxs"]
            spans = list(zip(offsets[:-1], offsets[1:], strict=True))
            return cls(int(data["sample_rate"]), int(data["n_samples"]),
                       tuple(mins[a:b] for a, b in spans), tuple(maxs[a:b] for a, b in spans),
                       int(data["base_log2"]))


def load_or_build_waveform(path: Path | str, progress: Progress | None = None,
                           cancel: CancelToken | None = None,
                           cache_dir: Path | None = None) -> WaveformPyramid:
    """The pyramid of a sound file or of a video's audio track, from the cache when it exists.

    The first call decodes the whole track (``progress(samples_done, samples_total)``,
    cancellable between blocks; a cancelled build caches nothing); later calls read the
    cache. Raises InputError when the file has no audio.
    """
    path = Path(path)
    cancel = cancel or NEVER
    check_input_file(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(f"{path.name} is an image, not a sound file; choose an audio or "
                         "video file")
    source = _open_source(path)
    try:
        cache = cache_path(path, source.sample_rate, source.stream_index, cache_dir)
        if cache.exists():
            try:
                return WaveformPyramid.load(cache)
            except (OSError, ValueError, KeyError) as err:
                log.info("%s: peak cache unreadable (%s); rebuilding", path.name, err)
        pyramid = _build(source, progress, cancel)
    finally:
        source.close()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(cache, pyramid.to_bytes())
    except (OSError, OutputError) as err:  # costs speed next time, nothing else
        log.warning("could not cache the waveform of %s: %s", path.name, err)
    return pyramid


def cache_path(path: Path, sample_rate: int, stream_index: int = 0,
               cache_dir: Path | None = None) -> Path:
    key = hashlib.sha256(
        f"{content_fingerprint(path)}:{sample_rate}:{stream_index}:{BASE_LOG2}:"
        f"{FORMAT_VERSION}".encode()).hexdigest()[:32]
    return (cache_dir or cache_root() / "peaks") / f"{key}.npz"


# -- decoding ------------------------------------------------------------------------------


class _PeakBuilder:
    """Turns a stream of mono blocks into level-0 peaks, carrying partial peaks across."""

    def __init__(self) -> None:
        self.size = 1 << BASE_LOG2
        self._rest = np.zeros(0, np.float32)
        self._mins: list[np.ndarray] = []
        self._maxs: list[np.ndarray] = []
        self.n_samples = 0

    def feed(self, mono: np.ndarray) -> None:
        self.n_samples += len(mono)
        if len(self._rest):
            mono = np.concatenate([self._rest, mono])
        whole = len(mono) // self.size * self.size
        if whole:
            grid = mono[:whole].reshape(-1, self.size)
            self._mins.append(_to_int16(grid.min(axis=1)))
            self._maxs.append(_to_int16(grid.max(axis=1)))
        self._rest = mono[whole:].copy()

    def finish(self, n_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Level-0 peaks; ``n_samples`` trims a tail the container says is padding."""
        if len(self._rest):
            self._mins.append(_to_int16(self._rest.min(keepdims=True)))
            self._maxs.append(_to_int16(self._rest.max(keepdims=True)))
            self._rest = np.zeros(0, np.float32)
        if n_samples is not None:
            self.n_samples = min(self.n_samples, n_samples)
        count = -(-self.n_samples // self.size)
        mins = np.concatenate(self._mins)[:count] if self._mins else np.zeros(1, np.int16)
        maxs = np.concatenate(self._maxs)[:count] if self._maxs else np.zeros(1, np.int16)
        return mins, maxs


def _to_int16(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values * _SCALE), -_SCALE, _SCALE).astype(np.int16)


def _mono(block: np.ndarray) -> np.ndarray:
    if block.ndim == 1:
        return block
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


class _Source:
    """One audio track being decoded: libsndfile for PCM/FLAC files, FFmpeg for the rest."""

    def __init__(self, path: Path, sample_rate: int, total: int, stream_index: int,
                 blocks: Iterator[np.ndarray], closer: Callable[[], None],
                 declared: int = 0) -> None:
        self.path, self.sample_rate, self.total = path, sample_rate, total
        self.stream_index, self.blocks, self.close = stream_index, blocks, closer
        self.declared = declared


def _open_source(path: Path) -> _Source:
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            sf = soundfile.SoundFile(str(path))
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
            log.debug("%s: libsndfile cannot read it (%s); trying FFmpeg", path.name, err)
        else:
            if sf.frames == 0:
                sf.close()
                raise InputError(f"{path.name} contains no audio samples; choose another file")
            blocks = sf.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True)
            return _Source(path, int(sf.samplerate), int(sf.frames), 0, blocks, sf.close)
    container = open_input(path, "an audio or video file")
    try:
        if is_image_container(container):
            raise InputError(f"{path.name} is an image, not a sound file; choose an audio or "
                             "video file")
        stream = pick_audio_stream(container)
        if stream is None:
            raise InputError(f"{path.name} has no audio stream, so there is no waveform to "
                             "show")
        rate = int(stream.codec_context.sample_rate or 0)
        declared_s = (float(stream.duration * stream.time_base)
                      if stream.duration and stream.time_base else 0.0)
        if not declared_s and container.duration:
            declared_s = container.duration / av.time_base
    except BaseException:
        container.close()
        raise
    total = max(1, round(declared_s * rate))
    return _Source(path, rate, total, stream.index, _av_blocks(container, stream, path),
                   container.close, declared=round(declared_s * rate))


def _av_blocks(container: av.container.InputContainer, stream: av.AudioStream,
               path: Path) -> Iterator[np.ndarray]:
    pending: list[np.ndarray] = []
    count = 0
    decoded = 0
    try:
        for frame in container.decode(stream):
            samples = _frame_samples(frame)
            pending.append(samples)
            count += len(samples)
            if count >= _BLOCK:
                yield np.concatenate(pending)
                decoded += count
                pending, count = [], 0
    except av.error.FFmpegError as err:
        if not decoded and not pending:
            raise InputError(f"{path.name} is not an audio file we can read ({err}); "
                             "re-export it") from err
        log.warning("%s: audio decoding stopped early (%s); showing what was read",
                    path.name, err)
    if pending:
        yield np.concatenate(pending)


def _build(source: _Source, progress: Progress | None, cancel: CancelToken) -> WaveformPyramid:
    builder = _PeakBuilder()
    for block in source.blocks:
        cancel.raise_if_cancelled()
        builder.feed(_mono(block))
        if progress is not None:
            progress(min(builder.n_samples, source.total), source.total)
    if builder.n_samples == 0:
        raise InputError(f"{source.path.name} contains no audio samples; choose another file")
    # AAC/MP3 decoders pad the last frame; the container's declared length is the real one.
    declared = source.declared
    trim = declared if 0 < declared < builder.n_samples <= declared + 4096 else None
    mins, maxs = builder.finish(trim)
    if progress is not None:
        progress(source.total, source.total)
    return WaveformPyramid.from_base(mins, maxs, source.sample_rate, builder.n_samples)
