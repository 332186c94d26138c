"""The shipped default set: its ONNX graphs, loaded the way the product loads them (manifest,
sha256, StageRunners), reproduce the PyTorch weights shipped beside them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from training_helpers import real_crops

from swaptalk_desktop.inference import ModelRegistry, StageRunners
from swaptalk_desktop.training.archs import build_module
from swaptalk_desktop.training.checkpoint_io import read_checkpoint
from swaptalk_desktop.training.configs import config_from_dict
from swaptalk_desktop.training.trainer.checkpointing import load_run_module
from swaptalk_desktop.training.trainer.export_cmd import train_weights_path

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = "swaptalk-small-v1"
FOLDER = MODELS / SHIPPED
# Quantized outputs: a position may pick a different code only on a near-tie (summation order);
# every other position must agree to the fp32 bound.
FP32_BOUND = 1e-3
MAX_FLIPS = 0.01

pytestmark = pytest.mark.skipif(not (FOLDER / "manifest.json").is_file(),
                                reason=f"{SHIPPED} is not in models/")


@pytest.fixture(scope="module")
def shipped():
    registry = ModelRegistry(include_user=False)
    assert registry.default_set_id() == "swaptalk-small-v2"  # v1's stages and the lips stage
    runners = StageRunners(registry.get_set(SHIPPED), provider="cpu", max_batch=4)
    weights = train_weights_path(FOLDER, SHIPPED)
    cfg = config_from_dict(read_checkpoint(weights).meta["config"])
    mods = {}
    for name in ("vqgan", "swap", "sync"):
        mods[name] = build_module(name, cfg)
        load_run_module(weights, name, mods[name])
    return runners, mods


def to_torch_images(c: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(c.astype(np.float32).transpose(0, 3, 1, 2) / np.float32(127.5) - 1)


def assert_quantized_match(onnx_latent: np.ndarray, torch_latent: np.ndarray) -> None:
    diff = np.abs(onnx_latent - torch_latent).max(axis=1)  # per (b, h, w) position
    flipped = diff > FP32_BOUND
    assert flipped.mean() <= MAX_FLIPS, f"{flipped.mean():.1%} of positions chose another code"
    assert diff[~flipped].max() <= FP32_BOUND


@torch.no_grad()
def test_shipped_graphs_match_their_torch_weights(shipped, face_photo):
    runners, mods = shipped
    vq, swap, sync = mods["vqgan"], mods["swap"], mods["sync"]
    real = real_crops(face_photo, runners.crop_size, n=4)
    latent = runners.encode(real)
    assert_quantized_match(latent, vq.encode(to_torch_images(real)).latent.numpy())

    # decode is continuous: images in [-1, 1] within 1e-3, i.e. under one uint8 level
    image = vq.decode(torch.from_numpy(latent)).clamp(-1, 1).numpy()
    decoded = runners.decode(latent).astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1
    assert np.abs(decoded - image).max() <= 1 / 127.5 + FP32_BOUND

    source = latent[-1:]
    swapped = runners.swap(latent, source)
    t = torch.from_numpy(latent)
    ref_swap = vq.quantize(swap(t, torch.from_numpy(source).expand_as(t))).latent.numpy()
    assert_quantized_match(swapped, ref_swap)

    g = latent.shape[2]
    mel = np.random.default_rng(0).uniform(-4, 4, (len(latent), 80, runners.mel_window))
    mel = mel.astype(np.float32)
    lower = runners.sync(latent[:, :, :g // 2], latent[:1], mel)
    logits = sync(t[:, :, :g // 2], t[:1].expand_as(t), torch.from_numpy(mel)[:, None])
    codes = logits.argmax(dim=1)
    ref_lower = vq.quant_lower.codebook[codes].permute(0, 3, 1, 2).numpy()
    assert_quantized_match(lower, ref_lower)
