"""Shot-cut detection between consecutive frames.

A colour-histogram distance separates cuts from motion well: on the shared talking clips the
Bhattacharyya distance between consecutive HSV histograms stays below 0.19 within a shot
(median 0.03), while first frames of different clips are at least 0.30 apart (median 0.8).
Cuts between two angles on one set can be closer than that, so a smaller distance also counts
as a cut when every face jumps at the same moment (no face of the previous frame continues).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SIG_SIDE = 160
_BINS = [16, 4, 4]
_RANGES = [0, 180, 0, 256, 0, 256]


@dataclass(frozen=True)
class CutThresholds:
    hard: float = 0.40
    """Histogram distance that is a cut on its own."""
    soft: float = 0.15
    """Histogram distance that is a cut when the faces also jump."""


DEFAULT_CUTS = CutThresholds()


def frame_signature(rgb: np.ndarray) -> np.ndarray:
    """Normalised HSV histogram of a downscaled frame (cheap: about 1 ms at 1080p)."""
    h, w = rgb.shape[:2]
    s = min(1.0, _SIG_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))),
                       interpolation=cv2.INTER_AREA) if s < 1.0 else rgb
    hsv = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, _BINS, _RANGES).astype(np.float32)
    total = float(hist.sum())
    return hist / total if total > 0 else hist


def signature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two signatures, 0 (same) .. 1 (disjoint)."""
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def is_cut(distance: float, faces_jumped: bool,
           thresholds: CutThresholds = DEFAULT_CUTS) -> bool:
    return distance >= thresholds.hard or (faces_jumped and distance >= thresholds.soft)
