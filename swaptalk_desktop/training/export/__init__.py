"""ONNX export of trained SwapTalk modules as engine stage graphs, with a parity check."""

from __future__ import annotations

from .graphs import DecodeGraph, EncodeGraph, HardQuantizer, SwapGraph, SyncGraph
from .model_set import export_model_set, model_id, stage_graph
from .onnx_io import OPSET, export_graph, stage_specs
from .parity import Bounds, ParityReport, ParityRow

__all__ = [
    "OPSET", "Bounds", "DecodeGraph", "EncodeGraph", "HardQuantizer", "ParityReport",
    "ParityRow", "SwapGraph", "SyncGraph", "export_graph", "export_model_set", "model_id",
    "stage_graph", "stage_specs",
]
