"""Face VQGAN: one shared encoder applied to each face half separately, two codebooks, a decoder.

The upper half [B, 3, S/2, S] and the lower half are encoded as separate samples (stacked on
the batch axis), so no convolution's receptive field spans the seam and the lip shape cannot
leak into the upper tokens; the sync stage relies on that when it regenerates only the lower
tokens. Each half gets its own codebook; the decoder sees the concatenated [B, C, h, w] grid.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..configs import VQGANConfig
from .blocks import Downsample, ResBlock, SelfAttention2d, Upsample, group_norm
from .quantizer import VectorQuantizer, perplexity


class VQOut(NamedTuple):
    latent: Tensor  # zq [B, C, h, w], straight-through in training
    codes: Tensor  # [B, h, w] long; upper rows index the upper book, lower rows the lower book
    loss: Tensor  # codebook + commitment loss, both halves
    perplexity: dict[str, Tensor]  # "upper", "lower"


class Encoder(nn.Module):
    """Image (or half image) [B, 3, H, W] -> continuous latent [B, C, H/16, W/16]."""

    def __init__(self, cfg: VQGANConfig) -> None:
        super().__init__()
        ch = cfg.channels
        # Patchify stem: a strided conv that sees each pixel once is the cheapest way down to
        # 1/p resolution, and the 256^2 input is where a CPU spends its time.
        self.stem = nn.Conv2d(3, ch[0], cfg.stem_patch, stride=cfg.stem_patch)
        layers: list[nn.Module] = []
        for i, c in enumerate(ch):
            layers += [ResBlock(c) for _ in range(cfg.res_blocks)]
            if i + 1 < len(ch):
                layers.append(Downsample(c, ch[i + 1]))
        layers.append(ResBlock(ch[-1]))
        if cfg.attention:
            layers += [SelfAttention2d(ch[-1]), ResBlock(ch[-1])]
        self.body = nn.Sequential(*layers)
        self.norm_out = group_norm(ch[-1])
        self.conv_out = nn.Conv2d(ch[-1], cfg.embed_dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.body(self.stem(x))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    """Latent [B, C, h, w] -> image [B, 3, 16h, 16w] (unbounded; [-1, 1] after training)."""

    def __init__(self, cfg: VQGANConfig) -> None:
        super().__init__()
        ch = tuple(reversed(cfg.channels))
        blocks = cfg.decoder_res_blocks or cfg.res_blocks
        self.conv_in = nn.Conv2d(cfg.embed_dim, ch[0], 3, padding=1)
        layers: list[nn.Module] = [ResBlock(ch[0])]
        if cfg.attention:
            layers += [SelfAttention2d(ch[0]), ResBlock(ch[0])]
        for i, c in enumerate(ch):
            layers += [ResBlock(c) for _ in range(blocks)]
            if i + 1 < len(ch):
                layers.append(Upsample(c, ch[i + 1]))
        self.body = nn.Sequential(*layers)
        self.norm_out = group_norm(ch[-1])
        # Un-patchify (DepthToSpace), the mirror of the encoder's stem.
        p = cfg.stem_patch
        self.conv_out = nn.Conv2d(ch[-1], 3 * p * p, 3, padding=1)
        self.shuffle = nn.PixelShuffle(p)

    def forward(self, z: Tensor) -> Tensor:
        h = self.body(self.conv_in(z))
        return self.shuffle(self.conv_out(F.silu(self.norm_out(h))))


class VQGAN(nn.Module):
    def __init__(self, cfg: VQGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.quant_upper = VectorQuantizer(cfg.codebook_size, cfg.embed_dim, cfg.beta,
                                           cfg.dead_code_threshold)
        self.quant_lower = VectorQuantizer(cfg.codebook_size, cfg.embed_dim, cfg.beta,
                                           cfg.dead_code_threshold)
        self.decoder = Decoder(cfg)

    @property
    def grid(self) -> int:
        return self.cfg.grid

    def encode_continuous(self, x: Tensor) -> Tensor:
        """Pre-quantization latent [B, C, h, w]: upper rows from the upper half image only,
        lower rows from the lower half only."""
        half = x.shape[-2] // 2
        b = x.shape[0]
        # One pass over both halves stacked on the batch axis (bigger GEMMs). The export
        # wrapper (export/graphs.py) runs two passes instead, keeping its batch axis free.
        z = self.encoder(torch.cat([x[:, :, :half], x[:, :, half:]], dim=0))
        return torch.cat([z[:b], z[b:]], dim=2)

    def split(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Upper and lower rows of a latent grid."""
        half = z.shape[-2] // 2
        return z[:, :, :half], z[:, :, half:]

    def quantize(self, z: Tensor) -> VQOut:
        """Quantize a continuous [B, C, h, w] grid: upper rows with the upper book, lower rows
        with the lower book."""
        z_up, z_lo = self.split(z)
        q_up, c_up, loss_up = self.quant_upper(z_up)
        q_lo, c_lo, loss_lo = self.quant_lower(z_lo)
        return VQOut(latent=torch.cat([q_up, q_lo], dim=2), codes=torch.cat([c_up, c_lo], dim=1),
                     loss=loss_up + loss_lo,
                     perplexity={"upper": perplexity(c_up, self.cfg.codebook_size),
                                 "lower": perplexity(c_lo, self.cfg.codebook_size)})

    def encode(self, x: Tensor) -> VQOut:
        """Image [B, 3, S, S] in [-1, 1] -> quantized latent and codes."""
        return self.quantize(self.encode_continuous(x))

    def decode(self, zq: Tensor) -> Tensor:
        return self.decoder(zq)

    def codes_to_latent(self, codes: Tensor) -> Tensor:
        """Codes [B, h, w] (upper rows: upper book, lower rows: lower book) -> [B, C, h, w]."""
        half = codes.shape[-2] // 2
        return torch.cat([self.quant_upper.lookup(codes[:, :half]),
                          self.quant_lower.lookup(codes[:, half:])], dim=2)

    def forward(self, x: Tensor) -> tuple[Tensor, VQOut]:
        out = self.encode(x)
        return self.decode(out.latent), out

    @torch.no_grad()
    def restart_dead_codes(self, z: Tensor, generator: torch.Generator | None = None
                           ) -> dict[str, int]:
        """Restart dead codes of both books from a continuous latent batch [B, C, h, w]."""
        z_up, z_lo = self.split(z)
        return {"upper": self.quant_upper.restart_dead_codes(z_up, generator),
                "lower": self.quant_lower.restart_dead_codes(z_lo, generator)}

