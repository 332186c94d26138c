"""One YUV <-> RGB conversion pair, shared by the decoder and the encoder.

The decoder turns a frame's planes into RGB with :func:`yuv_to_rgb`; the encoder turns edited
RGB back with :func:`rgb_to_yuv` using the same matrix and range, so an unedited frame that goes
through RGB and back lands within a level or two of where it started. Chroma is upsampled by
repeating each sample over its 2x2 block and downsampled by averaging that block: the pair is
an exact inverse on chroma, which bilinear upsampling is not (it would blur chroma a little more
on every round trip).

We do the arithmetic ourselves (OpenCV's per-pixel affine transform) rather than through
swscale so that the matrix, range and rounding are the same on both sides and on every build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import av
import cv2
import numpy as np

# AVColorSpace values (libavutil/pixfmt.h) mapped to the luma weights (Kr, Kb).
_KR_KB: dict[int, tuple[float, float]] = {
    1: (0.2126, 0.0722),   # BT.709
    4: (0.30, 0.11),       # FCC
    5: (0.299, 0.114),     # BT.470BG (BT.601 625)
    6: (0.299, 0.114),     # SMPTE 170M (BT.601 525)
    7: (0.212, 0.087),     # SMPTE 240M
    9: (0.2627, 0.0593),   # BT.2020 non-constant luminance
    10: (0.2627, 0.0593),  # BT.2020 constant luminance: approximated by the NCL matrix
}
COLORSPACE_BT709 = 1
COLORSPACE_UNSPECIFIED = 2
COLORSPACE_SMPTE170M = 6
RANGE_UNSPECIFIED = 0
RANGE_MPEG = 1
RANGE_JPEG = 2

# Pixel formats whose planes we read directly; anything else is converted to yuv444p first.
_DIRECT_FORMATS = {"yuv420p", "yuvj420p", "yuv444p", "yuvj444p"}


@dataclass(frozen=True)
class ColourSpec:
    """How a stream's Y'CbCr maps to R'G'B': the matrix (as AVColorSpace) and the range."""

    colorspace: int
    full_range: bool

    @property
    def kr_kb(self) -> tuple[float, float]:
        return _KR_KB.get(self.colorspace, _KR_KB[COLORSPACE_SMPTE170M])


def colour_spec(colorspace: int, color_range: int, pix_fmt: str, width: int,
                height: int) -> ColourSpec:
    """The conversion a player would use for this stream.

    Untagged streams follow mpv's guess (BT.709 for HD sizes, BT.601 below), which is what
    most players do, made symmetric in width and height so that a rotated copy of a clip gets
    the same guess. Formats we cannot reproduce (RGB, YCgCo, ICtCp) are read as BT.601.
    """
    full = pix_fmt.startswith("yuvj") or color_range == RANGE_JPEG
    if colorspace not in _KR_KB:
        hd = max(width, height) >= 1280 or min(width, height) > 576
        colorspace = COLORSPACE_BT709 if hd else COLORSPACE_SMPTE170M
    return ColourSpec(colorspace=colorspace, full_range=full)


def _yuv_to_rgb_matrix(spec: ColourSpec) -> np.ndarray:
    """3x4 affine matrix taking (Y, Cb, Cr) code values to (R, G, B) code values."""
    kr, kb = spec.kr_kb
    kg = 1.0 - kr - kb
    if spec.full_range:
        y_scale, c_scale, y_off = 255.0 / 255.0, 255.0 / 255.0, 0.0
    else:
        y_scale, c_scale, y_off = 255.0 / 219.0, 255.0 / 224.0, 16.0
    # Normalised Y' in [0,1] and Pb/Pr in [-0.5,0.5] -> R'G'B' in [0,1], then scale to 0..255.
    m = np.array([
        [1.0, 0.0, 2.0 * (1.0 - kr)],
        [1.0, -2.0 * kb * (1.0 - kb) / kg, -2.0 * kr * (1.0 - kr) / kg],
        [1.0, 2.0 * (1.0 - kb), 0.0],
    ])
    m = m * np.array([y_scale, c_scale, c_scale])
    offset = -m @ np.array([y_off, 128.0, 128.0])
    return np.hstack([m, offset[:, None]]).astype(np.float64)


def _rgb_to_yuv_matrix(spec: ColourSpec) -> np.ndarray:
    fwd = _yuv_to_rgb_matrix(spec)
    inv = np.linalg.inv(fwd[:, :3])
    return np.hstack([inv, (-inv @ fwd[:, 3])[:, None]])


class YuvPlanes(NamedTuple):
    """8-bit planes; ``u``/``v`` are half size (rounded up) for 4:2:0 or full size for 4:4:4."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def is_420(self) -> bool:
        return self.u.shape != self.y.shape


def _upsample_chroma(c: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if c.shape == shape:
        return c
    if (c.shape[0] * 2, c.shape[1] * 2) == shape:
        return cv2.resize(c, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST_EXACT)
    return np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[: shape[0], : shape[1]]


def yuv_to_rgb(planes: YuvPlanes, spec: ColourSpec) -> np.ndarray:
    """RGB uint8 (H, W, 3) from 8-bit planes."""
    shape = planes.y.shape
    yuv = cv2.merge([planes.y, _upsample_chroma(planes.u, shape),
                     _upsample_chroma(planes.v, shape)])
    return cv2.transform(yuv, _yuv_to_rgb_matrix(spec))


def rgb_to_yuv(rgb: np.ndarray, spec: ColourSpec, chroma_420: bool) -> YuvPlanes:
    """8-bit planes from RGB uint8; 4:2:0 chroma is the mean of each 2x2 block."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 RGB (H, W, 3), got {rgb.dtype} {rgb.shape}")
    yuv = cv2.transform(rgb.astype(np.float32), _rgb_to_yuv_matrix(spec).astype(np.float32))
    y = _round_u8(yuv[..., 0])
    if not chroma_420:
        return YuvPlanes(y, _round_u8(yuv[..., 1]), _round_u8(yuv[..., 2]))
    h, w = y.shape
    if h % 2 or w % 2:
        raise ValueError("4:2:0 needs even width and height")
    # INTER_AREA on an exact 2x reduction is the plain 2x2 block mean.
    u = cv2.resize(yuv[..., 1], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    v = cv2.resize(yuv[..., 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return YuvPlanes(y, _round_u8(u), _round_u8(v))


def _round_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _plane_array(frame: av.VideoFrame, index: int) -> np.ndarray:
    plane = frame.planes[index]
    buf = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return buf[:, : plane.width].copy()


def frame_planes(frame: av.VideoFrame) -> YuvPlanes:
    """The decoded frame's planes as 8-bit arrays (other formats through swscale to 4:4:4)."""
    name = frame.format.name
    if name not in _DIRECT_FORMATS:
        full = frame.color_range == RANGE_JPEG or name.startswith("yuvj")
        if name.startswith(("yuv", "nv", "p0", "p2", "y2", "uyvy", "yuyv", "gray")):
            frame = frame.reformat(format="yuvj444p" if full else "yuv444p")
        else:
            # RGB-like sources: swscale applies BT.601 limited range, which colour_spec()
            # assumes for them too.
            frame = frame.reformat(format="yuv444p")
    return YuvPlanes(_plane_array(frame, 0), _plane_array(frame, 1), _plane_array(frame, 2))


def rotate_planes(planes: YuvPlanes, rotation_cw: int) -> YuvPlanes:
    """Rotate every plane clockwise by ``rotation_cw`` degrees (a multiple of 90)."""
    k = -(rotation_cw // 90) % 4
    if k == 0:
        return planes
    return YuvPlanes(*(np.ascontiguousarray(np.rot90(p, k)) for p in planes))


def to_chroma_format(planes: YuvPlanes, chroma_420: bool) -> YuvPlanes:
    """Change chroma subsampling without touching luma (no RGB round trip)."""
    if planes.is_420 == chroma_420:
        return planes
    shape = planes.y.shape
    if not chroma_420:
        return YuvPlanes(planes.y, _upsample_chroma(planes.u, shape),
                         _upsample_chroma(planes.v, shape))
    h, w = shape
    down = [cv2.resize(c.astype(np.float32), (w // 2, h // 2), interpolation=cv2.INTER_AREA)
            for c in (planes.u, planes.v)]
    return YuvPlanes(planes.y, _round_u8(down[0]), _round_u8(down[1]))


def planes_to_frame(planes: YuvPlanes, full_range: bool) -> av.VideoFrame:
    """A new yuv420p / yuv444p frame holding ``planes`` (range is tagged by the caller)."""
    h, w = planes.y.shape
    frame = av.VideoFrame(w, h, "yuv420p" if planes.is_420 else "yuv444p")
    for index, data in enumerate(planes):
        plane = frame.planes[index]
        dst = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        dst[:, : plane.width] = data
    frame.color_range = RANGE_JPEG if full_range else RANGE_MPEG
    return frame
