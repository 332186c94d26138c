"""Similarity alignment of a face to the loose 256x256 crop template the models work on.

Template layout (256 px; measured from the mesh on the shared portraits and clips, in units of
the eye distance ``u`` = 68 px): eyes at row 93, nose tip at row 136, mouth corners at row 168.
Then the mesh's forehead top (landmark 10) sits near row 36, the chin (152) near row 220 (worst
seen: 230, so an open jaw still fits), the cheeks near columns 53 and 203 for a frontal face.
Row 128, where the model splits the latent into an upper and a lower half, passes just above the
nose tip: the upper half holds forehead, brows, eyes and the nose bridge; the lower half the
nose tip, nostrils, mouth, chin and jaw. The upper lip stays ~20 px below the split.
"""

from __future__ import annotations

import cv2
import numpy as np

TEMPLATE_SIZE = 256
SPLIT_ROW = 128
"""First row of the lower half in a 256 crop (the model splits the latent in two)."""

TEMPLATE_256 = np.array([
    [93.5, 93.0],    # eye centre on the image's left (the subject's right eye)
    [161.5, 93.0],   # eye centre on the image's right
    [127.5, 136.0],  # nose tip
    [98.5, 168.0],   # mouth corner, image left
    [156.5, 168.0],  # mouth corner, image right
], dtype=np.float64)

# eye centre = mean of the two corners: unlike the iris it does not move with the gaze
_EYE_A = (33, 133)
_EYE_B = (362, 263)
_NOSE_TIP = 1
_MOUTH = (61, 291)


def alignment_points(landmarks: np.ndarray) -> np.ndarray:
    """The five template points (eye centres, nose tip, mouth corners), ``float32[5, 2]``."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return np.stack([
        lm[list(_EYE_A)].mean(axis=0),
        lm[list(_EYE_B)].mean(axis=0),
        lm[_NOSE_TIP],
        lm[_MOUTH[0]],
        lm[_MOUTH[1]],
    ]).astype(np.float32)


def template_points(crop_size: int = TEMPLATE_SIZE) -> np.ndarray:
    """The template scaled to ``crop_size`` (pixel centres at integers), ``float64[5, 2]``."""
    scale = crop_size / TEMPLATE_SIZE
    return (TEMPLATE_256 + 0.5) * scale - 0.5


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation taking ``src`` onto ``dst``.

    Umeyama's closed form with the reflection excluded, ``float64[2, 3]``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    var_s = float((s ** 2).sum())
    if var_s <= 1e-12:
        raise ValueError("alignment points are degenerate (all in one place)")
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rot = u @ np.diag(sign) @ vt
    scale = float((sig * sign).sum()) / (var_s / len(src))
    m = np.empty((2, 3), dtype=np.float64)
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def alignment_matrix(landmarks: np.ndarray, crop_size: int = TEMPLATE_SIZE) -> np.ndarray:
    """Frame -> crop similarity transform for a face's 478 landmarks, ``float64[2, 3]``."""
    pts = alignment_points(landmarks)
    if not np.all(np.isfinite(pts)):
        raise ValueError("landmarks contain NaN (the face is absent in this frame)")
    return similarity_fit(pts, template_points(crop_size))


def warp_to_crop(rgb: np.ndarray, m: np.ndarray, crop_size: int = TEMPLATE_SIZE) -> np.ndarray:
    """The aligned ``crop_size`` square crop of ``rgb`` (bilinear, edges replicated)."""
    return cv2.warpAffine(rgb, np.asarray(m, dtype=np.float64), (crop_size, crop_size),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def transform_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a ``[2, 3]`` affine to ``[..., 2]`` points; same dtype as given (float)."""
    pts = np.asarray(points)
    m = np.asarray(m, dtype=np.float64)
    out = pts.astype(np.float64) @ m[:, :2].T + m[:, 2]
    return out.astype(pts.dtype if np.issubdtype(pts.dtype, np.floating) else np.float64)


def invert(m: np.ndarray) -> np.ndarray:
    """Inverse of a ``[2, 3]`` affine (crop -> frame for an alignment matrix)."""
    return cv2.invertAffineTransform(np.asarray(m, dtype=np.float64)).astype(np.float64)
