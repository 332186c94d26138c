"""Running the parity check over exported graphs: inputs, torch references, ORT runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from ...inference.manifest import MEL_BINS
from ..archs.swap import SwapTransformer
from ..archs.sync import SyncModule
from ..archs.vqgan import VQGAN
from .parity import Bounds, OnnxRunner, ParityReport, check_image, check_quantized

Feeds = dict[str, dict[str, np.ndarray]]  # stage -> role -> array
MAX_REAL = 8  # real frames per check: enough to hit real code statistics, cheap on a CPU


def _to_images(images: np.ndarray, crop_size: int) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype == np.uint8:  # crops [N, S, S, 3] as the engine holds them
        images = images.astype(np.float32).transpose(0, 3, 1, 2) / np.float32(127.5) - 1.0
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != (3, crop_size, crop_size):
        raise ValueError(f"parity images must be uint8 [N, {crop_size}, {crop_size}, 3] or "
                         f"float32 [N, 3, {crop_size}, {crop_size}], got {list(images.shape)}")
    return images[:MAX_REAL]


def _to_mel(mel: np.ndarray | None, n: int, window: int, rng: np.random.Generator) -> np.ndarray:
    if mel is None:
        return rng.uniform(-4, 4, (n, 1, MEL_BINS, window)).astype(np.float32)
    mel = np.asarray(mel, np.float32)
    if mel.ndim == 3:
        mel = mel[:, None]
    if mel.shape[1:] != (1, MEL_BINS, window):
        raise ValueError(f"parity mel must be [N, {MEL_BINS}, {window}], got {list(mel.shape)}")
    return np.resize(mel, (n, 1, MEL_BINS, window)) if mel.shape[0] != n else mel


@torch.no_grad()
def build_feeds(vqgan: VQGAN, mel_window: int, parity_inputs: Mapping[str, np.ndarray] | None,
                seed: int = 0, batch: int = 3) -> dict[str, Feeds]:
    """Input sets by name ("random", "real"): per stage, the role -> array feeds.

    Random latents are random *codes* looked up in the books, i.e. valid quantized latents
    like the engine passes between stages; real latents are the torch encoding of real crops.
    """
    rng = np.random.default_rng(seed)
    cfg = vqgan.cfg
    s, g, k = cfg.crop_size, cfg.grid, cfg.codebook_size

    def random_latent(n: int) -> np.ndarray:
        codes = torch.from_numpy(rng.integers(0, k, (n, g, g)))
        return vqgan.codes_to_latent(codes).numpy()

    sets: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    images = rng.uniform(-1, 1, (batch, 3, s, s)).astype(np.float32)
    sets["random"] = (images, random_latent(batch), random_latent(1))
    if parity_inputs is not None and parity_inputs.get("image") is not None:
        real = _to_images(parity_inputs["image"], s)
        latents = vqgan.encode(torch.from_numpy(real)).latent.numpy()
        sets["real"] = (real, latents, latents[-1:])
    feeds: dict[str, Feeds] = {}
    for name, (imgs, lat, src) in sets.items():
        n = lat.shape[0]
        mel_src = parity_inputs.get("mel") if (name == "real" and parity_inputs) else None
        feeds[name] = {
            "encode": {"image": imgs},
            "swap": {"target": lat, "source": src},
            "sync": {"upper": np.ascontiguousarray(lat[:, :, :g // 2]),
                     "reference": np.roll(lat, 1, axis=0),  # another frame as reference
                     "mel": _to_mel(mel_src, n, mel_window, rng)},
            "decode": {"latent": lat},
        }
    return feeds


@torch.no_grad()
def torch_reference(stage: str, feeds: Mapping[str, np.ndarray], vqgan: VQGAN,
                    swap: SwapTransformer | None, sync: SyncModule | None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """(continuous values, codes) from the *training* modules, the ground truth the graphs
    must reproduce: pre-quant latent / logits / image, and codes (None for decode)."""
    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in feeds.items()}
    if stage == "encode":
        z = vqgan.encode_continuous(t["image"])
        return z.numpy(), vqgan.quantize(z).codes.numpy()
    if stage == "swap":
        assert swap is not None
        z = swap(t["target"], t["source"].expand_as(t["target"]))
        return z.numpy(), vqgan.quantize(z).codes.numpy()
    if stage == "sync":
        assert sync is not None
        logits = sync(t["upper"], t["reference"], t["mel"])
        return logits.numpy(), logits.argmax(dim=1).numpy()
    return vqgan.decode(t["latent"]).clamp(-1, 1).numpy(), None


def run_parity(report: ParityReport, files: Mapping[tuple[str, str], Path],
               probes: Mapping[tuple[str, str], Path], feeds: Mapping[str, Feeds],
               vqgan: VQGAN, swap: SwapTransformer | None, sync: SyncModule | None,
               providers: Mapping[str, Sequence[str]], bounds: Bounds) -> ParityReport:
    """Add a row per (stage, precision, input set, provider) to ``report``.

    ``files``/``probes``: (stage, precision) -> final graph / continuous-output probe graph.
    ``providers``: precision -> ORT providers to check it on ("CPU", "CUDA"). An fp16 graph
    that a provider cannot load (no float16 kernel there) is noted, not failed: fp16 graphs
    are CUDA variants and CPU coverage of float16 is ORT's choice.
    """
    runner = OnnxRunner()
    books = {"upper": vqgan.quant_upper.codebook.detach().float().numpy(),
             "lower": vqgan.quant_lower.codebook.detach().float().numpy()}
    for (stage, precision), path in files.items():
        for provider in providers.get(precision, ()):
            try:
                runner.session(path, provider)
                if (stage, precision) in probes:
                    runner.session(probes[(stage, precision)], provider)
            except Exception as err:  # ORT raises pybind types with no common base class
                if precision == "fp32":
                    raise
                report.notes.append(f"{stage} fp16 graph does not load on {provider}: "
                                    f"{str(err).splitlines()[0][:200]}")
                continue
            for name, stage_feeds in feeds.items():
                inputs = stage_feeds[stage]
                reference, codes = torch_reference(stage, inputs, vqgan, swap, sync)
                final = runner.run(path, inputs, provider)
                if codes is None:
                    report.rows.append(check_image(precision, name, provider, reference, final,
                                                   bounds))
                    continue
                continuous = runner.run(probes[(stage, precision)], inputs, provider)
                use = (books["lower"],) if stage == "sync" else (books["upper"], books["lower"])
                report.rows.append(check_quantized(stage, precision, name, provider, reference,
                                                   continuous, final, use, codes, bounds))
    return report
