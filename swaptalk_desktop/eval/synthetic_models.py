"""Tiny hand-built ONNX graphs that honour the stage contract, for tests and benchmarks.

They have no learned weights, so their output is known exactly: the encoder is a lossless
SpaceToDepth, the decoder its inverse, and swap/sync have modes whose effect a test can predict
(identity, copy the source, zero the lower face, brighten with the audio level). Only basic
opset-17 ops are used so the graphs run on every ORT provider.

Needs the ``onnx`` package (a dev/train dependency), imported only when a builder runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ModelError
from ..inference.manifest import TensorSpec
from ..inference.manifest_write import add_model, add_model_set

OPSET = 17
BLOCK = 16  # 16x spatial compression, like the SwapTalk VQGAN
MEL_GAIN = 0.125  # mel mean in [-4, 4] -> latent offset in [-0.5, 0.5]
SWAP_MODES = ("identity", "source")
SYNC_MODES = ("reference", "zero", "mel")


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as err:
        raise ModelError("building synthetic models needs the onnx package, a development "
                         "dependency; install it with: pip install -e .[dev]") from err
    return onnx


def _const(name: str, values: Sequence[float] | float, shape: Sequence[int], fp16: bool) -> Any:
    from onnx import numpy_helper

    dtype = np.float16 if fp16 else np.float32
    return numpy_helper.from_array(np.asarray(values, dtype).reshape(shape), name)


def _ints(name: str, value: int) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray([value], np.int64), name)


def _core(stage: str, mode: str, fp16: bool, h: int, tint: Sequence[float]) -> tuple[list, list]:
    """(nodes, initializers) from role-named inputs to the role-named output, one dtype."""
    from onnx import helper

    n = helper.make_node
    if stage == "encode":
        return [n("SpaceToDepth", ["image"], ["latent"], blocksize=BLOCK)], []
    if stage == "decode":
        consts = [_const("tint", tint, (1, 3, 1, 1), fp16), _const("lo", -1.0, (), fp16),
                  _const("hi", 1.0, (), fp16)]
        return [n("DepthToSpace", ["latent"], ["pixels"], blocksize=BLOCK, mode="DCR"),
                n("Add", ["pixels", "tint"], ["tinted"]),
                n("Clip", ["tinted", "lo", "hi"], ["image"])], consts
    if stage == "swap" and mode == "identity":
        return [n("Identity", ["target"], ["latent"])], []
    if stage == "swap":
        return [n("Shape", ["target"], ["target_shape"]),
                n("Expand", ["source", "target_shape"], ["latent"])], []
    # sync: the lower half of the reference is rows h/2..h of the latent grid.
    rows = [_ints("starts", h // 2), _ints("ends", h), _ints("axes", 2)]
    if mode == "zero":
        return [n("Mul", ["upper", "zero"], ["lower"])], [_const("zero", 0.0, (), fp16)]
    if mode == "reference":
        return [n("Slice", ["reference", "starts", "ends", "axes"], ["lower"])], rows
    return [n("Slice", ["reference", "starts", "ends", "axes"], ["ref_lower"]),
            n("ReduceMean", ["mel"], ["level"], axes=[1, 2, 3], keepdims=1),
            n("Mul", ["level", "gain"], ["offset"]),
            n("Add", ["ref_lower", "offset"], ["lower"])], rows + [_const("gain", MEL_GAIN, (),
                                                                          fp16)]


def _specs(stage: str, crop_size: int, mel_window: int) -> tuple[dict, dict]:
    s, c, h = crop_size, 3 * BLOCK * BLOCK, crop_size // BLOCK
    latent = ["B", c, h, h]
    half = ["B", c, h // 2, h]
    table: dict[str, tuple[dict[str, list], dict[str, list]]] = {
        "encode": ({"image": ["B", 3, s, s]}, {"latent": latent}),
        "swap": ({"target": latent, "source": [1, c, h, h]}, {"latent": latent}),
        "sync": ({"upper": half, "reference": latent, "mel": ["B", 1, 80, mel_window]},
                 {"lower": half}),
        "decode": ({"latent": latent}, {"image": ["B", 3, s, s]}),
    }
    ins, outs = table[stage]
    return ({r: TensorSpec(r, tuple(v)) for r, v in ins.items()},
            {r: TensorSpec(r, tuple(v)) for r, v in outs.items()})


def build_stage_model(stage: str, path: Path, *, crop_size: int = 256, mel_window: int = 16,
                      mode: str = "", tint: Sequence[float] = (0.0, 0.0, 0.0),
                      fp16: bool = False) -> tuple[dict[str, TensorSpec], dict[str, TensorSpec]]:
    """Write one stage's graph to ``path``; returns its (inputs, outputs) role specs.

    ``fp16`` computes in float16 between float32 casts at the edges, like the CUDA variants the
    exporter produces (fp32 I/O).
    """
    onnx = _onnx()
    from onnx import TensorProto, helper

    inputs, outputs = _specs(stage, crop_size, mel_window)
    nodes, inits = _core(stage, mode, fp16, crop_size // BLOCK, tint)
    if fp16:
        # Rename the core's edges so the graph's public tensors stay float32.
        edge = {spec.name: f"{spec.name}_h" for spec in (*inputs.values(), *outputs.values())}
        for node in nodes:
            node.input[:] = [edge.get(x, x) for x in node.input]
            node.output[:] = [edge.get(x, x) for x in node.output]
        nodes = ([helper.make_node("Cast", [s.name], [edge[s.name]], to=TensorProto.FLOAT16)
                  for s in inputs.values()] + nodes +
                 [helper.make_node("Cast", [edge[s.name]], [s.name], to=TensorProto.FLOAT)
                  for s in outputs.values()])

    def info(spec: TensorSpec) -> Any:
        return helper.make_tensor_value_info(spec.name, TensorProto.FLOAT, list(spec.shape))

    graph = helper.make_graph(nodes, f"synthetic_{stage}", [info(s) for s in inputs.values()],
                              [info(s) for s in outputs.values()], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="swaptalk-synthetic")
    model.ir_version = 8  # the oldest IR with opset 17: readable by any ORT that runs opset 17
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return inputs, outputs


def build_synthetic_set(folder: Path, *, set_id: str = "synthetic", crop_size: int = 256,
                        tint: Sequence[float] = (0.0, 0.0, 0.0), swap_mode: str = "identity",
                        sync_mode: str = "reference", make_default: bool = True,
                        mel_window: int = 16, fp16_variants: bool = False,
                        description: str | None = None) -> Path:
    """Write a four-stage synthetic set and its manifest entries into ``folder``.

    - encode: SpaceToDepth(16), [B,3,S,S] -> [B,768,S/16,S/16], lossless.
    - decode: DepthToSpace(16) + ``tint`` (per RGB channel, in [-1,1] units), clipped to [-1,1];
      with tint 0, decode(encode(x)) == x up to uint8 rounding.
    - swap "identity": returns target; "source": the source latent broadcast to the batch.
    - sync "reference": the reference's lower half; "zero": zeros (flat grey lower face);
      "mel": the reference's lower half + 0.125 * mean(mel window), so silence (-4) darkens
      and loud speech (+4) brightens the mouth.
    - ``fp16_variants``: also write CUDA-only fp16 graphs, listed first as a real set would.

    Adds to an existing manifest.json in ``folder`` (several sets may share one folder) and
    returns the manifest's path. S must be a multiple of 32 so the latent splits in halves.
    """
    if crop_size % (2 * BLOCK):
        raise ValueError(f"crop_size must be a multiple of {2 * BLOCK}, got {crop_size}")
    if swap_mode not in SWAP_MODES or sync_mode not in SYNC_MODES:
        raise ValueError(f"swap_mode must be one of {SWAP_MODES}, sync_mode one of {SYNC_MODES}")
    if len(tint) != 3:
        raise ValueError("tint is one offset per RGB channel")
    folder = Path(folder)
    manifest = folder / "manifest.json"
    modes = {"encode": "", "swap": swap_mode, "sync": sync_mode, "decode": ""}
    stages: dict[str, list[str]] = {}
    for stage, mode in modes.items():
        stages[stage] = []
        for fp16 in (True, False) if fp16_variants else (False,):
            model_id = f"{set_id}-{stage}" + ("-fp16" if fp16 else "")
            file = folder / f"{model_id}.onnx"
            inputs, outputs = build_stage_model(stage, file, crop_size=crop_size,
                                                mel_window=mel_window, mode=mode, tint=tint,
                                                fp16=fp16)
            add_model(manifest, id=model_id, stage=stage, file=file, inputs=inputs,
                      outputs=outputs, precision="fp16" if fp16 else "fp32",
                      providers=("cuda",) if fp16 else (), license="Apache-2.0",
                      training_data="none: a fixed synthetic graph without learned weights",
                      description=f"synthetic {stage} ({mode or 'exact'})", replace=True)
            stages[stage].append(model_id)
    add_model_set(manifest, id=set_id, stages=stages, crop_size=crop_size,
                  mel_window=mel_window, make_default=make_default, replace=True,
                  description=description or f"synthetic test set (swap {swap_mode}, sync "
                                             f"{sync_mode}, tint {tuple(tint)})")
    return manifest
