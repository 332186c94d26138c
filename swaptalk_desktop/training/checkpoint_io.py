"""Checkpoints as one safetensors file: modules + optimizers + extra tensors + JSON metadata.

safetensors instead of torch.save: a checkpoint is data, never code, so a downloaded or shared
run folder cannot execute anything when loaded (no pickle). The file is written beside its
destination and renamed into place (``core.atomic``), so a crash mid-save leaves the previous
checkpoint intact.

Key layout: ``module/<name>/<state key>``, ``optim/<name>/state/<param>/<key>``,
``optim/<name>/group/<i>/<key>`` (tensor hyper-parameters), ``extra/<key>``. The safetensors
header metadata holds the format tag, the user's JSON ``meta`` and each optimizer's non-tensor
state (param groups, scalar state).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from ..core.atomic import atomic_path
from ..core.errors import ModelError

FORMAT = "swaptalk-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    """What a checkpoint file holds, as read back."""

    path: Path
    tensors: dict[str, Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    optim_json: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"

    @property
    def module_names(self) -> list[str]:
        return sorted({k.split("/", 2)[1] for k in self.tensors if k.startswith("module/")})

    @property
    def extra(self) -> dict[str, Tensor]:
        return {k[len("extra/"):]: v for k, v in self.tensors.items() if k.startswith("extra/")}

    def module_state(self, name: str) -> dict[str, Tensor]:
        prefix = f"module/{name}/"
        state = {k[len(prefix):]: v for k, v in self.tensors.items() if k.startswith(prefix)}
        if not state:
            raise ModelError(f"checkpoint {self.path} has no module '{name}' (it has "
                             f"{', '.join(self.module_names) or 'none'}); pick the right run")
        return state

    def optimizer_state(self, name: str) -> dict[str, Any]:
        if name not in self.optim_json:
            raise ModelError(f"checkpoint {self.path} has no optimizer '{name}'; it was saved "
                             "without optimizer state (an exported or fp16 checkpoint?)")
        info = self.optim_json[name]
        prefix = f"optim/{name}/"
        state: dict[int, dict[str, Any]] = {int(p): dict(v) for p, v in info["scalars"].items()}
        groups = [dict(g) for g in info["param_groups"]]
        for key, value in self.tensors.items():
            if not key.startswith(prefix):
                continue
            kind, index, item = key[len(prefix):].split("/", 2)
            if kind == "state":
                state.setdefault(int(index), {})[item] = value
            else:
                groups[int(index)][item] = value
        return {"state": state, "param_groups": groups}


def _owned(t: Tensor) -> Tensor:
    # A private contiguous CPU copy: safetensors refuses tensors that share storage (tied
    # weights, views of one buffer) and must not see later in-place training updates.
    return t.detach().to("cpu", copy=True).contiguous()


def _optimizer_entries(name: str, optimizer: torch.optim.Optimizer
                       ) -> tuple[dict[str, Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, values in sd["state"].items():
        for key, value in values.items():
            if isinstance(value, Tensor):
                tensors[f"optim/{name}/state/{pid}/{key}"] = _owned(value)
            else:
                scalars.setdefault(str(pid), {})[key] = value
    groups = []
    for i, group in enumerate(sd["param_groups"]):
        plain = {}
        for key, value in group.items():
            if isinstance(value, Tensor):
                tensors[f"optim/{name}/group/{i}/{key}"] = _owned(value)
            else:
                plain[key] = value
        groups.append(plain)
    return tensors, {"scalars": scalars, "param_groups": groups}


def save_checkpoint(path: Path | str, modules: Mapping[str, nn.Module],
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None, *,
                    extra: Mapping[str, Tensor] | None = None,
                    meta: Mapping[str, Any] | None = None, fp16: bool = False) -> Path:
    """Write modules (state dicts), optimizers, extra tensors and JSON ``meta`` atomically.

    ``fp16``: store floating-point module weights as float16 (half the size) for checkpoints
    that are shipped or carried to another machine for export/adaptation; integer buffers
    (code usage counters) and ``extra`` stay as they are. Not for resuming: optimizer state
    is refused with fp16 because Adam moments in float16 would silently change training.
    """
    path = Path(path)
    if fp16 and optimizers:
        raise ValueError("fp16 checkpoints carry weights only; save optimizers in fp32")
    tensors: dict[str, Tensor] = {}
    for name, module in modules.items():
        if "/" in name:
            raise ValueError(f"module name '{name}' must not contain '/'")
        for key, value in module.state_dict().items():
            value = _owned(value)
            if fp16 and value.is_floating_point():
                value = value.half()
            tensors[f"module/{name}/{key}"] = value
    optim_json: dict[str, Any] = {}
    for name, optimizer in (optimizers or {}).items():
        opt_tensors, optim_json[name] = _optimizer_entries(name, optimizer)
        tensors.update(opt_tensors)
    for key, value in (extra or {}).items():
        tensors[f"extra/{key}"] = _owned(value)
    header = {"format": FORMAT, "version": str(VERSION),
              "precision": "fp16" if fp16 else "fp32",
              "meta": json.dumps(dict(meta or {}), sort_keys=True),
              "optimizers": json.dumps(optim_json, sort_keys=True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    return path


def read_checkpoint(path: Path | str, device: str | torch.device = "cpu") -> Checkpoint:
    """Read every tensor and the metadata of a checkpoint file."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist; train that stage first or pass "
                         "the right run folder")
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as fh:
            header = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (not a dict)
    except Exception as err:  # safetensors raises its own error type for corrupt headers
        raise ModelError(f"checkpoint {path} is not a readable safetensors file ({err}); "
                         "it may be truncated: use the previous checkpoint") from err
    if header.get("format") != FORMAT:
        raise ModelError(f"{path} is a safetensors file but not a SwapTalk checkpoint")
    if int(header.get("version", "0")) > VERSION:
        raise ModelError(f"checkpoint {path} was written by a newer SwapTalk; update the app")
    return Checkpoint(path=path, tensors=tensors, meta=json.loads(header.get("meta", "{}")),
                      optim_json=json.loads(header.get("optimizers", "{}")),
                      precision=header.get("precision", "fp32"))


def load_checkpoint(path: Path | str, modules: Mapping[str, nn.Module] | None = None,
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None, *,
                    strict: bool = True, device: str | torch.device = "cpu") -> Checkpoint:
    """Load the named modules' weights (cast to each module's dtype) and optimizer states;
    returns the checkpoint for its ``meta`` and ``extra`` tensors."""
    ckpt = read_checkpoint(path, device)
    for name, module in (modules or {}).items():
        load_module_state(module, ckpt.module_state(name), strict=strict, where=ckpt.path)
    for name, optimizer in (optimizers or {}).items():
        optimizer.load_state_dict(ckpt.optimizer_state(name))
    return ckpt


def load_module_state(module: nn.Module, state: Mapping[str, Tensor], *, strict: bool = True,
                      where: Path | str = "checkpoint") -> nn.Module:
    """``load_state_dict`` with a user-facing error naming the file and the mismatched keys."""
    try:
        module.load_state_dict(dict(state), strict=strict)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ModelError(f"{where} does not fit {type(module).__name__} ({first}); was it "
                         "trained with another --config size?") from err
    return module


def load_weights(path: Path | str, name: str, module: nn.Module, *, strict: bool = True
                 ) -> nn.Module:
    """Load one module's weights from a checkpoint file (e.g. the frozen VQGAN of a run)."""
    ckpt = read_checkpoint(path)
    return load_module_state(module, ckpt.module_state(name), strict=strict, where=ckpt.path)
