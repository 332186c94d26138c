"""VQ-Lip expert: a SyncNet on latents, scoring whether F lower-half latents match the audio.

Working on latents (not pixels) makes the expert cheap and lets the sync module's soft lower
latents be scored directly, without decoding, as the paper's latent-space expert does.
Trained first with BCE on in-sync / shifted pairs, then frozen as the sync module's critic.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..configs import MEL_BINS, ExpertConfig
from .blocks import Downsample, ResBlock, group_norm


class LatentSyncExpert(nn.Module):
    """(lower [B, F, C, h/2, w], mel [B, 1, 80, T]) -> (video, audio) L2-normalised embeddings."""

    def __init__(self, cfg: ExpertConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        # The F frames are stacked on channels: mouth *motion* across frames is the signal.
        self.video = nn.Sequential(
            nn.Conv2d(cfg.frames * cfg.latent_dim, w, 3, padding=1), ResBlock(w),
            Downsample(w, 2 * w), ResBlock(2 * w), group_norm(2 * w), nn.SiLU())
        self.video_head = nn.Linear(2 * w, cfg.embed_dim)
        self.audio = nn.Sequential(
            nn.Conv1d(MEL_BINS, w, 3, padding=1), group_norm(w), nn.SiLU(),
            nn.Conv1d(w, 2 * w, 3, stride=2, padding=1), group_norm(2 * w), nn.SiLU(),
            nn.Conv1d(2 * w, 2 * w, 3, padding=1), group_norm(2 * w), nn.SiLU())
        self.audio_head = nn.Linear(2 * w, cfg.embed_dim)

    def embed_video(self, lower: Tensor) -> Tensor:
        h = self.video(lower.flatten(1, 2))
        return F.normalize(self.video_head(h.mean(dim=(2, 3))), dim=1)

    def embed_audio(self, mel: Tensor) -> Tensor:
        h = self.audio(mel.squeeze(1) * 0.25)  # log-mel [-4, 4] -> unit range
        return F.normalize(self.audio_head(h.mean(dim=2)), dim=1)

    def forward(self, lower: Tensor, mel: Tensor) -> tuple[Tensor, Tensor]:
        return self.embed_video(lower), self.embed_audio(mel)

    def score(self, lower: Tensor, mel: Tensor) -> Tensor:
        """Cosine similarity [B] in [-1, 1]; higher = more in sync."""
        video, audio = self(lower, mel)
        return (video * audio).sum(dim=1)
