"""Export trained modules as a model set: ONNX graphs + manifest entries + parity report.

Order of work, so that a failed export never damages what is installed: every graph is first
written into a staging folder inside ``out_dir``; the parity check runs on the staged files;
only when it passes are they moved to their final names and entered in ``manifest.json``
(through ``inference.add_model`` / ``add_model_set``, which hash and validate).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...core.errors import ModelError
from ...inference.manifest import STAGES
from ...inference.manifest_write import add_model, add_model_set
from ..archs.swap import SwapTransformer
from ..archs.sync import SyncModule
from ..archs.vqgan import VQGAN
from .graphs import DecodeGraph, EncodeGraph, SwapGraph, SyncGraph
from .onnx_io import OPSET, example_inputs, export_graph, stage_specs
from .parity import Bounds, ParityReport
from .parity_run import build_feeds, run_parity

PRECISION_DTYPES = {"fp32": torch.float32, "fp16": torch.float16}
DESCRIPTIONS = {
    "encode": "VQGAN encoder, halves encoded separately, upper/lower codebooks",
    "swap": "latent face swap transformer (cross-attention to the source's tokens)",
    "sync": "latent lip sync: lower-half codes from upper half, reference and mel",
    "decode": "VQGAN decoder",
}


def model_id(set_id: str, stage: str, precision: str) -> str:
    return f"{set_id}-{stage}" + ("-fp16" if precision == "fp16" else "")


def stage_graph(stage: str, vqgan: VQGAN, swap: SwapTransformer | None,
                sync: SyncModule | None, precision: str = "fp32",
                quantize: bool = True) -> nn.Module:
    """The export wrapper of one stage (see graphs.py); ``quantize=False`` gives the probe."""
    dtype = PRECISION_DTYPES[precision]
    if stage == "encode":
        return EncodeGraph(vqgan, dtype, quantize)
    if stage == "decode":
        return DecodeGraph(vqgan, dtype)
    if stage == "swap":
        if swap is None:
            raise ValueError("exporting the swap stage needs a SwapTransformer")
        return SwapGraph(swap, vqgan, dtype, quantize)
    if sync is None:
        raise ValueError("exporting the sync stage needs a SyncModule")
    return SyncGraph(sync, vqgan, dtype, quantize)


def _fp32_copy(module: nn.Module | None) -> nn.Module | None:
    """A private eval-mode CPU fp32 copy; a DDP wrapper is looked through to its module."""
    if module is None:
        return None
    if isinstance(module, nn.parallel.DistributedDataParallel):
        module = module.module
    return copy.deepcopy(module).eval().to("cpu", torch.float32).requires_grad_(False)


def fp16_providers() -> list[str]:
    """Where fp16 graphs are checked: ORT's CPU provider runs them (float16 kernels or casts
    it inserts itself), and CUDA, where they are meant to run, when a GPU is usable."""
    from ...inference.providers import cuda_status

    return ["CPU", "CUDA"] if cuda_status().usable else ["CPU"]


def _place_card(card: Path | str | None, out_dir: Path, set_id: str) -> Path | None:
    if card is None:
        return None
    card = Path(card)
    if not card.is_file():
        raise ModelError(f"model card {card} does not exist; write it or leave card out")
    try:
        card.resolve().relative_to(out_dir.resolve())
        return card.resolve()
    except ValueError:
        target = out_dir / "cards" / f"{set_id}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(card, target)
        return target


def export_model_set(vqgan: VQGAN, swap: SwapTransformer | None, sync: SyncModule | None,
                     out_dir: Path | str, set_id: str, *, description: str, license: str,
                     training_data: str, card: Path | str | None = None, fp16: bool = True,
                     make_default: bool = False,
                     parity_inputs: Mapping[str, np.ndarray] | None = None,
                     stages: Sequence[str] | None = None,
                     reuse: Mapping[str, Sequence[str]] | None = None,
                     bounds: Bounds | None = None, verbose: bool = True) -> ParityReport:
    """Write ``<set_id>-<stage>[-fp16].onnx`` + manifest entries for a set; return parity.

    - ``swap``/``sync`` may be None: the set then lacks that stage (unless ``reuse`` names one).
    - ``stages``: which stages to export (default: every stage a module is given for);
      ``reuse``: stage -> model ids of an installed manifest for stages not exported here
      (an adapted set reusing the base set's encode/swap).
    - ``parity_inputs``: optional real data, ``{"image": uint8 [N, S, S, 3] crops or float32
      [N, 3, S, S], "mel": float32 [N, 80, T]}``, checked besides random inputs.
    - fp16 variants (``fp16=True``) are listed first with providers ("cuda",); fp32 entries run
      anywhere. Raises ModelError, leaving the manifest untouched, when parity fails.
    """
    # absolute: the manifest reads relative file names against its own folder, not the cwd
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    bounds = bounds or Bounds()
    vq = _fp32_copy(vqgan)
    sw = _fp32_copy(swap)
    sy = _fp32_copy(sync)
    if not isinstance(vq, VQGAN):
        raise TypeError(f"export_model_set needs a VQGAN, got {type(vqgan).__name__}")
    available = {"encode": True, "decode": True, "swap": sw is not None, "sync": sy is not None}
    wanted = list(stages) if stages is not None else [s for s in STAGES if available[s]]
    for stage in wanted:
        if stage not in STAGES or not available[stage]:
            raise ValueError(f"cannot export stage '{stage}' (given modules: "
                             f"{', '.join(s for s in STAGES if available[s])})")
    s, latent = vq.cfg.crop_size, (vq.cfg.embed_dim, vq.cfg.grid, vq.cfg.grid)
    mel_window = sy.cfg.mel_window if isinstance(sy, SyncModule) else 16
    precisions = ["fp16", "fp32"] if fp16 else ["fp32"]
    report = ParityReport(set_id)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=out_dir) as staging_dir:
        staging = Path(staging_dir)
        files: dict[tuple[str, str], Path] = {}
        probes: dict[tuple[str, str], Path] = {}
        for stage in wanted:
            example = example_inputs(stage, s, latent, mel_window)
            for precision in precisions:
                name = model_id(set_id, stage, precision)
                files[(stage, precision)] = export_graph(
                    stage_graph(stage, vq, sw, sy, precision), stage, example,
                    staging / f"{name}.onnx")
                if stage != "decode":
                    probes[(stage, precision)] = export_graph(
                        stage_graph(stage, vq, sw, sy, precision, quantize=False), stage,
                        example, staging / f"{name}.probe.onnx")
        providers: dict[str, list[str]] = {"fp32": ["CPU"]}
        if fp16:
            providers["fp16"] = fp16_providers()
            if "CUDA" not in providers["fp16"]:
                report.notes.append("fp16 graphs were checked on ORT's CPU provider only (no "
                                    "usable GPU here); tests/training/test_export.py has the "
                                    "GPU-marked check on CUDA")
        feeds = build_feeds(vq, mel_window, parity_inputs)
        run_parity(report, files, probes, feeds, vq, sw, sy, providers, bounds)
        if verbose:
            print(report.table())
        if not report.ok:
            failing = "; ".join(
                f"{r.stage} {r.precision} {r.inputs} on {r.provider}: max abs {r.max_abs:.2e} "
                f"(bound {r.bound:.1e}), {r.unexplained} unexplained code flips"
                for r in report.failures()) or "no stage could be checked"
            raise ModelError(f"exported graphs of set '{set_id}' do not match the torch "
                             f"modules (parity failed: {failing}); nothing was installed in "
                             f"{out_dir}")
        final = {key: out_dir / path.name for key, path in files.items()}
        for key, path in files.items():
            os.replace(path, final[key])
    _write_manifest(out_dir, set_id, wanted, precisions, final, report, s, latent, mel_window,
                    description=description, license=license, training_data=training_data,
                    card=_place_card(card, out_dir, set_id), make_default=make_default,
                    reuse=reuse or {})
    return report


def _write_manifest(out_dir: Path, set_id: str, stages: Sequence[str],
                    precisions: Sequence[str], files: Mapping[tuple[str, str], Path],
                    report: ParityReport, crop_size: int, latent: tuple[int, int, int],
                    mel_window: int, *, description: str, license: str, training_data: str,
                    card: Path | None, make_default: bool,
                    reuse: Mapping[str, Sequence[str]]) -> None:
    manifest = out_dir / "manifest.json"
    set_stages: dict[str, list[str]] = {st: list(ids) for st, ids in reuse.items()}
    for stage in stages:
        inputs, outputs = stage_specs(stage, crop_size, latent, mel_window)
        set_stages[stage] = []
        for precision in precisions:
            rows = [r for r in report.rows if r.stage == stage and r.precision == precision]
            metadata = {"exported_by": "swaptalk_desktop.training.export", "opset": OPSET,
                        "torch": torch.__version__,
                        "parity_checked_on": sorted({r.provider for r in rows})}
            if rows:
                metadata["parity_max_abs"] = max(r.max_abs for r in rows)
                if any(r.codes for r in rows):
                    metadata["parity_code_mismatch_rate"] = report.mismatch_rate(stage,
                                                                                 precision)
            mid = model_id(set_id, stage, precision)
            add_model(manifest, id=mid, stage=stage, file=files[(stage, precision)],
                      inputs=inputs, outputs=outputs, license=license,
                      training_data=training_data, precision=precision,
                      providers=("cuda",) if precision == "fp16" else (),
                      description=DESCRIPTIONS[stage] + (" (fp16, CUDA)" if precision == "fp16"
                                                         else ""),
                      card=card, metadata=metadata, replace=True)
            set_stages[stage].append(mid)
    add_model_set(manifest, id=set_id, stages=set_stages, crop_size=crop_size,
                  mel_window=mel_window, description=description, make_default=make_default,
                  replace=True)
