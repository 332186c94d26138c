"""MP4 output plumbing shared by :mod:`.encode` and :mod:`.synthetic`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..core.errors import OutputError
from .audio import AudioClip, resample
from .encoders import EncodeSettings, encoder_options, encoder_pix_fmt

log = logging.getLogger(__name__)

AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
             8000, 7350)
_AAC_FRAME = 1024
# FFmpeg's default layout for each channel count (av_channel_layout_default).
_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1",
                    8: "7.1"}


@dataclass(frozen=True)
class ColourTags:
    """AVColorRange / AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic."""

    color_range: int
    colorspace: int
    color_primaries: int
    color_trc: int


@contextlib.contextmanager
def closed_on_failure(out: av.container.OutputContainer, what: str) -> Iterator[None]:
    """Write ``out`` inside; on any failure close it (quietly: the real error is the one
    raised) and word an FFmpeg error as ``OutputError(f"{what}: {err}")``. An ``OSError`` one
    stays as it is, since atomic_path words errno errors (disk full, permission)."""
    try:
        yield
    except av.error.FFmpegError as err:
        _close_quietly(out)
        if isinstance(err, OSError):
            raise
        raise OutputError(f"{what}: {err}") from err
    except BaseException:
        _close_quietly(out)
        raise


def replaced(replace_frame, index: int, rgb: np.ndarray) -> np.ndarray:
    """``replace_frame(index, rgb)``, checked to be a uint8 frame of ``rgb``'s shape (the
    callback is the caller's; a wrong one must fail here, not as garbled video)."""
    new = replace_frame(index, rgb)
    if not isinstance(new, np.ndarray) or new.shape != rgb.shape or new.dtype != np.uint8:
        raise ValueError(f"replace_frame({index}) must return uint8 {rgb.shape}, got "
                         f"{getattr(new, 'dtype', type(new))} {getattr(new, 'shape', '')}")
    return new


def _close_quietly(out: av.container.OutputContainer) -> None:
    with contextlib.suppress(Exception):
        out.close()


def open_output(path: Path, metadata: dict[str, str] | None) -> av.container.OutputContainer:
    # use_metadata_tags keeps custom keys (swaptalk_edits) that plain MP4 atoms cannot hold.
    out = av.open(str(path), mode="w", format="mp4",
                  container_options={"movflags": "+faststart+use_metadata_tags"})
    for key, value in (metadata or {}).items():
        out.metadata[str(key)] = str(value)
    return out


def add_video_stream(out: av.container.OutputContainer, settings: EncodeSettings, *,
                     width: int, height: int, time_base: Fraction, rate: Fraction,
                     tags: ColourTags, chroma_420: bool) -> av.VideoStream:
    stream = out.add_stream(settings.video_codec, rate=rate)
    ctx = stream.codec_context
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = encoder_pix_fmt(settings.video_codec, chroma_420)
    ctx.time_base = time_base
    stream.time_base = time_base
    ctx.framerate = rate
    ctx.color_range = tags.color_range
    ctx.colorspace = tags.colorspace
    ctx.color_primaries = tags.color_primaries
    ctx.color_trc = tags.color_trc
    ctx.options = encoder_options(settings)
    return stream


def mux(out: av.container.OutputContainer, packets: Iterable[av.Packet]) -> None:
    """Write packets (one place to intercept writes in tests: disk full, I/O errors)."""
    for packet in packets:
        out.mux(packet)


class AacWriter:
    """Encodes an AudioClip to AAC in step with the video so the muxer can interleave.

    Sample 0 of the clip is placed at ``start_s`` on the output's clock.
    """

    def __init__(self, out: av.container.OutputContainer, clip: AudioClip, bitrate: int,
                 start_s: float = 0.0) -> None:
        rate = clip.sample_rate
        channels = min(clip.channels, 8)
        if rate not in AAC_RATES or channels != clip.channels:
            target = rate if rate in AAC_RATES else 48_000
            log.info("%s: re-sampling %d Hz / %d ch audio to %d Hz / %d ch for AAC",
                     clip.name, rate, clip.channels, target, channels)
            clip = resample(clip, target, channels)
            rate = target
        self._out = out
        self._rate = rate
        self._layout = _DEFAULT_LAYOUTS[channels]
        self.stream = out.add_stream("aac", rate=rate, layout=self._layout)
        self.stream.bit_rate = int(bitrate)
        self.stream.codec_context.time_base = Fraction(1, rate)
        self.stream.time_base = Fraction(1, rate)
        # Players clip beyond full scale anyway (hot MP3 decodes reach it); clipping before the
        # encoder keeps its output level what the listener will hear.
        self._planar = np.ascontiguousarray(np.clip(clip.samples, -1.0, 1.0).T)
        self._pos = 0
        self._start_pts = int(round(start_s * rate))

    def write_until(self, time_s: float) -> None:
        """Encode the audio up to ``time_s`` on the output's clock."""
        total = self._planar.shape[1]
        if time_s == float("inf"):
            limit = total
        else:
            limit = min(total, max(0, int(np.ceil(time_s * self._rate)) - self._start_pts))
        while self._pos < limit:
            end = min(self._pos + _AAC_FRAME, self._planar.shape[1])
            frame = av.AudioFrame.from_ndarray(self._planar[:, self._pos:end], format="fltp",
                                               layout=self._layout)
            frame.sample_rate = self._rate
            frame.time_base = Fraction(1, self._rate)
            frame.pts = self._start_pts + self._pos
            mux(self._out, self.stream.encode(frame))
            self._pos = end

    def finish(self) -> None:
        self.write_until(float("inf"))
        mux(self._out, self.stream.encode(None))
