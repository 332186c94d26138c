"""Face swap in latent space: target tokens attend to the source identity's tokens.

The output is a continuous latent (target + learned residual); the caller quantizes it with
the VQGAN's two codebooks (straight-through while training, hard in the exported graph).
The residual's last projection starts at zero, so an untrained swap is the identity map and
training starts from a decodable face rather than noise.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..configs import SwapConfig
from .blocks import MLP, MultiHeadAttention, latent_to_tokens, tokens_to_latent


class SwapBlock(nn.Module):
    """Pre-norm [self-attention, cross-attention to the source, MLP]."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = MultiHeadAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.norm_src = nn.LayerNorm(dim)
        self.cross_attn = MultiHeadAttention(dim, heads)
        self.norm3 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(self, x: Tensor, source: Tensor) -> Tensor:
        x = x + self.self_attn(self.norm1(x))
        x = x + self.cross_attn(self.norm2(x), self.norm_src(source))
        return x + self.mlp(self.norm3(x))


class SwapTransformer(nn.Module):
    """target [B, C, h, w], source [B or 1, C, h, w] -> continuous swapped latent [B, C, h, w]."""

    segment: Tensor

    def __init__(self, cfg: SwapConfig, latent_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.latent_dim = latent_dim
        g, d = cfg.grid, cfg.dim
        self.target_in = nn.Linear(latent_dim, d)
        self.source_in = nn.Linear(latent_dim, d)
        self.position = nn.Parameter(torch.randn(1, g * g, d) * 0.02)
        # Segment (semantic) embedding: upper-face tokens vs lower-face tokens, which come
        # from different codebooks and play different roles (identity vs mouth).
        self.segment_embed = nn.Parameter(torch.randn(2, d) * 0.02)
        rows = torch.arange(g).repeat_interleave(g)
        self.register_buffer("segment", (rows >= g // 2).long(), persistent=False)
        self.blocks = nn.ModuleList(SwapBlock(d, cfg.heads, cfg.mlp_ratio)
                                    for _ in range(cfg.depth))
        self.norm_out = nn.LayerNorm(d)
        self.out = nn.Linear(d, latent_dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _embed(self, z: Tensor, proj: nn.Linear) -> Tensor:
        return proj(latent_to_tokens(z)) + self.position + self.segment_embed[self.segment]

    def residual(self, target: Tensor, source: Tensor) -> Tensor:
        """The learned change to the target latent (before quantization)."""
        x = self._embed(target, self.target_in)
        src = self._embed(source, self.source_in)
        for block in self.blocks:
            x = block(x, src)
        g = self.cfg.grid
        return tokens_to_latent(self.out(self.norm_out(x)), g, g)

    def forward(self, target: Tensor, source: Tensor) -> Tensor:
        return target + self.residual(target, source)
