"""Patch-GAN discriminator for the VQGAN's adversarial loss (base size; off for CPU runs).

As in taming-transformers' NLayerDiscriminator, but with GroupNorm instead of BatchNorm so the
statistics do not depend on the batch mix of real and fake images or need syncing under DDP.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..configs import VQGANConfig
from .blocks import group_norm


class PatchDiscriminator(nn.Module):
    """Image [B, 3, S, S] -> real/fake logits per overlapping patch [B, 1, S', S']."""

    def __init__(self, cfg: VQGANConfig) -> None:
        super().__init__()
        ch = cfg.disc_channels
        layers: list[nn.Module] = [nn.Conv2d(3, ch, 4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2)]
        c = ch
        for i in range(1, cfg.disc_layers + 1):
            nxt = ch * min(2 ** i, 8)
            stride = 2 if i < cfg.disc_layers else 1
            layers += [nn.Conv2d(c, nxt, 4, stride=stride, padding=1), group_norm(nxt),
                       nn.LeakyReLU(0.2)]
            c = nxt
        layers.append(nn.Conv2d(c, 1, 4, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
