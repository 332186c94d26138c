"""Shared helpers of the training tests (imported by name, like tests/media/media_helpers)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch


def face_like_images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """Smooth images in [-1, 1] with structure in both halves (blobs + gradients), so
    reconstruction has something learnable and the halves differ."""
    g = torch.Generator().manual_seed(seed)
    ys = torch.linspace(-1, 1, size)[:, None].expand(size, size)
    xs = torch.linspace(-1, 1, size)[None, :].expand(size, size)
    images = []
    for _ in range(n):
        cx, cy, r = (torch.rand(3, generator=g) * torch.tensor([1.0, 1.0, 0.5]) -
                     torch.tensor([0.5, 0.5, -0.3]))
        blob = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (r ** 2))
        colour = torch.rand(3, 1, 1, generator=g) * 2 - 1
        images.append((0.6 * blob * colour + 0.3 * ys * colour.flip(0)).clamp(-1, 1))
    return torch.stack(images)


def real_crops(photo: Path, size: int, n: int = 3) -> np.ndarray:
    """Square crops of a real portrait (shifted a little each), uint8 RGB [n, size, size, 3]."""
    bgr = cv2.imread(str(photo))
    h, w = bgr.shape[:2]
    side = min(h, w) - 8 * n
    crops = [cv2.resize(bgr[4 * i:4 * i + side, (w - side) // 2:(w + side) // 2], (size, size),
                        interpolation=cv2.INTER_AREA)[:, :, ::-1] for i in range(n)]
    return np.ascontiguousarray(np.stack(crops))
