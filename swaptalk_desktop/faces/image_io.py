"""Reading still photos (identity references) as upright RGB."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..core.errors import InputError

_ALPHA_FORMATS = {".png", ".webp", ".tif", ".tiff"}


def read_image(path: str | Path) -> np.ndarray:
    """``uint8[H, W, 3]`` RGB of a jpg/png/webp/bmp/... file, EXIF orientation applied.

    Greyscale becomes RGB; transparency is flattened onto white so that a cut-out portrait's
    transparent background does not turn into a black one next to the face.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; choose an existing photo")
    try:
        # np.fromfile + imdecode instead of imread: imread cannot open non-ASCII paths on Windows
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from err
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None or bgr.ndim != 3 or min(bgr.shape[:2]) < 1:
        raise InputError(f"{path} is not an image we can read; choose a jpg, png, webp or bmp")
    if path.suffix.lower() in _ALPHA_FORMATS:
        bgr = _flatten_alpha(data, bgr)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _flatten_alpha(data: np.ndarray, bgr: np.ndarray) -> np.ndarray:
    # IMREAD_UNCHANGED keeps alpha but ignores EXIF orientation; use it only when it lines up
    raw = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if raw is None or raw.ndim != 3 or raw.shape[2] != 4 or raw.shape[:2] != bgr.shape[:2]:
        return bgr
    alpha = raw[:, :, 3]
    if raw.dtype != np.uint8:
        alpha = (alpha.astype(np.float32) / np.iinfo(raw.dtype).max * 255).astype(np.uint8)
    if alpha.min() == 255:
        return bgr
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    out = bgr.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
