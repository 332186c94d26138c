"""Run folders: checkpoint + state.json written together, numbered copies, best weights,
resume.

``RUN/checkpoint.safetensors`` (latest: modules, optimizers, EMA as ``ema-<name>`` modules,
RNG and grad-scaler state), ``RUN/checkpoint-<step>.safetensors`` (the last few, hard links
where the file system allows), ``RUN/best.safetensors`` (weights only: the ones validated
best, EMA when on), ``RUN/state.json`` (step, config, settings, seed, best, frozen inputs).
Later stages and export read ``weights_path(run)``: best when it exists, else the latest.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...core.atomic import write_text_atomic
from ...core.errors import InputError
from ..checkpoint_io import (
    load_checkpoint,
    load_module_state,
    read_checkpoint,
    save_checkpoint,
)

CHECKPOINT = "checkpoint.safetensors"
BEST = "best.safetensors"
STATE = "state.json"


def read_state(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / STATE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError as err:
        raise InputError(f"{path} is damaged ({err}); remove the run folder or restore it") \
            from err


def write_state(run_dir: Path, state: dict[str, Any]) -> None:
    write_text_atomic(Path(run_dir) / STATE, json.dumps(state, indent=1, default=str) + "\n")


def weights_path(run_dir: Path | str) -> Path:
    """The weights a later stage or the exporter should use from a finished run."""
    run_dir = Path(run_dir)
    for name in (BEST, CHECKPOINT):
        if (run_dir / name).is_file():
            return run_dir / name
    raise InputError(f"{run_dir} holds no trained weights ({BEST} or {CHECKPOINT}); train "
                     "that stage first or pass the right run folder")


def save_training_checkpoint(run_dir: Path, step: int, modules: dict[str, nn.Module],
                             optimizers: dict[str, torch.optim.Optimizer],
                             emas: dict[str, nn.Module], meta: dict[str, Any],
                             keep: int) -> Path:
    extra = {"rng_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        extra["rng_cuda"] = torch.cuda.get_rng_state()
    all_modules = {**modules, **{f"ema-{k}": v for k, v in emas.items()}}
    path = save_checkpoint(run_dir / CHECKPOINT, all_modules, optimizers, extra=extra,
                           meta={**meta, "step": step})
    numbered = run_dir / f"checkpoint-{step:08d}.safetensors"
    numbered.unlink(missing_ok=True)
    try:
        os.link(path, numbered)
    except OSError:
        shutil.copy2(path, numbered)
    old = sorted(run_dir.glob("checkpoint-*.safetensors"))
    for stale in old[: max(len(old) - keep, 0)]:
        stale.unlink(missing_ok=True)
    return path


def load_training_checkpoint(run_dir: Path, modules: dict[str, nn.Module],
                             optimizers: dict[str, torch.optim.Optimizer],
                             emas: dict[str, nn.Module]) -> dict[str, Any]:
    ckpt = load_checkpoint(run_dir / CHECKPOINT, modules, optimizers)
    for name, shadow in emas.items():
        if f"ema-{name}" in ckpt.module_names:
            load_module_state(shadow, ckpt.module_state(f"ema-{name}"), where=ckpt.path)
        else:  # --ema switched on for a run that had none: start averaging from here
            shadow.load_state_dict(modules[name].state_dict())
    extra = ckpt.extra
    if "rng_cpu" in extra:
        torch.set_rng_state(extra["rng_cpu"].to(torch.uint8))
    if "rng_cuda" in extra and torch.cuda.is_available():
        torch.cuda.set_rng_state(extra["rng_cuda"].to(torch.uint8))
    return ckpt.meta


def save_best(run_dir: Path, modules: dict[str, nn.Module], meta: dict[str, Any]) -> Path:
    return save_checkpoint(run_dir / BEST, modules, meta=meta)


def load_run_module(source: Path | str, name: str, module: nn.Module) -> dict[str, Any]:
    """Load one trained network from a run folder (best weights, else latest) or from a
    weights file (an exported set's ``.train.safetensors``); returns the checkpoint's meta.
    The module is left on its device in eval mode."""
    source = Path(source)
    path = source if source.is_file() else weights_path(source)
    ckpt = read_checkpoint(path)
    load_module_state(module, ckpt.module_state(name), where=path)
    module.eval()
    return {**ckpt.meta, "weights": str(path)}


def module_fingerprint(module: nn.Module) -> str:
    """12 hex digits identifying a module's weights (names, shapes and values)."""
    import hashlib
    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        t = value.detach().to("cpu").contiguous()
        digest.update(str(tuple(t.shape)).encode())
        digest.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()[:12]
