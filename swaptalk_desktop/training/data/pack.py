"""A data pack: what the code-level stages (expert, sync, swap) need from a prepared dataset,
small enough to carry to a lent GPU machine (tens of MiB instead of the dataset's GiB).

The expert, sync and swap stages never read pixels once the dataset is encoded: they read the
latent cache (codes), the mel spectrograms and the per-frame audio times. A pack is a dataset
folder holding just those, plus the frozen VQGAN run they were encoded with, so every stage
command runs on it unchanged (``--data PACK --vqgan PACK/vqgan``). Landmarks keep only the
points the closed-mouth reference needs; the rest are zero (they compress to nothing).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ...core.atomic import write_text_atomic
from ...core.errors import InputError
from ...media.dataset_layout import DatasetLayout, load_index, read_landmarks, save_npz_atomic
from .latents import latents_dir

KEPT_LANDMARKS = (13, 14, 33, 263)
"""Inner-lip top/bottom and the outer eye corners: ``engine.frames.mouth_opening``."""
VQGAN_FILES = ("best.safetensors", "state.json")


def _slim_landmarks(lm: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    slim = np.zeros_like(lm["landmarks"])
    keep = list(KEPT_LANDMARKS)
    slim[:, keep] = lm["landmarks"][:, keep]
    return {**lm, "landmarks": slim}


def build_pack(data: Path, vqgan_run: Path, fingerprint: str, out: Path, *,
               mel_dtype=np.float16) -> dict:
    """Write the pack to ``out``; returns its size in bytes per part."""
    data, out = Path(data), Path(out)
    index = load_index(data)
    src = DatasetLayout(data)
    codes_from = latents_dir(data, fingerprint)
    if not (codes_from / "meta.json").is_file():
        raise InputError(f"{data} has no latent cache {fingerprint}; run `swaptalk train encode "
                         f"--data {data} --vqgan {vqgan_run}` first")
    codes_to = latents_dir(out, fingerprint)
    for sub in ("clips", "mel", "landmarks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    codes_to.mkdir(parents=True, exist_ok=True)
    sizes = {"codes": 0, "mel": 0, "landmarks": 0, "records": 0, "vqgan": 0}
    for rec in index.clips:
        code_file = codes_from / f"{rec.id}.npz"
        if not code_file.is_file():
            raise InputError(f"{rec.id} is not encoded in {codes_from}")
        shutil.copyfile(code_file, codes_to / code_file.name)
        sizes["codes"] += code_file.stat().st_size
        if rec.mel:
            mel = np.load(src.root / rec.mel, allow_pickle=False).astype(mel_dtype)
            np.save(out / rec.mel, mel)
            sizes["mel"] += (out / rec.mel).stat().st_size
        target = out / rec.landmarks
        save_npz_atomic(target, **_slim_landmarks(read_landmarks(src, rec)))
        sizes["landmarks"] += target.stat().st_size
        record = src.root / "clips" / f"{rec.id}.json"
        if record.is_file():
            shutil.copyfile(record, out / "clips" / record.name)
            sizes["records"] += record.stat().st_size
    shutil.copyfile(codes_from / "meta.json", codes_to / "meta.json")
    shutil.copyfile(data / "dataset.json", out / "dataset.json")
    (out / "vqgan").mkdir(exist_ok=True)
    for name in VQGAN_FILES:
        f = Path(vqgan_run) / name
        if f.is_file():
            shutil.copyfile(f, out / "vqgan" / name)
            sizes["vqgan"] += f.stat().st_size
    sizes["total"] = sum(sizes.values())
    write_text_atomic(out / "pack.json", json.dumps(
        {"from": str(data), "vqgan": str(vqgan_run), "fingerprint": fingerprint,
         "clips": len(index.clips), "bytes": sizes}, indent=1) + "\n")
    return sizes
