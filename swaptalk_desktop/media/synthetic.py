"""Small generated H.264/AAC clips for tests, benchmarks and the demo (no real media needed)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from .audio import AudioClip
from .colour import COLORSPACE_SMPTE170M, RANGE_MPEG, ColourSpec, planes_to_frame, rgb_to_yuv
from .encoders import EncodeSettings
from .mux import AacWriter, ColourTags, add_video_stream, mux, open_output

_TIME_BASE = Fraction(1, 90_000)  # exact for 24, 25, 30, 50, 60 and 29.97 fps
_SPEC = ColourSpec(COLORSPACE_SMPTE170M, full_range=False)
_TAGS = ColourTags(color_range=RANGE_MPEG, colorspace=COLORSPACE_SMPTE170M,
                   color_primaries=6, color_trc=6)


def make_test_clip(path: Path | str, frames: Iterable[np.ndarray] | np.ndarray,
                   fps: float | Fraction = 25, audio: AudioClip | None = None, crf: int = 18,
                   rotation: int = 0, *, frame_times: Sequence[float] | None = None,
                   preset: str = "veryfast") -> Path:
    """Write RGB uint8 frames as an MP4 (BT.601 limited range, tagged) and return its path.

    ``frames`` are stored as given; ``rotation`` (clockwise degrees, like
    :attr:`VideoInfo.rotation`) is written as display metadata, so a player shows each frame
    turned by it. ``frame_times`` (seconds, increasing) makes a variable frame rate clip;
    otherwise frame ``i`` is at ``i / fps``. ``crf=0`` is lossless.
    """
    path = Path(path)
    if rotation % 90:
        raise ValueError("rotation must be a multiple of 90")
    fps = Fraction(fps).limit_denominator(1001)
    settings = EncodeSettings(crf=crf, preset=preset)
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ValueError("make_test_clip needs at least one frame")
    height, width = first.shape[:2]
    chroma_420 = width % 2 == 0 and height % 2 == 0
    with atomic_path(path) as tmp:
        out = open_output(tmp, {"comment": "synthetic test clip"})
        try:
            stream = add_video_stream(out, settings, width=width, height=height,
                                      time_base=_TIME_BASE, rate=fps, tags=_TAGS,
                                      chroma_420=chroma_420)
            if rotation % 360:
                # PyAV takes counter-clockwise degrees, as VideoFrame.rotation reports them.
                stream.set_display_rotation(-(rotation % 360))
            writer = AacWriter(out, audio, 128_000) if audio is not None else None
            for i, rgb in enumerate(itertools.chain([first], iterator)):
                if rgb.shape != first.shape or rgb.dtype != np.uint8:
                    raise ValueError(f"frame {i} is {rgb.dtype} {rgb.shape}, expected uint8 "
                                     f"{first.shape}")
                frame = planes_to_frame(rgb_to_yuv(rgb, _SPEC, chroma_420), False)
                t = frame_times[i] if frame_times is not None else i / fps
                frame.pts = int(round(t / _TIME_BASE))
                frame.time_base = _TIME_BASE
                mux(out, stream.encode(frame))
                if writer is not None:
                    writer.write_until(float(t) + 0.5)
            mux(out, stream.encode(None))
            if writer is not None:
                writer.finish()
        finally:
            out.close()
    return path
