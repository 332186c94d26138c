"""Building blocks shared by the SwapTalk networks.

Every block is built from ops that the legacy (TorchScript) ONNX exporter turns into opset-17
nodes that ONNX Runtime runs on both CPU and CUDA: Conv, InstanceNormalization (GroupNorm),
MatMul, Softmax, Resize (nearest), DepthToSpace. Attention is written so that a key/value
batch of 1 broadcasts against a query batch of B (the swap stage's single source).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm rather than BatchNorm: statistics stay per sample, so the two face halves
    (encoded as separate samples) never see each other, DDP needs no SyncBN, and inference
    does not depend on the batch."""
    groups = next(g for g in (32, 16, 8, 4, 2, 1) if channels % g == 0 and channels // g >= 2
                  or g == 1)
    return nn.GroupNorm(groups, channels, eps=1e-5)


class ResBlock(nn.Module):
    """Pre-activation residual block (GN, SiLU, 3x3 conv) x 2."""

    def __init__(self, in_ch: int, out_ch: int | None = None) -> None:
        super().__init__()
        out_ch = out_ch or in_ch
        self.norm1 = group_norm(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm2 = group_norm(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Downsample(nn.Module):
    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest x2 then conv: avoids the checkerboard of transposed convolutions."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Softmax attention over [..., heads, tokens, head_dim]; batch dims broadcast.

    Training uses PyTorch's fused kernel; export writes MatMul + Softmax, which both ORT
    providers run well and which broadcasts a source batch of 1 against B targets.
    """
    if torch.onnx.is_in_onnx_export() or q.shape[0] != k.shape[0]:
        scale = 1.0 / math.sqrt(q.shape[-1])
        weights = torch.softmax(torch.matmul(q * scale, k.transpose(-2, -1)), dim=-1)
        return torch.matmul(weights, v)
    return F.scaled_dot_product_attention(q, k, v)


class MultiHeadAttention(nn.Module):
    """Multi-head attention on token tensors [B, N, dim]; keys may come from another sequence."""

    def __init__(self, dim: int, heads: int, kv_dim: int | None = None) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(kv_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def _split(self, x: Tensor) -> Tensor:
        # unflatten keeps the batch axis symbolic in the exported graph
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        context = x if context is None else context
        k, v = self.kv(context).chunk(2, dim=-1)
        y = attention(self._split(self.q(x)), self._split(k), self._split(v))
        return self.out(y.transpose(1, 2).flatten(2))


class MLP(nn.Sequential):
    def __init__(self, dim: int, ratio: float) -> None:
        hidden = int(dim * ratio)
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class SelfAttention2d(nn.Module):
    """Residual self-attention over the positions of a feature map [B, C, H, W]."""

    def __init__(self, channels: int, heads: int = 1) -> None:
        super().__init__()
        self.norm = group_norm(channels)
        self.attn = MultiHeadAttention(channels, heads)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        tokens = self.norm(x).flatten(2).transpose(1, 2)
        y = self.attn(tokens).transpose(1, 2).unflatten(2, (h, w))
        return x + y


class CrossAttention2d(nn.Module):
    """Residual cross-attention from the positions of a feature map to a token sequence."""

    def __init__(self, channels: int, context_dim: int, heads: int) -> None:
        super().__init__()
        self.norm = group_norm(channels)
        self.context_norm = nn.LayerNorm(context_dim)
        self.attn = MultiHeadAttention(channels, heads, kv_dim=context_dim)

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        tokens = self.norm(x).flatten(2).transpose(1, 2)
        y = self.attn(tokens, self.context_norm(context))
        return x + y.transpose(1, 2).unflatten(2, (h, w))


def latent_to_tokens(z: Tensor) -> Tensor:
    """[B, C, h, w] -> [B, h*w, C], row-major (upper rows first)."""
    return z.flatten(2).transpose(1, 2)


def tokens_to_latent(tokens: Tensor, h: int, w: int) -> Tensor:
    """[B, h*w, C] -> [B, C, h, w]."""
    return tokens.transpose(1, 2).unflatten(2, (h, w))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
