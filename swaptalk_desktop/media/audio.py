"""Loading, channel mapping and resampling of audio at full quality (float32 throughout)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
import soundfile
from scipy.signal import resample_poly

from ..core.errors import InputError
from .container import (
    IMAGE_SUFFIXES,
    check_input_file,
    is_image_container,
    open_input,
    pick_audio_stream,
    pick_video_stream,
)

log = logging.getLogger(__name__)

# Read through libsndfile (exact PCM, no codec delay questions); everything else goes to FFmpeg.
_SOUNDFILE_SUFFIXES = {".wav", ".wave", ".flac", ".aif", ".aiff", ".aifc", ".w64", ".rf64",
                       ".caf", ".au", ".snd"}
FEATURE_RATE = 16_000


@dataclass(frozen=True, eq=False)
class AudioClip:
    """``samples``: float32 ``[n, channels]`` in -1..1; sample 0 is the start of the track."""

    samples: np.ndarray
    sample_rate: int
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.dtype != np.float32:
            raise ValueError("AudioClip.samples must be float32 [n, channels]")
        if self.sample_rate <= 0:
            raise ValueError("AudioClip.sample_rate must be positive")

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "audio"


def load_audio(path: Path | str) -> AudioClip:
    """Decode a sound file or a clip's audio track, keeping its rate and channels."""
    path = Path(path)
    check_input_file(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(f"{path.name} is an image, not an audio file; choose a sound file")
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
            log.debug("%s: libsndfile cannot read it (%s); trying FFmpeg", path.name, err)
        else:
            if data.shape[0] == 0:
                raise InputError(f"{path.name} contains no audio samples; choose another file")
            return AudioClip(np.ascontiguousarray(data), int(rate), path)
    return _load_with_av(path)


def _load_with_av(path: Path) -> AudioClip:
    with open_input(path, "an audio file") as container:
        if is_image_container(container):
            raise InputError(f"{path.name} is an image, not an audio file; choose a sound file")
        stream = pick_audio_stream(container)
        if stream is None:
            what = "video clip" if pick_video_stream(container) is not None else "file"
            raise InputError(f"{path.name} has no audio stream (a {what} without sound); "
                             "choose a dialogue file")
        declared_s = (float(stream.duration * stream.time_base)
                      if stream.duration and stream.time_base else 0.0)
        chunks: list[np.ndarray] = []
        rate = 0
        channels = 0
        try:
            for frame in container.decode(stream):
                if not rate:
                    rate, channels = frame.sample_rate, len(frame.layout.channels)
                elif frame.sample_rate != rate or len(frame.layout.channels) != channels:
                    raise InputError(f"{path.name} changes its audio format mid-stream; "
                                     "convert it to WAV first")
                chunks.append(_frame_samples(frame))
        except av.error.FFmpegError as err:
            if not chunks:
                raise InputError(f"{path.name} is not an audio file we can read ({err}); "
                                 "re-export it") from err
            log.warning("%s: audio decoding stopped early (%s); using the first %.2f s",
                        path.name, err, sum(len(c) for c in chunks) / rate)
    if not chunks:
        raise InputError(f"{path.name} contains no audio samples; choose another file")
    samples = np.concatenate(chunks)
    # The last AAC/MP3 frame is padded; MP4 edit lists declare the real length, which the
    # decoder does not apply at the end (ffmpeg's command line does).
    declared = round(declared_s * rate)
    if 0 < declared < len(samples) <= declared + 4096:
        samples = samples[:declared]
    return AudioClip(np.ascontiguousarray(samples), int(rate), path)


def _frame_samples(frame: av.AudioFrame) -> np.ndarray:
    """A decoded frame as float32 ``[n, channels]``, scaling integer formats to -1..1."""
    fmt = frame.format
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if fmt.is_planar:
        data = data.T
    else:
        data = data.reshape(-1, channels)
    name = fmt.name.rstrip("p")
    if name in ("flt", "dbl"):
        return data.astype(np.float32, copy=False)
    if name == "u8":
        return ((data.astype(np.float32) - 128.0) / 128.0)
    bits = {"s16": 16, "s32": 32, "s64": 64}[name]
    return (data.astype(np.float64) / float(2 ** (bits - 1))).astype(np.float32)


def remix(samples: np.ndarray, channels: int) -> np.ndarray:
    """Map ``[n, c]`` to ``[n, channels]``: mean for mono, copies from mono, ITU 5.1 downmix."""
    have = samples.shape[1]
    if have == channels:
        return samples
    if channels == 1:
        return samples.mean(axis=1, keepdims=True, dtype=np.float32)
    if have == 1:
        return np.repeat(samples, channels, axis=1)
    if have == 6 and channels == 2:
        # FL FR FC LFE BL BR (FFmpeg's 5.1 order); centre and surrounds at -3 dB, LFE dropped.
        g = np.float32(1 / math.sqrt(2))
        left = samples[:, 0] + g * samples[:, 2] + g * samples[:, 4]
        right = samples[:, 1] + g * samples[:, 2] + g * samples[:, 5]
        out = np.stack([left, right], axis=1) / np.float32(1 + 2 * g)
        return out.astype(np.float32)
    log.warning("mapping %d audio channels to %d by repeating/dropping channels", have,
                channels)
    return samples[:, np.arange(channels) % have]


def resample_samples(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Polyphase resampling of ``[n, c]`` float32 (anti-aliased, linear phase, no delay)."""
    if rate == new_rate or samples.shape[0] == 0:
        return samples
    g = math.gcd(int(rate), int(new_rate))
    out = resample_poly(samples, new_rate // g, rate // g, axis=0)
    return np.ascontiguousarray(out, dtype=np.float32)


def resample(clip: AudioClip, rate: int, channels: int) -> AudioClip:
    """``clip`` at ``rate`` Hz with ``channels`` channels."""
    if rate <= 0 or channels <= 0:
        raise ValueError("rate and channels must be positive")
    samples = resample_samples(remix(clip.samples, channels), clip.sample_rate, rate)
    return AudioClip(samples, int(rate), clip.path)


def to_mono_16k(clip: AudioClip) -> np.ndarray:
    """Mono float32 at 16 kHz for audio features (mean of the channels)."""
    mono = clip.samples.mean(axis=1, dtype=np.float32)[:, None]
    return resample_samples(mono, clip.sample_rate, FEATURE_RATE)[:, 0].copy()
