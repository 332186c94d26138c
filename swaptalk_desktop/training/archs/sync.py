"""Lip sync in latent space: predict the lower-half codes from the upper half, a reference frame
and audio. The target's own lower half is never an input (the latent form of masking the mouth).

Two parts, after the paper: a *warping* part that aligns the reference to the target's pose,
written as cross-attention from every target grid position to the reference's tokens (a soft,
learned offset that exports as MatMul + Softmax, unlike GridSample), and a *lip transform*
part, a small U-Net over the latent grid with skips and cross-attention to audio features.
The output is logits over the lower codebook, CodeFormer-style code prediction.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..configs import MEL_BINS, SyncConfig
from .blocks import (
    CrossAttention2d,
    Downsample,
    ResBlock,
    SelfAttention2d,
    Upsample,
    group_norm,
    latent_to_tokens,
)

RESIDUAL_TEMPERATURE = 0.1
"""Residual mode's logits are -|z - e_k|^2 / this: the argmax is the nearest code (what the
exported graph gathers), and the softmax is sharp enough to stand for it in the expert's loss."""


class MelEncoder(nn.Module):
    """mel [B, 1, 80, T] -> audio tokens [B, T, dim]: 1-D convs over time, 80 bins as channels."""

    def __init__(self, dim: int, window: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(MEL_BINS, dim, 3, padding=1)
        self.norm = group_norm(dim)
        self.conv2 = nn.Conv1d(dim, dim, 3, padding=1)
        self.position = nn.Parameter(torch.randn(1, window, dim) * 0.02)

    def forward(self, mel: Tensor) -> Tensor:
        # log-mel lies in [-4, 4]; /4 brings it to the unit range the init assumes.
        h = self.conv1(mel.squeeze(1) * 0.25)
        h = self.conv2(F.silu(self.norm(h)))
        return h.transpose(1, 2) + self.position


class SyncModule(nn.Module):
    """(upper [B, C, h/2, w], reference [B, C, h, w], mel [B, 1, 80, T]) -> lower-codebook
    logits [B, K, h/2, w]."""

    def __init__(self, cfg: SyncConfig, latent_dim: int, lower_codebook_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.latent_dim = latent_dim
        self.num_codes = lower_codebook_size
        g, w = cfg.grid, cfg.width
        if g % 4:
            raise ValueError(f"sync needs a latent grid divisible by 4, got {g}")
        self.upper_in = nn.Conv2d(latent_dim, w, 3, padding=1)
        # Learned filler where the lower half would be: the network sees a "hole", not zeros
        # that look like a real (if odd) latent.
        self.hole = nn.Parameter(torch.zeros(1, w, 1, 1))
        self.grid_position = nn.Parameter(torch.randn(1, w, g, g) * 0.02)
        self.context = nn.Sequential(ResBlock(w), SelfAttention2d(w, cfg.heads))
        self.reference_in = nn.Linear(latent_dim, w)
        self.reference_position = nn.Parameter(torch.randn(1, g * g, w) * 0.02)
        self.align = CrossAttention2d(w, w, cfg.heads)  # the warping part
        self.audio = MelEncoder(w, cfg.mel_window)
        self.enc = nn.ModuleList(ResBlock(w) for _ in range(cfg.depth))
        self.enc_audio = CrossAttention2d(w, w, cfg.heads)
        self.down = Downsample(w, 2 * w)
        self.mid = nn.ModuleList([ResBlock(2 * w), SelfAttention2d(2 * w, cfg.heads)])
        self.mid_audio = CrossAttention2d(2 * w, w, cfg.heads)
        self.up = Upsample(2 * w, w)
        self.dec = nn.ModuleList([ResBlock(2 * w, w)] +
                                 [ResBlock(w) for _ in range(cfg.depth - 1)])
        self.dec_audio = CrossAttention2d(w, w, cfg.heads)
        self.norm_out = group_norm(w)
        self.head = nn.Conv2d(w, lower_codebook_size, 1)
        if cfg.residual:
            # the lower latent as the reference's plus a change; zero at the start, so an
            # untrained module reproduces the reference's mouth and learns only what the sound
            # changes, with a dense regression signal instead of a 512-way guess per position
            self.delta_head = nn.Conv2d(w, latent_dim, 1)
            nn.init.zeros_(self.delta_head.weight)
            nn.init.zeros_(self.delta_head.bias)
            self.register_buffer("prior_codebook", torch.zeros(lower_codebook_size, latent_dim))
            # a low-rank linear map from the mel window straight to a lower-latent change, fitted
            # in closed form (``training.sync_audio_fit``) before any gradient step: it sees no
            # face at all, so what it learns about the sound holds for every identity
            half = (g // 2) * g * latent_dim
            rank = cfg.audio_rank
            # fitted, not trained: buffers, saved with the weights and exported with the graph
            self.register_buffer("audio_coef", torch.zeros(rank, MEL_BINS * cfg.mel_window + 1))
            self.register_buffer("audio_basis", torch.zeros(half, rank))
            self.register_buffer("audio_mean", torch.zeros(half))
        elif cfg.reference_prior:
            # log-scale of the prior, per unit of squared code distance. 0.1: on the small
            # VQGAN's lower book (median squared distance between codes ~36, to the nearest
            # ~1.5) the reference's code leads a typical other by ~3.6 nats, a prior the head
            # can overrule where the audio says so; at 1.0 it could not, within a CPU run
            self.prior_log_scale = nn.Parameter(torch.full((), math.log(0.1)))
            # a frozen copy of the VQGAN's lower book, set by the trainer (``set_codebook``)
            # and saved with the weights, so the exported graph carries it
            self.register_buffer("prior_codebook", torch.zeros(lower_codebook_size, latent_dim))

    @torch.no_grad()
    def set_codebook(self, codebook: Tensor) -> None:
        if self.cfg.reference_prior or self.cfg.residual:
            self.prior_codebook.copy_(codebook.detach().to(self.prior_codebook))

    def features(self, upper: Tensor, reference: Tensor, mel: Tensor) -> Tensor:
        """Lower-half features [B, width, h/2, w]; ``head`` turns them into code logits."""
        up = self.upper_in(upper)
        x = torch.cat([up, torch.zeros_like(up) + self.hole], dim=2) + self.grid_position
        x = self.context(x)  # lets lower positions know the pose seen in the upper half
        ref = self.reference_in(latent_to_tokens(reference)) + self.reference_position
        x = self.align(x, ref)
        audio = self.audio(mel)
        for block in self.enc:
            x = block(x)
        skip = self.enc_audio(x, audio)
        x = self.down(skip)
        for block in self.mid:
            x = block(x)
        x = self.up(self.mid_audio(x, audio))
        x = torch.cat([x, skip], dim=1)
        for block in self.dec:
            x = block(x)
        x = self.dec_audio(x, audio)
        return F.silu(self.norm_out(x[:, :, self.cfg.grid // 2:]))

    def audio_delta(self, mel: Tensor) -> Tensor:
        """The closed-form audio path: mel [B, 1, 80, T] -> latent change [B, C, h/2, w]."""
        x = (mel.flatten(1).float() + 4.0) * 0.125  # log-mel [-4, 4] -> [0, 1]
        x = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
        delta = self.audio_mean + (x @ self.audio_coef.t()) @ self.audio_basis.t()
        g = self.cfg.grid
        return delta.view(-1, self.latent_dim, g // 2, g)

    def logits(self, features: Tensor, reference: Tensor, mel: Tensor | None = None) -> Tensor:
        """Code logits [B, K, h/2, w] from ``features``; with the reference prior, plus the
        negative squared distance of each lower code to the reference's latent at the same
        position (scaled by a learned factor), so the argmax is the reference's own code
        wherever the features say nothing."""
        if self.cfg.residual:
            z = self.continuous(features, reference, mel)
            book = self.prior_codebook.float()
            dist = ((z * z).sum(dim=1, keepdim=True) - 2.0 * torch.einsum("bchw,kc->bkhw", z, book)
                    + (book * book).sum(dim=1)[None, :, None, None])
            return -dist / RESIDUAL_TEMPERATURE
        logits = self.head(features)
        if not self.cfg.reference_prior:
            return logits
        ref = reference[:, :, self.cfg.grid // 2:].float()
        book = self.prior_codebook.float()
        # -|r - e_k|^2 without the |r|^2 term, which is the same for every k
        dot = torch.einsum("bchw,kc->bkhw", ref, book)
        prior = 2.0 * dot - (book * book).sum(dim=1)[None, :, None, None]
        return logits + torch.exp(self.prior_log_scale) * prior.to(logits.dtype)

    def continuous(self, features: Tensor, reference: Tensor, mel: Tensor | None) -> Tensor:
        """Residual mode: the predicted lower latent [B, C, h/2, w] before quantisation."""
        ref = reference[:, :, self.cfg.grid // 2:].float()
        z = ref + self.delta_head(features).float()
        return z if mel is None else z + self.audio_delta(mel)

    def forward(self, upper: Tensor, reference: Tensor, mel: Tensor) -> Tensor:
        return self.logits(self.features(upper, reference, mel), reference, mel)

    @staticmethod
    def latents_from_logits(logits: Tensor, codebook: Tensor, temperature: float = 1.0
                            ) -> tuple[Tensor, Tensor]:
        """(soft, hard) lower latents [B, C, h/2, w] from logits [B, K, h/2, w].

        soft = softmax(logits / temperature) @ codebook, differentiable (for the expert's sync
        loss); hard = the argmax code's embedding (what the exported graph outputs).
        """
        probs = torch.softmax(logits.float() / temperature, dim=1)
        book = codebook.float()
        soft = torch.einsum("bkhw,kc->bchw", probs, book)
        hard = F.embedding(logits.argmax(dim=1), book).permute(0, 3, 1, 2)
        return soft, hard

    def predict_latent(self, upper: Tensor, reference: Tensor, mel: Tensor, codebook: Tensor,
                       temperature: float = 1.0) -> tuple[Tensor, Tensor]:
        """(soft, hard) lower latents; ``codebook`` is the VQGAN's lower book [K, C]."""
        return self.latents_from_logits(self(upper, reference, mel), codebook, temperature)
