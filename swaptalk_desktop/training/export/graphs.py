"""Export-time modules: trained networks rewrapped as the four engine stage graphs.

Each wrapper owns a private copy of the weights it needs (in float16 for the CUDA variants)
and keeps the numerically delicate parts in float32 whatever the precision: the codebooks,
the nearest-code search (MatMul + Add + ArgMin + Gather) and the sync head's logits, so an fp16
graph differs from fp32 only by rounding in the convolutions, never by a coarser code search.
Graph inputs and outputs are float32 in both variants (the Casts are inside the graph).

``quantize=False`` turns the encode/swap/sync graphs into *probes* that output the continuous
values before the code choice (pre-quantization latent / logits); the parity check exports
them to compare what an argmin tie flip would otherwise hide.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..archs.swap import SwapTransformer
from ..archs.sync import SyncModule
from ..archs.vqgan import VQGAN


def _private(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """An eval-mode CPU copy in ``dtype``: export must not touch the caller's training state."""
    return copy.deepcopy(module).eval().to(device="cpu", dtype=dtype).requires_grad_(False)


class HardQuantizer(nn.Module):
    """Nearest codebook entry of each channel vector, in float32.

    scores = z @ (-2 E^T) + ||e||^2 ; codes = ArgMin(scores) ; out = Gather(E, codes).
    Multiplying E^T by -2 is exact in binary floating point, so these are the training
    quantizer's scores bit for bit up to the MatMul's summation order.
    """

    codebook: Tensor
    weight: Tensor
    sq: Tensor

    def __init__(self, codebook: Tensor) -> None:
        super().__init__()
        book = codebook.detach().to("cpu", torch.float32).clone()
        self.register_buffer("codebook", book)
        self.register_buffer("weight", -2.0 * book.t().contiguous())
        self.register_buffer("sq", (book * book).sum(1))

    def scores(self, z: Tensor) -> Tensor:
        """[B, C, H, W] -> [B, H, W, K]."""
        return torch.matmul(z.float().permute(0, 2, 3, 1), self.weight) + self.sq

    def forward(self, z: Tensor) -> Tensor:
        codes = self.scores(z).argmin(dim=-1)
        return F.embedding(codes, self.codebook).permute(0, 3, 1, 2)


class EncodeGraph(nn.Module):
    """image [B, 3, S, S] -> latent [B, C, h, w] (quantized with the upper/lower books)."""

    def __init__(self, vqgan: VQGAN, dtype: torch.dtype = torch.float32,
                 quantize: bool = True) -> None:
        super().__init__()
        self.dtype = dtype
        self.quantize = quantize
        self.half_rows = vqgan.cfg.crop_size // 2
        self.encoder = _private(vqgan.encoder, dtype)
        self.upper_book = HardQuantizer(vqgan.quant_upper.codebook)
        self.lower_book = HardQuantizer(vqgan.quant_lower.codebook)

    def forward(self, image: Tensor) -> Tensor:
        x = image.to(self.dtype)
        # Halves through the encoder separately, exactly as in training (VQGAN docstring).
        z_up = self.encoder(x[:, :, :self.half_rows]).float()
        z_lo = self.encoder(x[:, :, self.half_rows:]).float()
        if not self.quantize:
            return torch.cat([z_up, z_lo], dim=2)
        return torch.cat([self.upper_book(z_up), self.lower_book(z_lo)], dim=2)


class SwapGraph(nn.Module):
    """target [B, C, h, w], source [1, C, h, w] -> quantized swapped latent [B, C, h, w]."""

    def __init__(self, swap: SwapTransformer, vqgan: VQGAN,
                 dtype: torch.dtype = torch.float32, quantize: bool = True) -> None:
        super().__init__()
        self.dtype = dtype
        self.quantize = quantize
        self.half_rows = vqgan.cfg.grid // 2
        self.swap = _private(swap, dtype)
        self.upper_book = HardQuantizer(vqgan.quant_upper.codebook)
        self.lower_book = HardQuantizer(vqgan.quant_lower.codebook)

    def forward(self, target: Tensor, source: Tensor) -> Tensor:
        # The residual is computed in the graph's precision but added to the float32 target:
        # an fp16 sum would round every codebook vector it passes through.
        z = target + self.swap.residual(target.to(self.dtype), source.to(self.dtype)).float()
        if not self.quantize:
            return z
        h = self.half_rows
        return torch.cat([self.upper_book(z[:, :, :h]), self.lower_book(z[:, :, h:])], dim=2)


class SyncGraph(nn.Module):
    """upper [B, C, h/2, w], reference [B, C, h, w], mel [B, 1, 80, T] -> lower [B, C, h/2, w]
    (hard lower-codebook embeddings: argmax of the logits, then Gather)."""

    codebook: Tensor

    def __init__(self, sync: SyncModule, vqgan: VQGAN, dtype: torch.dtype = torch.float32,
                 quantize: bool = True) -> None:
        super().__init__()
        self.dtype = dtype
        self.quantize = quantize
        self.sync = _private(sync, dtype)
        # logits (and their argmax) in fp32
        self.head_module = _private(sync, torch.float32) if dtype != torch.float32 else self.sync
        self.register_buffer("codebook",
                             vqgan.quant_lower.codebook.detach().to("cpu", torch.float32).clone())

    def forward(self, upper: Tensor, reference: Tensor, mel: Tensor) -> Tensor:
        d = self.dtype
        features = self.sync.features(upper.to(d), reference.to(d), mel.to(d))
        logits = self.head_module.logits(features.float(), reference.float(), mel.float())
        if not self.quantize:
            return logits
        return F.embedding(logits.argmax(dim=1), self.codebook).permute(0, 3, 1, 2)


class DecodeGraph(nn.Module):
    """latent [B, C, h, w] -> image [B, 3, S, S], clamped to the contract's [-1, 1]."""

    def __init__(self, vqgan: VQGAN, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.dtype = dtype
        self.decoder = _private(vqgan.decoder, dtype)

    def forward(self, latent: Tensor) -> Tensor:
        return self.decoder(latent.to(self.dtype)).float().clamp(-1.0, 1.0)
