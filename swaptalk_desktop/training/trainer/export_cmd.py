"""``swaptalk train export``: trained runs -> an installed model set (ONNX + manifest), plus
the set's PyTorch weights beside it (``<set-id>.train.safetensors``) so that per-actor
adaptation can fine-tune from the very weights the set was exported from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import InputError
from ...inference import user_model_dir
from ...inference.manifest import TRAIN_WEIGHTS_SUFFIX
from ..archs import build_module
from ..checkpoint_io import save_checkpoint
from ..configs import config_from_dict, config_to_dict
from ..options import ExportOptions, Message
from . import checkpointing as ckpt


def train_weights_path(folder: Path, set_id: str) -> Path:
    return Path(folder) / f"{set_id}{TRAIN_WEIGHTS_SUFFIX}"


def load_runs(runs: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(config, {name: module}, {name: meta}) for every stage run found under ``runs``."""
    state = ckpt.read_state(runs / "vqgan")
    if state is None or not (runs / "vqgan").is_dir():
        raise InputError(f"{runs} has no vqgan run (RUNS/vqgan); train it first or pass the "
                         "folder that holds the stage runs")
    cfg = config_from_dict(state["config"])
    modules, metas = {}, {}
    for name in ("vqgan", "swap", "sync", "expert", "identity"):
        run = runs / name
        if not run.is_dir():
            continue
        run_state = ckpt.read_state(run)
        if run_state and run_state.get("config_name") != cfg.name:
            raise InputError(f"{run} was trained with --config {run_state.get('config_name')} "
                             f"but {runs / 'vqgan'} with {cfg.name}; retrain one of them")
        module = build_module(name, cfg)
        metas[name] = ckpt.load_run_module(run, name, module)
        modules[name] = module
    return cfg, modules, metas


def parity_crops(data: Path | None, count: int = 8) -> dict[str, np.ndarray] | None:
    if data is None:
        return None
    from ...media.dataset_layout import load_index
    from ..data.dataset import CropBatches
    index = load_index(data)
    try:
        crops, _ = CropBatches(index, "val", 0).fixed(count)
    except ValueError:
        crops, _ = CropBatches(index, "train", 0).fixed(count)
    return {"image": crops}


def run_export(opts: ExportOptions, message: Message) -> dict:
    from ..export.model_set import export_model_set

    runs = Path(opts.runs)
    cfg, modules, metas = load_runs(runs)
    out = Path(opts.out) if opts.out else user_model_dir() / opts.set_id
    data = Path(opts.data) if opts.data else None
    if data is None and metas["vqgan"].get("inputs", {}).get("data"):
        candidate = Path(metas["vqgan"]["inputs"]["data"])
        data = candidate if (candidate / "dataset.json").is_file() else None
    parity = parity_crops(data)
    if parity is not None and parity["image"].shape[1] != cfg.vqgan.crop_size:
        parity = None
    training_data = opts.training_data or _describe_data(data)
    report = export_model_set(
        modules["vqgan"], modules.get("swap"), modules.get("sync"), out, opts.set_id,
        description=opts.description or f"SwapTalk {cfg.name} ({', '.join(sorted(modules))})",
        license=opts.license, training_data=training_data, card=opts.card, fp16=opts.fp16,
        make_default=opts.default, parity_inputs=parity, verbose=False)
    message(report.table())
    weights = train_weights_path(out, opts.set_id)
    save_checkpoint(weights, modules, meta={"config": config_to_dict(cfg), "set_id": opts.set_id,
                                            "runs": {k: m.get("weights") for k, m in
                                                     metas.items()}})
    return {"set_id": opts.set_id, "out": str(out), "manifest": str(out / "manifest.json"),
            "stages": sorted(s for s in ("encode", "decode", "swap", "sync")
                             if s in ("encode", "decode") or s in modules),
            "train_weights": str(weights), "parity_ok": report.ok}


def _describe_data(data: Path | None) -> str:
    if data is None:
        return "unspecified (pass --training-data)"
    from ...media.dataset_layout import load_index
    index = load_index(data)
    names = sorted({Path(c.source).name for c in index.clips})
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return (f"{len(index.clips)} clips of {len(index.identities)} identities prepared by "
            f"swaptalk train prepare: {shown}")
