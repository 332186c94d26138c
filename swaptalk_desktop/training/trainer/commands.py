"""What ``swaptalk train encode|vqgan|identity|expert|sync|swap`` do once the CLI has turned its
arguments into options (training/options.py; the CLI module stays torch-free, everything
torch-related happens here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.cancel import CancelToken
from ...core.errors import InputError
from ..configs import CONFIG_NAMES, config_from_dict, model_config
from ..options import EncodeOptions, Message, StageOptions
from ..stages import StageContext
from . import checkpointing as ckpt
from .defaults import interval_default, stage_default
from .distributed import setup, teardown
from .loop import train_stage
from .settings import TrainSettings


def resolve_config(name: str | None, run: Path | None, frozen: dict[str, Path]):
    """--config, else the run's own (resuming), else the frozen VQGAN run's, else "small"."""
    recorded = None
    for source in [run, frozen.get("vqgan")]:
        state = ckpt.read_state(source) if source is not None and source.is_dir() else None
        if state and state.get("config"):
            recorded = config_from_dict(state["config"])
            break
    if name is None:
        return recorded or model_config("small")
    if name not in CONFIG_NAMES:
        raise InputError(f"--config must be one of {', '.join(CONFIG_NAMES)}, got {name!r}")
    cfg = model_config(name)
    vq_state = ckpt.read_state(frozen["vqgan"]) if frozen.get("vqgan") and \
        frozen["vqgan"].is_dir() else None
    if vq_state and vq_state.get("config_name") not in (None, name):
        raise InputError(f"--vqgan {frozen['vqgan']} was trained with --config "
                         f"{vq_state['config_name']}; use the same --config")
    return cfg


def settings_from_options(opts: StageOptions, stage: str, config_name: str) -> TrainSettings:
    def pick(key: str, default: Any) -> Any:
        value = getattr(opts, key)
        return default if value is None else value

    return TrainSettings(
        run_dir=Path(opts.run_dir), steps=int(pick("steps", stage_default(stage, config_name,
                                                                      "steps"))),
        batch=int(pick("batch", stage_default(stage, config_name, "batch"))),
        lr=float(pick("lr", stage_default(stage, config_name, "lr"))),
        seed=int(opts.seed), device=opts.device, amp=opts.amp, accumulate=int(opts.accumulate),
        checkpoint_every=int(pick("checkpoint_every",
                                  interval_default(config_name, "checkpoint_every"))),
        validate_every=int(pick("validate_every",
                                interval_default(config_name, "validate_every"))),
        log_every=int(pick("log_every", interval_default(config_name, "log_every"))),
        resume=bool(opts.resume), ema_decay=float(opts.ema), threads=opts.threads,
        cache_bytes=int(float(opts.cache_gb) * (1 << 30)), stop_after=opts.stop_after)


def frozen_runs(opts: StageOptions | EncodeOptions) -> dict[str, Path]:
    return {k: Path(getattr(opts, k)) for k in ("vqgan", "identity", "expert")
            if getattr(opts, k, None)}


def run_stage(stage: str, opts: StageOptions, message: Message, progress,
              cancel: CancelToken) -> dict:
    runs = frozen_runs(opts)
    cfg = resolve_config(opts.config, Path(opts.run_dir), runs)
    settings = settings_from_options(opts, stage, cfg.name)
    info = setup(opts.device)
    options: dict[str, Any] = {}
    if opts.gan is not None:
        options["gan"] = opts.gan
    if opts.identity_teacher is not None:
        options["identity_teacher"] = opts.identity_teacher
    if opts.init:
        options["init"] = str(opts.init)
    if opts.low_res_weight:
        options["low_res_weight"] = float(opts.low_res_weight)
    try:
        ctx = StageContext(config=cfg, settings=settings, dist=info, data=Path(opts.data),
                           runs=runs, message=message if info.main else _quiet,
                           progress=progress if info.main else None, cancel=cancel,
                           options=options)
        result = train_stage(stage, ctx)
    finally:
        teardown(info)
    return {"stage": stage, "run": str(settings.run_dir), "step": result.step,
            "best": result.best, "validation": result.last_validation,
            "steps_per_s": round(result.steps_per_s, 3),
            "samples_per_s": round(result.samples_per_s, 2), "config": cfg.name,
            "rank": info.rank, "world_size": info.world}


def _quiet(text: str) -> None:
    return None


def run_encode(opts: EncodeOptions, message: Message, progress, cancel: CancelToken) -> dict:
    from ...media.dataset_layout import load_index
    from ..archs import build_module
    from ..data.latents import encode_dataset
    from .distributed import choose_device

    if opts.threads:
        import torch
        torch.set_num_threads(opts.threads)
    runs = {"vqgan": Path(opts.vqgan)}
    cfg = resolve_config(opts.config, None, runs)
    index = load_index(opts.data)
    if index.crop_size != cfg.vqgan.crop_size:
        raise InputError(f"{opts.data} holds {index.crop_size} px crops but the VQGAN works on "
                         f"{cfg.vqgan.crop_size} px")
    vqgan = build_module("vqgan", cfg)
    ckpt.load_run_module(runs["vqgan"], "vqgan", vqgan)
    device = choose_device(opts.device)
    vqgan.to(device)
    fingerprint = ckpt.module_fingerprint(vqgan)
    folder = encode_dataset(index, vqgan, fingerprint, device=device, batch=opts.batch,
                            progress=progress, cancel=cancel, message=message)
    out = {"latents": str(folder), "fingerprint": fingerprint, "clips": len(index.clips)}
    if opts.pack:
        from ..data.pack import build_pack
        sizes = build_pack(Path(opts.data), runs["vqgan"], fingerprint, Path(opts.pack))
        out["pack"] = {"folder": str(opts.pack), "bytes": sizes}
        message(f"data pack {opts.pack}: {sizes['total'] / 2**20:.1f} MiB "
                        f"(codes {sizes['codes'] / 2**20:.1f}, mel {sizes['mel'] / 2**20:.1f}, "
                        f"landmarks {sizes['landmarks'] / 2**20:.1f})")
    return out
