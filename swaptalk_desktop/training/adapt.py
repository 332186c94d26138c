"""``swaptalk adapt``: per-actor adaptation of an installed model set.

The first minutes of a clip of the actor are prepared like any dataset; the VQGAN decoder
(encoder and codebooks frozen, so the base set's exported encoder still produces the latents
it decodes) and the sync module are fine-tuned on them, self-supervised (the clip's own frames
and audio); the result is installed as a new set in the user model folder whose decode and sync
are new and whose encode and swap are the base set's models, referenced by id.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..core.cachedir import cache_root
from ..core.cancel import CancelToken
from ..core.errors import InputError
from ..inference import ModelRegistry, user_model_dir
from .archs import build_module
from .checkpoint_io import read_checkpoint, save_checkpoint
from .configs import config_from_dict, config_to_dict
from .data.clip_prep import PrepareOptions
from .data.prepare import prepare_dataset
from .stages import StageContext
from .trainer import checkpointing as ckpt
from .trainer.distributed import setup
from .trainer.export_cmd import load_runs, parity_crops, train_weights_path
from .trainer.loop import train_stage
from .trainer.settings import TrainSettings

DEFAULT_STEPS = {"tiny": 60, "small": 1500, "base": 3000}
LR = {"vqgan": 1e-4, "sync": 1e-4}
TINY_LR = {"vqgan": 1e-3, "sync": 1e-3}


def _base_from_set(registry: ModelRegistry, set_id: str | None):
    model_set = registry.get_set(set_id)
    weights = train_weights_path(model_set.manifest_path.parent, model_set.id)
    if not weights.is_file():
        raise InputError(f"model set '{model_set.id}' has no training weights ({weights.name} "
                         "beside its manifest); adapt a set made by `swaptalk train export`, "
                         "or pass --runs RUNS")
    ckpt_file = read_checkpoint(weights)
    cfg = config_from_dict(ckpt_file.meta["config"])
    if cfg.vqgan.crop_size != model_set.crop_size:
        raise InputError(f"{weights} does not match set '{model_set.id}' (crop size "
                         f"{cfg.vqgan.crop_size} vs {model_set.crop_size}); export it again")
    for need in ("vqgan", "sync"):
        if need not in ckpt_file.module_names:
            raise InputError(f"model set '{model_set.id}' has no trained {need} in {weights}; "
                             "adaptation fine-tunes the decoder and the sync module")
    return model_set, weights, cfg, ckpt_file.module_names


def _base_from_runs(runs: Path, work: Path):
    cfg, modules, _ = load_runs(runs)
    if "sync" not in modules:
        raise InputError(f"{runs} has no sync run; adaptation fine-tunes the sync module")
    weights = work / "base.train.safetensors"
    save_checkpoint(weights, modules, meta={"config": config_to_dict(cfg)})
    return weights, cfg, sorted(modules)


def _default_set_id(base: str, clip: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", clip.stem).strip("._") or "clip"
    return f"{base}-{stem}"


def _settings(run_dir: Path, stage: str, cfg, args, steps: int) -> TrainSettings:
    tiny = cfg.name == "tiny"
    batch = args.batch or (16 if stage == "sync" and not tiny else 8)
    every = max(steps // 4, 1)
    return TrainSettings(run_dir=run_dir, steps=steps, batch=batch,
                         lr=(TINY_LR if tiny else LR)[stage], seed=0, device=args.device,
                         checkpoint_every=every, validate_every=steps, log_every=max(every, 1),
                         warmup_steps=max(steps // 10, 1), threads=args.threads,
                         val_samples=16 if tiny else 64)


def run_adapt(args, display, progress, cancel: CancelToken) -> dict[str, Any]:
    clip = Path(args.video)
    if not clip.is_file():
        raise InputError(f"{clip} does not exist; give a clip of the actor speaking")
    registry = ModelRegistry(extra_dirs=args.models_dir)
    if args.runs:
        base_set, base_id = None, Path(args.runs).name
    else:
        base_set, weights, cfg, names = _base_from_set(registry, args.base_set)
        base_id = base_set.id
    set_id = args.set_id or _default_set_id(base_id, clip)
    work = Path(args.work) if args.work else cache_root() / "adapt" / set_id
    work.mkdir(parents=True, exist_ok=True)
    if base_set is None:
        weights, cfg, names = _base_from_runs(Path(args.runs), work)
    display.message(f"adapting '{base_id}' ({cfg.name}) to {clip.name}; work folder {work}")

    # 1. the actor's clip as a one-clip dataset
    opts = PrepareOptions(crop_size=cfg.vqgan.crop_size, val_fraction=0.1, holdout_fraction=0,
                          max_seconds=args.minutes * 60 if args.minutes else None)
    report = prepare_dataset([clip], work / "data", options=opts, progress=progress,
                             cancel=cancel, message=display.message)
    rec = report.index.clips[0]
    if not rec.has_audio or rec.audio_silent:
        raise InputError(f"{clip.name} has no audible sound; adaptation learns the actor's "
                         "lips from their own speech, so the clip needs its audio")

    # 2. decoder, then 3. sync, each resumable in its own run folder
    info = setup(args.device)
    steps = args.steps or DEFAULT_STEPS.get(cfg.name, 1500)
    runs: dict[str, Path] = {"vqgan": weights}
    if "expert" in names:
        runs["expert"] = weights
    for stage, options in (("vqgan", {"init": weights, "decoder_only": True}),
                           ("sync", {"init": weights})):
        ctx = StageContext(config=cfg, settings=_settings(work / stage, stage, cfg, args, steps),
                           dist=info, data=work / "data", runs=runs, message=display.message,
                           progress=progress, cancel=cancel, options=options)
        train_stage(stage, ctx)

    # 4. export decode + sync, reuse the base set's encode (+ swap)
    vqgan, sync = build_module("vqgan", cfg), build_module("sync", cfg)
    ckpt.load_run_module(work / "vqgan", "vqgan", vqgan)
    ckpt.load_run_module(work / "sync", "sync", sync)
    out = user_model_dir() / set_id
    reuse: dict[str, list[str]] = {}
    stages = ["decode", "sync"]
    swap = None
    if base_set is not None:
        reuse = {st: [e.id for e in base_set.stages[st]] for st in ("encode", "swap")
                 if base_set.stages.get(st)}
        entry = base_set.stages["decode"][0]
        license, base_data = entry.license, entry.training_data
    else:
        stages = ["encode", "decode", "sync"] + (["swap"] if "swap" in names else [])
        if "swap" in names:
            swap = build_module("swap", cfg)
            ckpt.load_run_module(weights, "swap", swap)
        license, base_data = "research use only", f"training runs in {args.runs}"
    from .export.model_set import export_model_set
    minutes = f"first {args.minutes:g} min of " if args.minutes else ""
    export_model_set(vqgan, swap, sync, out, set_id, stages=stages, reuse=reuse,
                     description=f"{base_id} adapted to {clip.name}", license=license,
                     training_data=f"{base_data}; fine-tuned on {minutes}{clip.name}",
                     fp16=args.fp16, parity_inputs=parity_crops(work / "data"), verbose=False)
    kept = {"vqgan": vqgan, "sync": sync}
    base_modules = read_checkpoint(weights)
    for name in ("swap", "expert", "identity"):
        if name in names:
            module = build_module(name, cfg)
            module.load_state_dict(base_modules.module_state(name))
            kept[name] = module
    save_checkpoint(train_weights_path(out, set_id), kept,
                    meta={"config": config_to_dict(cfg), "set_id": set_id, "base": base_id,
                          "clip": str(clip)})
    return {"set_id": set_id, "out": str(out), "base_set": base_id, "frames": rec.frames,
            "work": str(work), "stages_new": stages, "stages_reused": sorted(reuse)}
