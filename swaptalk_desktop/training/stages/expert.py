"""Stage: the VQ-Lip expert, a SyncNet on the frozen VQGAN's lower-half latents.

Positives are F consecutive frames with the mel window centred on them; negatives the same
frames with audio from at least ``min_shift`` frames away in the same clip (same voice and
room, wrong moment), half and half, BCE on the cosine as in Wav2Lip.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import losses
from ..archs import build_module
from ..data.windows import WindowBatches, load_clips
from .base import Recipe, StageContext
from .common import codes_tensor, dataset_for, latent_cache, load_frozen


class LatentLookup:
    """Codes -> latents with the frozen VQGAN's codebooks."""

    def __init__(self, vqgan) -> None:
        self.vqgan = vqgan
        self.half = vqgan.grid // 2

    def lower(self, codes: Tensor) -> Tensor:
        """[..., h/2, w] lower codes -> [..., C, h/2, w]."""
        lead = codes.shape[:-2]
        flat = codes.reshape(-1, *codes.shape[-2:])
        z = self.vqgan.quant_lower.lookup(flat)
        return z.reshape(*lead, *z.shape[1:])

    def upper(self, codes: Tensor) -> Tensor:
        lead = codes.shape[:-2]
        z = self.vqgan.quant_upper.lookup(codes.reshape(-1, *codes.shape[-2:]))
        return z.reshape(*lead, *z.shape[1:])

    def full(self, codes: Tensor) -> Tensor:
        return self.vqgan.codes_to_latent(codes)


class ExpertRecipe(Recipe):
    name = "expert"
    best_metric = "accuracy"
    best_mode = "max"
    weight_decay = 1e-4

    def __init__(self, ctx: StageContext) -> None:
        super().__init__(ctx)
        self.index = dataset_for(ctx)
        self.expert = build_module("expert", ctx.config)
        self.modules = {"expert": self.expert}
        self.param_groups = {"main": list(self.expert.parameters())}
        self.inputs: dict = {}

    def prepare(self) -> None:
        ctx = self.ctx
        vqgan, self.inputs["vqgan"] = load_frozen(ctx, "vqgan")
        self.lookup = LatentLookup(vqgan)
        cache, fp = latent_cache(ctx, self.index, vqgan)
        self.inputs["latents"] = fp
        cfg = ctx.config
        frames, window = cfg.expert.frames, cfg.expert.mel_window
        self.train = WindowBatches(load_clips(self.index, cache, "train", True), frames, window,
                                   ctx.settings.seed)
        val_clips = load_clips(self.index, cache, "val", True)
        try:
            self.val = WindowBatches(val_clips, frames, window, ctx.settings.seed + 1)
        except ValueError:
            self.val = self.train
        # the number that matters: people the expert never heard or saw
        try:
            self.val_unseen = WindowBatches(load_clips(self.index, cache, "val_unseen", True),
                                            frames, window, ctx.settings.seed + 2)
        except ValueError:
            self.val_unseen = None

    def meta(self) -> dict:
        return {"data": str(self.index.root), **self.inputs}

    def make_batch(self, step: int, micro: int, rank: int) -> dict:
        return self.train.expert_batch(step, self.ctx.settings.batch, micro, rank)

    def to_device(self, batch: dict) -> dict:
        d = self.ctx.device
        half = self.lookup.half
        return {"lower": self.lookup.lower(codes_tensor(batch["codes"][..., half:, :], d)),
                "mel": torch.from_numpy(batch["mel"]).to(d),
                "label": torch.from_numpy(batch["label"]).to(d)}

    def loss(self, phase: str, batch: dict, step: int, micro: int) -> tuple[Tensor, dict]:
        video, audio = self.expert(batch["lower"], batch["mel"])
        loss = losses.sync_loss(video, audio, batch["label"])
        predicted = ((video * audio).sum(1) > 0).float()
        return loss, {"accuracy": (predicted == batch["label"]).float().mean().item()}

    def _scores(self, windows: WindowBatches) -> dict[str, float]:
        pairs = windows.expert_pairs(self.ctx.settings.val_samples)
        pos = self.to_device(pairs["pos"])
        neg = self.to_device(pairs["neg"])
        s_pos = self.expert.score(pos["lower"], pos["mel"])
        s_neg = self.expert.score(neg["lower"], neg["mel"])
        correct = torch.cat([s_pos > 0, s_neg <= 0]).float()
        return {"accuracy": correct.mean().item(),
                "pair_accuracy": (s_pos > s_neg).float().mean().item(),
                "score_in_sync": s_pos.mean().item(), "score_shifted": s_neg.mean().item()}

    @torch.no_grad()
    def validate(self, step: int) -> dict[str, float]:
        out = self._scores(self.val)
        if self.val_unseen is not None:
            unseen = self._scores(self.val_unseen)
            out["accuracy_unseen"] = unseen["accuracy"]
            out["pair_accuracy_unseen"] = unseen["pair_accuracy"]
        return out
