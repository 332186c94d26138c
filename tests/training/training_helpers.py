"""Shared helpers of the training tests (imported by name, like tests/media/media_helpers)."""

from __future__ import annotations

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
