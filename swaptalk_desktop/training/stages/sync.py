"""Stage: the latent lip-sync module (lower-half codes from upper half + reference + audio).

Each sample is a window of F consecutive frames sharing one reference frame, so the frozen
expert can score the predicted mouth motion: code cross-entropy against the true lower codes,
plus the expert's sync loss on the soft (differentiable) lower latents, switched on at
``sync_start`` (Wav2Lip waits until the generator makes mouths before asking them to sync).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import losses
from ..archs import build_module
from ..data.windows import WindowBatches, load_clips
from ..trainer.checkpointing import load_run_module
from .base import Recipe, StageContext
from .common import codes_tensor, dataset_for, latent_cache, load_frozen
from .expert import LatentLookup

SYNC_WEIGHT = 0.1
LATENT_WEIGHT = 1.0
RESIDUAL_CODE_WEIGHT = 0.0
"""Residual mode: latent regression only. At 0.05 the code loss (logits are distances / 0.1)
outweighed the latent error a hundredfold and the latent error did not fall in 500 steps."""


class SyncRecipe(Recipe):
    name = "sync"
    best_metric = "code_accuracy"
    best_mode = "max"
    ema_modules = ("sync",)
    weight_decay = 1e-4

    def __init__(self, ctx: StageContext) -> None:
        super().__init__(ctx)
        self.index = dataset_for(ctx)
        self.sync = build_module("sync", ctx.config)
        self.modules = {"sync": self.sync}
        self.param_groups = {"main": list(self.sync.parameters())}
        self.sync_weight = float(ctx.options.get("sync_weight", SYNC_WEIGHT))
        self.sync_start = int(ctx.options.get("sync_start", ctx.settings.steps // 5))
        self.inputs: dict = {}
        self.expert = None
        if ctx.options.get("init"):
            meta = load_run_module(ctx.options["init"], "sync", self.sync)
            self.inputs["init"] = {"weights": meta["weights"], "step": meta.get("step")}
            self.sync.train()

    def prepare(self) -> None:
        ctx = self.ctx
        self.vqgan, self.inputs["vqgan"] = load_frozen(ctx, "vqgan")
        self.sync.set_codebook(self.vqgan.quant_lower.codebook)
        self.lookup = LatentLookup(self.vqgan)
        self.expert, meta = load_frozen(ctx, "expert", required=False)
        if meta:
            self.inputs["expert"] = meta
        else:
            ctx.message("no --expert run given: training with the code loss only and without "
                        "the expert sync score")
        cache, fp = latent_cache(ctx, self.index, self.vqgan)
        self.inputs["latents"] = fp
        frames, window = ctx.config.sync_frames, ctx.config.sync.mel_window
        self.train = WindowBatches(load_clips(self.index, cache, "train", True), frames, window,
                                   ctx.settings.seed)
        try:
            self.val = WindowBatches(load_clips(self.index, cache, "val", True), frames, window,
                                     ctx.settings.seed + 1)
        except ValueError:
            self.val = self.train
        fresh = not (ctx.settings.run_dir / "checkpoint.safetensors").is_file()
        if self.sync.cfg.residual and fresh:
            self._fit_audio(cache, frames, window)

    def _fit_audio(self, cache, frames: int, window: int) -> None:
        from ..sync_audio_fit import fit_audio_path
        try:
            unseen = WindowBatches(load_clips(self.index, cache, "val_unseen", True), frames,
                                   window, self.ctx.settings.seed + 2)
        except ValueError:
            unseen = None
        self.ctx.message("fitting the audio path in closed form...")
        report = fit_audio_path(self.sync, self.lookup, self.train, self.val, unseen,
                                windows=200 if self.ctx.config.name == "tiny" else 3000)
        self.inputs["audio_fit"] = report
        self.ctx.message("audio path: " + ", ".join(f"{k} {v}" for k, v in report.items()))

    def meta(self) -> dict:
        return {"data": str(self.index.root), **self.inputs}

    def make_batch(self, step: int, micro: int, rank: int) -> dict:
        return self.train.sync_batch(step, self.ctx.settings.batch, micro, rank)

    def to_device(self, batch: dict) -> dict:
        d, half = self.ctx.device, self.lookup.half
        codes = codes_tensor(batch["codes"], d)
        return {"upper": self.lookup.upper(codes[..., :half, :]),
                "target": codes[..., half:, :],
                "reference": self.lookup.full(codes_tensor(batch["reference"], d)),
                "mel": torch.from_numpy(batch["mel"]).to(d),
                "expert_mel": torch.from_numpy(batch["expert_mel"]).to(d)}

    def predict(self, batch: dict) -> Tensor:
        """Logits [B*F, K, h/2, w] for every frame of every window."""
        b, f = batch["upper"].shape[:2]
        ref = batch["reference"][:, None].expand(b, f, *batch["reference"].shape[1:])
        return self.sync(batch["upper"].flatten(0, 1), ref.flatten(0, 1),
                         batch["mel"].flatten(0, 1))

    def _expert_score(self, lower: Tensor, batch: dict) -> tuple[Tensor, Tensor]:
        b, f = batch["upper"].shape[:2]
        return self.expert(lower.reshape(b, f, *lower.shape[1:]), batch["expert_mel"])

    def _continuous(self, batch: dict) -> tuple[Tensor, Tensor]:
        b, f = batch["upper"].shape[:2]
        ref = batch["reference"][:, None].expand(b, f, *batch["reference"].shape[1:]).flatten(0, 1)
        features = self.sync.features(batch["upper"].flatten(0, 1), ref,
                                      batch["mel"].flatten(0, 1))
        mel = batch["mel"].flatten(0, 1)
        return self.sync.continuous(features, ref, mel), self.sync.logits(features, ref, mel)

    def loss(self, phase: str, batch: dict, step: int, micro: int) -> tuple[Tensor, dict]:
        target = batch["target"].flatten(0, 1)
        if self.sync.cfg.residual:
            z, logits = self._continuous(batch)
            code = losses.code_loss(logits, target)
            latent = F.mse_loss(z, self.lookup.lower(target))
            total = LATENT_WEIGHT * latent + RESIDUAL_CODE_WEIGHT * code
            logged = {"latent": latent.item(), "code": code.item()}
        else:
            logits = self.predict(batch)
            total = losses.code_loss(logits, target)
            logged = {"code": total.item()}
        logged["code_accuracy"] = losses.code_accuracy(logits, target).item()
        if self.expert is not None and step >= self.sync_start and self.sync_weight > 0:
            soft, _ = self.sync.latents_from_logits(logits, self.vqgan.quant_lower.codebook)
            video, audio = self._expert_score(soft, batch)
            sync = losses.sync_loss(video, audio, 1.0)
            total = total + self.sync_weight * sync
            logged["sync"] = sync.item()
        return total, logged

    @torch.no_grad()
    def validate(self, step: int) -> dict[str, float]:
        batch = self.to_device(self.val.sync_fixed(self.ctx.settings.val_samples))
        logits = self.predict(batch)
        target = batch["target"].flatten(0, 1)
        out = {"code_accuracy": losses.code_accuracy(logits, target).item(),
               "code_loss": losses.code_loss(logits, target).item()}
        if self.sync.cfg.residual:
            z, _ = self._continuous(batch)
            out["latent_mse"] = F.mse_loss(z, self.lookup.lower(target)).item()
            silent = dict(batch, mel=torch.full_like(batch["mel"], -4.0))
            z_silent, _ = self._continuous(silent)
            # how far the sound moves the mouth: ~0 for a module that ignores the audio
            out["latent_mse_silence"] = F.mse_loss(z_silent, self.lookup.lower(target)).item()
        if self.expert is not None:
            _, hard = self.sync.latents_from_logits(logits, self.vqgan.quant_lower.codebook)
            video, audio = self._expert_score(hard, batch)
            out["expert_score"] = (video * audio).sum(1).mean().item()
            real = self.lookup.lower(target)
            video, audio = self._expert_score(real, batch)
            out["expert_score_real"] = (video * audio).sum(1).mean().item()
        return out
