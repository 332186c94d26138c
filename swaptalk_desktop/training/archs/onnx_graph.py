"""A frozen ONNX graph run node by node in torch, so that gradients flow through it.

Pretrained networks that exist only as ONNX (the MobileFaceNet identity network) become
differentiable losses this way, with no pickle and no hand-written copy of the architecture
to drift from the file. Only the op types such networks use are implemented; any other is
refused when the module is built, naming the op, rather than in the middle of a step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class Node:
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


def _pair(v: Any, default: int) -> tuple[int, int]:
    v = list(v) if v is not None else [default, default]
    return int(v[0]), int(v[1])


class OnnxGraph(nn.Module):
    """``forward(x)`` evaluates the graph for its single input; weights are buffers (frozen,
    moved with ``.to()``, saved with nothing: they come from the file every time).

    ``batch_dim`` is the batch the graph was exported with: a Reshape whose target starts with
    it is given the run-time batch instead, so a graph exported for one sample runs on many.
    """

    def __init__(self, nodes: list[Node], constants: dict[str, np.ndarray], input_name: str,
                 output_name: str, batch_dim: int = 1) -> None:
        super().__init__()
        self.nodes = list(nodes)
        self.input_name, self.output_name, self.batch_dim = input_name, output_name, batch_dim
        self._keys: dict[str, str] = {}
        for i, (name, value) in enumerate(constants.items()):
            key = f"c{i}"  # ONNX names hold '.' and ':', which buffer names may not
            self.register_buffer(key, torch.from_numpy(np.array(value)), persistent=False)
            self._keys[name] = key
        for node in self.nodes:
            if node.op not in _OPS:
                raise ValueError(f"ONNX op {node.op} is not supported by OnnxGraph (it runs "
                                 f"{', '.join(sorted(_OPS))})")
        self.requires_grad_(False)
        self.eval()

    def constant(self, name: str) -> Tensor:
        return getattr(self, self._keys[name])

    def forward(self, x: Tensor) -> Tensor:
        values: dict[str, Tensor] = {self.input_name: x}

        def get(name: str) -> Tensor:
            return values[name] if name in values else self.constant(name)

        for node in self.nodes:
            args = [get(n) if n else None for n in node.inputs]
            values[node.outputs[0]] = _OPS[node.op](self, node, args)
        return values[self.output_name]


def _conv(g: OnnxGraph, node: Node, args: list) -> Tensor:
    a = node.attrs
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET"):
        raise ValueError("OnnxGraph supports Conv with explicit pads only")
    pads = list(a.get("pads", [0, 0, 0, 0]))
    x = args[0]
    if pads[:2] != pads[2:]:  # ONNX allows begin != end; torch's padding is symmetric
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        pads = [0, 0, 0, 0]
    w = args[1].to(x.dtype)
    b = args[2].to(x.dtype) if len(args) > 2 and args[2] is not None else None
    return F.conv2d(x, w, b, stride=_pair(a.get("strides"), 1), padding=(pads[0], pads[1]),
                    dilation=_pair(a.get("dilations"), 1), groups=int(a.get("group", 1)))


def _clip(g: OnnxGraph, node: Node, args: list) -> Tensor:
    # opset < 11 keeps the bounds in attributes, later opsets in optional inputs
    lo = node.attrs.get("min", float(args[1]) if len(args) > 1 and args[1] is not None
                        else None)
    hi = node.attrs.get("max", float(args[2]) if len(args) > 2 and args[2] is not None
                        else None)
    return torch.clamp(args[0], min=lo, max=hi)


def _reshape(g: OnnxGraph, node: Node, args: list) -> Tensor:
    x = args[0]
    shape = [int(v) for v in args[1].tolist()]
    if shape and shape[0] == g.batch_dim:
        shape[0] = x.shape[0]
    shape = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return x.reshape(shape)


def _constant(g: OnnxGraph, node: Node, args: list) -> Tensor:
    return g.constant(node.outputs[0])


_OPS: dict[str, Callable[[OnnxGraph, Node, list], Tensor]] = {
    "Conv": _conv,
    "Clip": _clip,
    "Relu": lambda g, n, a: torch.relu(a[0]),
    "Add": lambda g, n, a: a[0] + a[1],
    "Reshape": _reshape,
    "Constant": _constant,
}


def graph_from_onnx(model: Any) -> OnnxGraph:
    """An ``onnx.ModelProto`` with one input and one output -> :class:`OnnxGraph`."""
    from onnx import helper, numpy_helper  # noqa: PLC0415 - onnx is only needed here

    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    nodes = []
    for n in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "Constant":
            if "value" not in attrs:
                raise ValueError("OnnxGraph supports Constant nodes with a tensor value only")
            constants[n.output[0]] = numpy_helper.to_array(attrs.pop("value"))
        nodes.append(Node(n.op_type, tuple(n.input), tuple(n.output), attrs))
    feeds = [i for i in graph.input if i.name not in constants]
    if len(feeds) != 1 or len(graph.output) != 1:
        raise ValueError("OnnxGraph runs graphs with one input and one output")
    dims = feeds[0].type.tensor_type.shape.dim
    batch = dims[0].dim_value if dims and dims[0].HasField("dim_value") else -1
    return OnnxGraph(nodes, constants, feeds[0].name, graph.output[0].name, batch_dim=batch)
