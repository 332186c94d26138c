"""Stage: the latent face-swap transformer.

Pairs are (target frame, source frame). For a source of another identity the decoded swap
should carry the source's identity (identity loss with the pretrained MobileFaceNet, or the
encoder distilled from dlib when an ``identity`` run is given; see ``identity_choice.py``) while
keeping the target's pose and mouth (a weak latent proxy loss toward the target, stronger on
the lower half, whose lip shape the swap must not change). For a source of the target's own
identity the answer is known: the target itself (full-weight latent loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import losses
from ..archs import build_module
from ..data.windows import SwapPairs, load_clips
from .base import Recipe, StageContext
from .common import codes_tensor, dataset_for, latent_cache, load_frozen
from .identity_choice import load_identity_network

IDENTITY_WEIGHT = 1.0
SAME_WEIGHT = 1.0
CROSS_UPPER_WEIGHT = 0.05
CROSS_LOWER_WEIGHT = 0.2
COMMIT_WEIGHT = 0.25


class SwapRecipe(Recipe):
    name = "swap"
    best_metric = "loss"
    best_mode = "min"
    ema_modules = ("swap",)
    weight_decay = 1e-4

    def __init__(self, ctx: StageContext) -> None:
        super().__init__(ctx)
        self.index = dataset_for(ctx)
        self.swap = build_module("swap", ctx.config)
        self.modules = {"swap": self.swap}
        self.param_groups = {"main": list(self.swap.parameters())}
        self.inputs: dict = {}

    def prepare(self) -> None:
        ctx = self.ctx
        self.vqgan, self.inputs["vqgan"] = load_frozen(ctx, "vqgan")
        self.identity, self.inputs["identity"] = load_identity_network(ctx, required=True)
        cache, self.inputs["latents"] = latent_cache(ctx, self.index, self.vqgan)
        self.train = SwapPairs(load_clips(self.index, cache, "train", False), ctx.settings.seed)
        try:
            self.val = SwapPairs(load_clips(self.index, cache, "val", False),
                                 ctx.settings.seed + 1)
        except ValueError:  # fewer than two identities with held-out frames
            self.val = self.train

    def meta(self) -> dict:
        return {"data": str(self.index.root), **self.inputs}

    def make_batch(self, step: int, micro: int, rank: int) -> dict:
        return self.train.batch(step, self.ctx.settings.batch, micro, rank)

    def to_device(self, batch: dict) -> dict:
        d = self.ctx.device
        return {"target": self.vqgan.codes_to_latent(codes_tensor(batch["target"], d)),
                "source": self.vqgan.codes_to_latent(codes_tensor(batch["source"], d)),
                "same": torch.from_numpy(batch["same"]).to(d)}

    def _objective(self, batch: dict, hard: bool = False) -> tuple[Tensor, dict, dict]:
        z_t, z_s, same = batch["target"], batch["source"], batch["same"].float()
        cont = self.swap(z_t, z_s)
        out = self.vqgan.quantize(cont)
        x_hat = self.vqgan.decode(out.latent).float()
        with torch.no_grad():
            id_src = self.identity(self.vqgan.decode(z_s).float())
        id_hat = self.identity(x_hat)
        cos = F.cosine_similarity(id_hat, id_src, dim=1)
        cross = 1.0 - same
        pick = cross > 0.5
        ident = losses.identity_loss(id_hat[pick], id_src[pick]) if bool(pick.any()) \
            else id_hat.new_zeros(())
        half = z_t.shape[-2] // 2
        err = (cont.float() - z_t.float()) ** 2
        upper, lower = err[:, :, :half].flatten(1).mean(1), err[:, :, half:].flatten(1).mean(1)
        latent = (same * SAME_WEIGHT * (upper + lower) / 2 +
                  cross * (CROSS_UPPER_WEIGHT * upper + CROSS_LOWER_WEIGHT * lower)).mean()
        total = IDENTITY_WEIGHT * ident + latent + COMMIT_WEIGHT * out.loss
        terms = {"identity": ident.item(), "latent": latent.item(), "commit": out.loss.item()}
        return total, terms, {"latent": out.latent, "cos": cos}

    def loss(self, phase: str, batch: dict, step: int, micro: int) -> tuple[Tensor, dict]:
        total, terms, _ = self._objective(batch)
        return total, terms

    @torch.no_grad()
    def validate(self, step: int) -> dict[str, float]:
        n = self.ctx.settings.val_samples
        loss, _, _ = self._objective(self.to_device(self.val.fixed(n, same_fraction=0.25)))
        batch = self.to_device(self.val.fixed(n, same_fraction=0.0))
        _, _, res = self._objective(batch)
        z_t, z_s = batch["target"], batch["source"]
        id_src = self.identity(self.vqgan.decode(z_s).float())
        id_tgt = self.identity(self.vqgan.decode(z_t).float())
        moved = ((res["latent"] - z_t) ** 2).flatten(1).mean(1)
        apart = ((z_s - z_t) ** 2).flatten(1).mean(1).clamp_min(1e-8)
        return {"loss": loss.item(), "id_cos_source": res["cos"].mean().item(),
                "id_cos_source_before": F.cosine_similarity(id_tgt, id_src, dim=1).mean().item(),
                "latent_distance": moved.mean().item(),
                "latent_distance_rel": (moved / apart).mean().item()}
