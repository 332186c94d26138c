"""Pieces several stage recipes share: the dataset, frozen networks from earlier runs, the
latent cache, image metrics."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ...core.errors import InputError
from ...media.dataset_layout import DatasetIndex, load_index
from ..archs import VQGAN, build_module
from ..data.latents import LatentCache, encode_dataset
from ..trainer.checkpointing import load_run_module, module_fingerprint
from ..trainer.distributed import barrier
from .base import StageContext


def dataset_for(ctx: StageContext) -> DatasetIndex:
    if ctx.data is None:
        raise InputError("this stage needs --data DATA (a folder made by `swaptalk train "
                         "prepare`)")
    index = load_index(ctx.data)
    want = ctx.config.vqgan.crop_size
    if index.crop_size != want:
        raise InputError(f"{ctx.data} holds {index.crop_size} px crops but --config "
                         f"{ctx.config.name} works on {want} px; prepare a dataset with "
                         f"--crop-size {want}")
    return index


def frozen(module: nn.Module) -> nn.Module:
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def run_for(ctx: StageContext, name: str, required: bool = True) -> Path | None:
    run = ctx.runs.get(name)
    if run is None:
        if required:
            raise InputError(f"the {ctx.settings.run_dir.name} stage needs the trained {name} "
                             f"run: pass --{name} RUNS/{name}")
        return None
    return Path(run)


def load_frozen(ctx: StageContext, name: str, required: bool = True
                ) -> tuple[nn.Module | None, dict]:
    """A trained network of an earlier stage, frozen, on the device."""
    run = run_for(ctx, name, required)
    if run is None:
        return None, {}
    module = build_module(name, ctx.config)
    meta = load_run_module(run, name, module)
    return frozen(module.to(ctx.device)), {"run": str(run), "weights": meta.get("weights"),
                                           "step": meta.get("step")}


def latent_cache(ctx: StageContext, index: DatasetIndex, vqgan: VQGAN) -> tuple[LatentCache,
                                                                                str]:
    """Codes of every clip under this VQGAN; the main process encodes what is missing."""
    fingerprint = module_fingerprint(vqgan)
    if ctx.dist.main:
        encode_dataset(index, vqgan, fingerprint, device=ctx.device, progress=ctx.progress,
                       cancel=ctx.cancel, message=ctx.message)
    barrier(ctx.dist)
    return LatentCache(index, fingerprint), fingerprint


def codes_tensor(codes, device: torch.device) -> Tensor:
    return torch.as_tensor(codes, dtype=torch.long, device=device)


def psnr(x_hat: Tensor, x: Tensor) -> Tensor:
    """Per-image PSNR in dB of images in [-1, 1] (evaluated on [0, 1])."""
    a = (x_hat.float().clamp(-1, 1) + 1) / 2
    b = (x.float() + 1) / 2
    mse = ((a - b) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)
