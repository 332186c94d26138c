"""The ``example.sharpen`` frame processor: an unsharp mask over each generated face crop."""

from __future__ import annotations

import cv2
import numpy as np

AMOUNT = 0.8
"""How much of the detail (crop minus its blur) is added back."""
RADIUS = 1.5
"""Gaussian sigma of the blur, in pixels of the crop."""


def unsharp_mask(crops: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """``crops``: (N, S, S, 3) uint8 RGB generated faces; ``marks``: (N, 478, 2) landmarks in
    crop pixels (unused here). Returns new crops of the same shape and dtype; the engine pastes
    them back through the edit's own mask, so the frame outside the face is never touched."""
    out = np.empty_like(crops)
    for k, crop in enumerate(crops):
        soft = cv2.GaussianBlur(crop, (0, 0), RADIUS)
        sharp = cv2.addWeighted(crop, 1.0 + AMOUNT, soft, -AMOUNT, 0.0)
        out[k] = sharp
    return out
