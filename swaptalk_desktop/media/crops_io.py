"""Aligned face crops stored as H.264 video: compact, seekable, readable by any player.

yuv444p keeps full-resolution chroma (lip and skin colour edges are what the decoder learns),
and a low CRF keeps the compression error well below what the VQGAN itself loses, at a
fraction of the size of PNG frames. The colour conversion is media.colour's, the same pair the
renderer uses, so a crop goes through RGB -> YUV -> RGB with at most a level or two of error
before compression.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..core.atomic import atomic_path
from .colour import (
    COLORSPACE_SMPTE170M,
    RANGE_JPEG,
    ColourSpec,
    frame_planes,
    rgb_to_yuv,
    yuv_to_rgb,
)

CROP_SPEC = ColourSpec(COLORSPACE_SMPTE170M, full_range=True)
DEFAULT_CRF = 12
DEFAULT_PRESET = "medium"
_TIME_BASE = Fraction(1, 90_000)


class CropVideoWriter:
    """Writes RGB uint8 ``[S, S, 3]`` crops to an MP4 atomically (complete file or none).

    Frames are stored at a constant nominal rate; the real time of each crop lives in the
    clip's landmarks file, because frames without a face are left out.
    """

    def __init__(self, path: Path | str, size: int, fps: float = 25.0, crf: int = DEFAULT_CRF,
                 preset: str = DEFAULT_PRESET) -> None:
        self.path = Path(path)
        self.size = int(size)
        self.count = 0
        self._ctx = atomic_path(self.path)
        tmp = self._ctx.__enter__()
        try:
            self._out = av.open(str(tmp), mode="w", format="mp4")
            rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
            stream = self._out.add_stream("libx264", rate=rate)
            ctx = stream.codec_context
            ctx.width = ctx.height = self.size
            ctx.pix_fmt = "yuv444p"
            ctx.time_base = stream.time_base = _TIME_BASE
            ctx.color_range = RANGE_JPEG
            ctx.colorspace = ctx.color_primaries = ctx.color_trc = COLORSPACE_SMPTE170M
            ctx.options = {"crf": str(crf), "preset": preset}
            self._stream = stream
            self._step = int(round(1 / (float(rate) * _TIME_BASE)))
        except BaseException as err:
            self._ctx.__exit__(type(err), err, err.__traceback__)
            raise

    def write(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.size, self.size, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"crop must be uint8 ({self.size}, {self.size}, 3), got "
                             f"{rgb.dtype} {rgb.shape}")
        planes = rgb_to_yuv(rgb, CROP_SPEC, chroma_420=False)
        frame = av.VideoFrame.from_ndarray(np.stack(planes), format="yuv444p")
        frame.color_range = RANGE_JPEG
        frame.pts = self.count * self._step
        frame.time_base = _TIME_BASE
        self._out.mux(self._stream.encode(frame))
        self.count += 1

    def close(self) -> None:
        """Finish the file; it appears under its final name only now."""
        try:
            if self.count == 0:
                raise ValueError(f"no crops were written to {self.path}")
            self._out.mux(self._stream.encode(None))
            self._out.close()
        except BaseException as err:
            self._out.close()
            self._ctx.__exit__(type(err), err, err.__traceback__)
            raise
        self._ctx.__exit__(None, None, None)

    def abort(self) -> None:
        self._out.close()
        err = RuntimeError("aborted")
        try:
            self._ctx.__exit__(RuntimeError, err, None)
        except RuntimeError:
            pass


def iter_crops(path: Path | str, start: int = 0, stop: int | None = None
               ) -> Iterator[np.ndarray]:
    """Crops ``[start, stop)`` of a crop video as RGB uint8, in order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if stop is not None and index >= stop:
                break
            if index >= start:
                yield yuv_to_rgb(frame_planes(frame), CROP_SPEC)


def read_crops(path: Path | str, start: int = 0, stop: int | None = None) -> np.ndarray:
    """All crops ``[start, stop)`` as one ``uint8[n, S, S, 3]`` array."""
    frames = list(iter_crops(path, start, stop))
    if not frames:
        raise ValueError(f"{path} holds no crops in [{start}, {stop})")
    return np.stack(frames)
