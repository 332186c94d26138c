"""Latent caches: every stored crop of a dataset encoded once by a trained (frozen) VQGAN.

The expert, sync and swap stages work on the VQGAN's codes, never on pixels (except where a
loss decodes), so encoding the dataset once makes them cheap enough to train on a CPU. The
cache is keyed by a fingerprint of the VQGAN's weights: ``DATA/latents/<fingerprint>/<id>.npz``
holding ``codes`` int16 ``[n, h, w]`` (upper rows index the upper codebook, lower rows the
lower one). A retrained VQGAN gets a new folder; a stale cache is never reused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ...core.atomic import write_text_atomic
from ...core.cancel import NEVER, CancelToken
from ...core.progress import ProgressCallback, StageMeter
from ...media.crops_io import iter_crops
from ...media.dataset_layout import ClipRecord, DatasetIndex, DatasetLayout, save_npz_atomic


def latents_dir(root: Path, fingerprint: str) -> Path:
    return Path(root) / "latents" / fingerprint


def images_to_tensor(crops: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 [B, S, S, 3] -> float32 [B, 3, S, S] in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(crops)).to(device)
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def _clip_crops(layout: DatasetLayout, rec: ClipRecord):
    path = layout.root / rec.crop
    if path.suffix == ".png":
        import cv2
        yield cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return
    yield from iter_crops(path)


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@torch.no_grad()
def encode_dataset(index: DatasetIndex, vqgan: torch.nn.Module, fingerprint: str, *,
                   device: torch.device | str = "cpu", batch: int = 64,
                   progress: ProgressCallback | None = None, cancel: CancelToken = NEVER,
                   message: Callable[[str], None] | None = None) -> Path:
    """Encode every clip of ``index`` not yet in the cache; returns the cache folder."""
    layout = DatasetLayout(index.root)
    folder = latents_dir(index.root, fingerprint)
    folder.mkdir(parents=True, exist_ok=True)
    todo = [c for c in index.clips if not (folder / f"{c.id}.npz").is_file()]
    if todo and message:
        message(f"encoding {len(todo)} clips with the VQGAN into {folder}")
    meter = StageMeter("encode", max(sum(c.frames for c in todo), 1), progress)
    done = 0
    was_training = vqgan.training
    vqgan.eval()
    try:
        for rec in todo:
            codes: list[np.ndarray] = []
            for chunk in _chunks(_clip_crops(layout, rec), batch):
                cancel.raise_if_cancelled()
                x = images_to_tensor(np.stack(chunk), device)
                codes.append(vqgan.encode(x).codes.to("cpu", torch.int16).numpy())
                done += len(chunk)
                meter.update(done)
            save_npz_atomic(folder / f"{rec.id}.npz", codes=np.concatenate(codes))
            meter.update(done)
    finally:
        vqgan.train(was_training)
    write_text_atomic(folder / "meta.json", json.dumps(
        {"fingerprint": fingerprint, "crop_size": index.crop_size,
         "clips": sorted(c.id for c in index.clips)}, indent=1) + "\n")
    return folder


class LatentCache:
    """Codes of every clip of a dataset, in RAM (int16: 512 bytes a frame at 16x16)."""

    def __init__(self, index: DatasetIndex, fingerprint: str) -> None:
        folder = latents_dir(index.root, fingerprint)
        self.index = index
        self.codes: dict[str, np.ndarray] = {}
        missing = []
        for rec in index.clips:
            path = folder / f"{rec.id}.npz"
            if not path.is_file():
                missing.append(rec.id)
                continue
            with np.load(path, allow_pickle=False) as z:
                self.codes[rec.id] = z["codes"].astype(np.int64)
        if missing:
            raise FileNotFoundError(f"{len(missing)} clips are not encoded in {folder}")
