"""Writing one stage graph to ONNX and describing its tensors for the manifest.

The legacy TorchScript exporter (``dynamo=False``) is used: the torch.export-based exporter
needs onnxscript, which is not a dependency, and the traced graphs of these plain conv/attention
networks come out as the basic opset-17 ops both ONNX Runtime providers run well.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor, nn

from ...core.atomic import atomic_path
from ...inference.manifest import MEL_BINS, TensorSpec

OPSET = 17
# Ops that ORT's CUDA provider lacks or runs poorly; a graph containing one is refused.
FORBIDDEN_OPS = frozenset({"GridSample", "Loop", "If", "Scan", "NonZero", "ScatterND"})

STAGE_IO: dict[str, tuple[tuple[str, ...], str]] = {
    "encode": (("image",), "latent"),
    "swap": (("target", "source"), "latent"),
    "sync": (("upper", "reference", "mel"), "lower"),
    "decode": (("latent",), "image"),
}


def stage_specs(stage: str, crop_size: int, latent: tuple[int, int, int], mel_window: int
                ) -> tuple[dict[str, TensorSpec], dict[str, TensorSpec]]:
    """(inputs, outputs) role -> TensorSpec, named by role, batch axis "B"."""
    s = crop_size
    c, h, w = latent
    full = ("B", c, h, w)
    half = ("B", c, h // 2, w)
    table: dict[str, tuple[dict[str, tuple], dict[str, tuple]]] = {
        "encode": ({"image": ("B", 3, s, s)}, {"latent": full}),
        "swap": ({"target": full, "source": (1, c, h, w)}, {"latent": full}),
        "sync": ({"upper": half, "reference": full, "mel": ("B", 1, MEL_BINS, mel_window)},
                 {"lower": half}),
        "decode": ({"latent": full}, {"image": ("B", 3, s, s)}),
    }
    ins, outs = table[stage]
    return ({r: TensorSpec(r, shape) for r, shape in ins.items()},
            {r: TensorSpec(r, shape) for r, shape in outs.items()})


def example_inputs(stage: str, crop_size: int, latent: tuple[int, int, int], mel_window: int,
                   batch: int = 2, seed: int = 0) -> dict[str, Tensor]:
    """Random tracing inputs of the right shapes (the batch of 2 keeps "B" from being
    specialised to 1)."""
    rng = np.random.default_rng(seed)
    inputs, _ = stage_specs(stage, crop_size, latent, mel_window)
    out = {}
    for role, spec in inputs.items():
        shape = [batch if d == "B" else int(d) for d in spec.shape]
        out[role] = torch.from_numpy(rng.uniform(-1, 1, shape).astype(np.float32))
    return out


def export_graph(graph: nn.Module, stage: str, inputs: Mapping[str, Tensor],
                 path: Path | str) -> Path:
    """Trace ``graph`` with ``inputs`` and write it atomically as an opset-17 ONNX file."""
    path = Path(path)
    roles, output = STAGE_IO[stage]
    if tuple(inputs) != roles:
        raise ValueError(f"{stage} takes inputs {roles}, got {tuple(inputs)}")
    dynamic = {r: {0: "B"} for r in roles if r != "source"}
    dynamic[output] = {0: "B"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # The legacy exporter's deprecation notice and tracer chatter are not actionable here.
        warnings.simplefilter("ignore")
        torch.onnx.export(graph.eval(), tuple(inputs.values()), str(tmp), dynamo=False,
                          opset_version=OPSET, input_names=list(roles), output_names=[output],
                          dynamic_axes=dynamic, do_constant_folding=True)
        model = onnx.load(str(tmp))
        check_graph(model, stage)
    return path


def check_graph(model: onnx.ModelProto, stage: str) -> None:
    """Structural checks: valid ONNX, no provider-hostile ops, float32 I/O named by role."""
    onnx.checker.check_model(model)
    ops = {node.op_type for node in model.graph.node}
    bad = sorted(ops & FORBIDDEN_OPS)
    if bad:
        raise RuntimeError(f"{stage} graph contains {', '.join(bad)}, which ONNX Runtime's CUDA "
                           "provider does not run well; rewrite that part of the network")
    for value in (*model.graph.input, *model.graph.output):
        if value.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise RuntimeError(f"{stage} graph tensor {value.name} is not float32")


def graph_ops(path: Path | str) -> set[str]:
    return {node.op_type for node in onnx.load(str(path)).graph.node}
