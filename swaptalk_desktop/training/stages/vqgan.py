"""Stage 1: the face VQGAN (reconstruction + VQ losses; patch GAN and identity loss optional).

The GAN switches on at ``gan_start`` (default: a quarter of the run) as in taming-transformers:
an adversary that starts before the autoencoder reconstructs anything only teaches it
texture noise. The identity loss needs an identity network: a trained identity run
(``--identity``) or the MobileFaceNet teacher (``--identity-teacher``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import losses
from ..archs import build_module
from ..data.dataset import CropBatches
from ..data.latents import images_to_tensor
from ..trainer.checkpointing import load_run_module
from ..trainer.distributed import all_min_, step_generator
from .base import Recipe, StageContext
from .common import dataset_for, psnr
from .identity_choice import load_identity_network

RESTART_EVERY = 50
GAN_WEIGHT = 0.1
IDENTITY_WEIGHT = 0.1


class VQGANRecipe(Recipe):
    name = "vqgan"
    best_metric = "psnr"
    best_mode = "max"
    ema_modules = ("vqgan",)
    betas = (0.5, 0.9)

    def __init__(self, ctx: StageContext) -> None:
        super().__init__(ctx)
        self.index = dataset_for(ctx)
        self.vqgan = build_module("vqgan", ctx.config)
        self.modules = {"vqgan": self.vqgan}
        self.param_groups = {"main": list(self.vqgan.parameters())}
        cfg = ctx.config.vqgan
        self.use_gan = bool(ctx.options.get("gan", cfg.use_gan))
        self.gan_start = int(ctx.options.get("gan_start", ctx.settings.steps // 4))
        if self.use_gan:
            self.disc = build_module("discriminator", ctx.config)
            self.modules["discriminator"] = self.disc
            self.param_groups["disc"] = list(self.disc.parameters())
        self._fakes: dict[int, Tensor] = {}
        self._last_z: Tensor | None = None
        self.identity = None
        self.inputs: dict = {}
        if ctx.options.get("init"):
            meta = load_run_module(ctx.options["init"], "vqgan", self.vqgan)
            self.inputs["init"] = {"weights": meta["weights"], "step": meta.get("step")}
            self.vqgan.train()
        # Per-actor adaptation: encoder and codebooks stay those of the base set, whose
        # exported encoder keeps producing the latents this decoder will see.
        self.decoder_only = bool(ctx.options.get("decoder_only"))
        if self.decoder_only:
            for part in (self.vqgan.encoder, self.vqgan.quant_upper, self.vqgan.quant_lower):
                part.requires_grad_(False)
            self.param_groups["main"] = list(self.vqgan.decoder.parameters())

    def prepare(self) -> None:
        s = self.ctx.settings
        # low-resolution photos are identity material, not reconstruction targets (weight 0)
        low_res = float(self.ctx.options.get("low_res_weight", 0.0))
        self.train_data = CropBatches(self.index, "train", s.seed, flip=True,
                                      budget_bytes=s.cache_bytes, low_res_weight=low_res)
        if self.train_data.left_out:
            self.ctx.message(f"{self.train_data.left_out} low-resolution photos are left out "
                             "of the VQGAN's training items (--low-res-weight to use them)")
        try:
            self.val_data = CropBatches(self.index, "val", s.seed, store=self.train_data.store,
                                        low_res_weight=low_res)
        except ValueError:
            self.val_data = None
        self.identity, meta = load_identity_network(self.ctx, required=False)
        if meta:
            self.inputs["identity"] = meta

    def meta(self) -> dict:
        return {"data": str(self.index.root), **self.inputs}

    def train_mode(self, training: bool) -> None:
        super().train_mode(training)
        if self.decoder_only:  # frozen parts: no code-usage bookkeeping either
            for part in (self.vqgan.encoder, self.vqgan.quant_upper, self.vqgan.quant_lower):
                part.eval()

    def make_batch(self, step: int, micro: int, rank: int):
        return self.train_data.batch(step, self.ctx.settings.batch, micro, rank)[0]

    def to_device(self, batch) -> Tensor:
        return images_to_tensor(batch, self.ctx.device)

    def phases(self, step: int) -> list[str]:
        return ["main", "disc"] if self.use_gan and step >= self.gan_start else ["main"]

    def loss(self, phase: str, x: Tensor, step: int, micro: int) -> tuple[Tensor, dict]:
        if phase == "disc":
            fake = self._fakes.pop(micro)
            d = losses.hinge_d_loss(self.disc(x), self.disc(fake))
            return d, {}
        with torch.set_grad_enabled(not self.decoder_only):
            z = self.vqgan.encode_continuous(x)
            out = self.vqgan.quantize(z)
        x_hat = self.vqgan.decode(out.latent)
        rec, terms = losses.reconstruction_loss(x_hat.float(), x)
        total = rec if self.decoder_only else rec + out.loss
        logged = {"l1": terms["l1"].item(), "ssim": terms["ssim"].item(),
                  "vq": out.loss.item(), "perplexity_upper": out.perplexity["upper"].item(),
                  "perplexity_lower": out.perplexity["lower"].item()}
        if self.identity is not None:
            with torch.no_grad():
                ref = self.identity(x)
            ident = losses.identity_loss(self.identity(x_hat.float()), ref)
            total = total + IDENTITY_WEIGHT * ident
            logged["identity"] = ident.item()
        if self.use_gan and step >= self.gan_start:
            for p in self.disc.parameters():
                p.requires_grad_(False)
            g = losses.hinge_g_loss(self.disc(x_hat))
            for p in self.disc.parameters():
                p.requires_grad_(True)
            weight = losses.adaptive_gan_weight(rec, g, self.vqgan.decoder.conv_out.weight)
            total = total + GAN_WEIGHT * weight * g
            self._fakes[micro] = x_hat.detach()
            logged["gan_g"] = g.item()
        self._last_z = z.detach()
        return total, logged

    def after_step(self, step: int) -> None:
        info = self.ctx.dist
        if info.distributed:  # a code counts as used if any rank used it
            for q in (self.vqgan.quant_upper, self.vqgan.quant_lower):
                all_min_(q.steps_since_used, info)
        if (step + 1) % RESTART_EVERY == 0 and self._last_z is not None \
                and not self.decoder_only:
            gen = step_generator(self.ctx.settings.seed, step, salt=3)
            self.vqgan.restart_dead_codes(self._last_z, gen)

    @torch.no_grad()
    def validate(self, step: int) -> dict[str, float]:
        data = self.val_data or self.train_data
        crops, _ = data.fixed(self.ctx.settings.val_samples)
        p, s, used_up, used_lo = [], [], set(), set()
        half = self.vqgan.grid // 2
        for i in range(0, len(crops), 16):
            x = images_to_tensor(crops[i:i + 16], self.ctx.device)
            x_hat, out = self.vqgan(x)
            p.append(psnr(x_hat, x))
            s.append(losses.ssim(x_hat.clamp(-1, 1), x) * len(x))
            used_up.update(out.codes[:, :half].flatten().tolist())
            used_lo.update(out.codes[:, half:].flatten().tolist())
        k = self.vqgan.cfg.codebook_size
        return {"psnr": torch.cat(p).mean().item(), "ssim": (sum(s) / len(crops)).item(),
                "codes_used_upper": len(used_up) / k, "codes_used_lower": len(used_lo) / k}
