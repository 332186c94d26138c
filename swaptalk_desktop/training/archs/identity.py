"""Differentiable identity embedder, distilled from dlib's 128-D face descriptor.

No face-recognition network with downloadable weights exists in this project, but dlib's
descriptor (``faces.IdentityEmbedder``) does; it is not differentiable, so a student CNN learns
to reproduce it from our aligned crops and then serves as the identity loss of the swap module
and the VQGAN.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..configs import IdentityConfig
from .blocks import Downsample, ResBlock, group_norm


class IdentityEncoder(nn.Module):
    """Aligned crop [B, 3, S, S] in [-1, 1] -> L2-normalised embedding [B, embed_dim]."""

    def __init__(self, cfg: IdentityConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.stem = nn.Conv2d(3, w, 3, stride=2, padding=1)
        layers: list[nn.Module] = []
        c = w
        for stage in range(cfg.stages):
            layers += [ResBlock(c) for _ in range(cfg.blocks_per_stage)]
            if stage + 1 < cfg.stages:
                layers.append(Downsample(c, c * 2))
                c *= 2
        self.body = nn.Sequential(*layers)
        self.norm = group_norm(c)
        self.head = nn.Linear(c, cfg.embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        s = self.cfg.input_size
        if x.shape[-1] != s or x.shape[-2] != s:
            # Antialiased so a 256 -> 112 resize does not alias fine texture into identity.
            x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True,
                              align_corners=False)
        h = F.silu(self.norm(self.body(self.stem(x))))
        return F.normalize(self.head(h.mean(dim=(2, 3))), dim=1)
