"""Vector quantizer with a learned codebook, straight-through gradients and dead-code restarts.

Codebook choice: a *learned* codebook (codebook loss ||sg[z] - e||^2 + beta ||z - sg[e]||^2)
rather than EMA updates. It keeps every weight update inside the optimizer, so DDP, AMP,
gradient accumulation, resuming and per-actor fine-tuning treat the codebook like any other
parameter; the collapse a learned codebook is prone to is handled by restarting dead codes
from recent encoder outputs.

Nearest code search uses ||e||^2 - 2 z.e, computed in float32 even under autocast: that is
||z - e||^2 minus ||z||^2, a per-vector constant that cannot change the argmin, and the
exported graph (MatMul + Add + ArgMin + Gather) computes the very same expression.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn


def codebook_commitment_loss(z: Tensor, zq: Tensor, beta: float) -> Tensor:
    """VQ-VAE loss: the codebook moves to the encoder outputs, the encoder commits (beta)."""
    return F.mse_loss(zq, z.detach()) + beta * F.mse_loss(z, zq.detach())


def code_scores(z_flat: Tensor, codebook: Tensor) -> Tensor:
    """||e||^2 - 2 z.e for every (vector, code): [N, K]; smaller is nearer."""
    return (codebook * codebook).sum(1)[None, :] - 2.0 * (z_flat @ codebook.t())


def perplexity(codes: Tensor, num_codes: int) -> Tensor:
    """exp(entropy) of code usage in a batch: how many codes are effectively in use."""
    counts = torch.bincount(codes.flatten(), minlength=num_codes).float()
    probs = counts / counts.sum().clamp_min(1.0)
    return torch.exp(-(probs * torch.log(probs.clamp_min(1e-10))).sum())


class VectorQuantizer(nn.Module):
    """Nearest-neighbour quantizer over channel vectors of [B, C, H, W] maps.

    ``steps_since_used`` counts, per code, training forward passes since the code was last
    chosen; codes at or over ``dead_threshold`` are dead and :meth:`restart_dead_codes` moves
    them onto random encoder outputs.
    """

    steps_since_used: Tensor

    def __init__(self, num_codes: int, dim: int, beta: float = 0.25,
                 dead_threshold: int = 200) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.dim = dim
        self.beta = beta
        self.dead_threshold = dead_threshold
        self.codebook = nn.Parameter(torch.empty(num_codes, dim))
        # Small uniform init, as in VQ-VAE: codes start near the origin where a freshly
        # initialised encoder's outputs are, so most get picked early.
        nn.init.uniform_(self.codebook, -1.0 / num_codes, 1.0 / num_codes)
        self.register_buffer("steps_since_used", torch.zeros(num_codes, dtype=torch.long))

    def nearest(self, z: Tensor) -> Tensor:
        """Code indices [B, H, W] of the nearest codebook entries of z [B, C, H, W]."""
        flat = z.permute(0, 2, 3, 1).reshape(-1, self.dim).float()
        with torch.autocast(device_type=z.device.type, enabled=False):
            scores = code_scores(flat, self.codebook.float())
        b, _, h, w = z.shape
        return scores.argmin(dim=1).view(b, h, w)

    def lookup(self, codes: Tensor) -> Tensor:
        """Codebook vectors for indices [B, H, W] -> [B, C, H, W]."""
        return F.embedding(codes, self.codebook).permute(0, 3, 1, 2)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(zq straight-through [B, C, H, W], codes [B, H, W], codebook+commitment loss)."""
        codes = self.nearest(z)
        zq = self.lookup(codes)
        z32 = z.float()
        loss = codebook_commitment_loss(z32, zq, self.beta)
        if self.training:
            self._count_usage(codes)
        # Straight-through: the decoder's gradient reaches the encoder as if zq were z. Written
        # as zq + (z - z) rather than z + (zq - z) so the value is the code vector bit for bit.
        zq = zq.detach() + (z32 - z32.detach())
        return zq.to(z.dtype), codes, loss

    @torch.no_grad()
    def _count_usage(self, codes: Tensor) -> None:
        used = torch.bincount(codes.flatten(), minlength=self.num_codes) > 0
        self.steps_since_used += 1
        self.steps_since_used[used] = 0

    def dead_codes(self) -> Tensor:
        """Indices of codes unused for ``dead_threshold`` training steps or more."""
        return torch.nonzero(self.steps_since_used >= self.dead_threshold).flatten()

    @torch.no_grad()
    def restart_dead_codes(self, z_sample: Tensor, generator: torch.Generator | None = None,
                           noise: float = 0.01) -> int:
        """Move every dead code onto a random vector of ``z_sample`` (+ a little noise).

        ``z_sample``: recent continuous encoder outputs of this half, [N, C] or [B, C, H, W].
        Returns how many codes were restarted. Under torch.distributed the usage counters are
        combined (a code is dead only if dead on every rank) and rank 0's new codes are
        broadcast, so all replicas keep one codebook. Optimizer moments of restarted rows are
        left as they are; they fade within a few hundred steps.
        """
        if z_sample.dim() == 4:
            z_sample = z_sample.permute(0, 2, 3, 1).reshape(-1, self.dim)
        z_sample = z_sample.detach().float()
        distributed = dist.is_available() and dist.is_initialized()
        if distributed:
            dist.all_reduce(self.steps_since_used, op=dist.ReduceOp.MIN)
        dead = self.dead_codes()
        if dead.numel() == 0 or z_sample.shape[0] == 0:
            return 0
        device = self.codebook.device
        picks = torch.randint(0, z_sample.shape[0], (dead.numel(),), generator=generator,
                              device=generator.device if generator is not None else "cpu")
        fresh = z_sample[picks.to(z_sample.device)].to(device)
        scale = fresh.std().clamp_min(1e-6) * noise
        jitter = torch.randn(fresh.shape, generator=generator,
                             device=generator.device if generator is not None else "cpu")
        fresh = fresh + scale * jitter.to(device)
        self.codebook.data[dead] = fresh.to(self.codebook.dtype)
        if distributed:
            dist.broadcast(self.codebook.data, src=0)
        self.steps_since_used[dead] = 0
        return int(dead.numel())
