"""Image, lip-sync and identity metrics as the paper's tables use them (numpy only).

- PSNR / SSIM on aligned 256² crops (SSIM: Gaussian window 11, sigma 1.5, on luma).
- LMD: mean L2 distance between mouth landmarks of generated and real frames, each set
  mean-centred, in pixels of the crop they were measured on.
- Identity: cosine of dlib 128-D embeddings; consistency = mean pairwise cosine over a clip x 100.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from ..faces.masks import LIPS

MOUTH_POINTS = np.array(sorted(LIPS))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two RGB uint8 images (Wang et al. 2004 constants)."""
    x, y = _luma(a), _luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda img: gaussian_filter(img, 1.5, truncate=3.5)  # noqa: E731 - 11-tap window
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


def lmd(generated: np.ndarray, real: np.ndarray) -> float:
    """Mouth landmark distance between two [N, 478, 2] landmark sets (frames with NaN skipped)."""
    g = generated[:, MOUTH_POINTS].astype(np.float64)
    r = real[:, MOUTH_POINTS].astype(np.float64)
    ok = ~(np.isnan(g).any(axis=(1, 2)) | np.isnan(r).any(axis=(1, 2)))
    if not ok.any():
        return float("nan")
    g, r = g[ok], r[ok]
    g -= g.mean(axis=1, keepdims=True)
    r -= r.mean(axis=1, keepdims=True)
    return float(np.linalg.norm(g - r, axis=-1).mean())


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def identity_consistency(embeddings: np.ndarray) -> float:
    """Mean pairwise cosine of a clip's identity embeddings, x100 (the paper's consistency)."""
    e = embeddings / (np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-12)
    n = len(e)
    if n < 2:
        return float("nan")
    sims = e @ e.T
    return float((sims.sum() - n) / (n * (n - 1)) * 100)
