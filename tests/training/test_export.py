"""ONNX export of the tiny networks: parity, the manifest, and the product's own loading path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import shape_inference
from training_helpers import face_like_images, real_crops

from swaptalk_desktop.core.errors import ModelError
from swaptalk_desktop.inference import ModelRegistry, StageRunners, load_manifest, sha256_file
from swaptalk_desktop.inference.providers import cuda_status
from swaptalk_desktop.training.archs import build_module
from swaptalk_desktop.training.configs import model_config
from swaptalk_desktop.training.export import Bounds, export_model_set
from swaptalk_desktop.training.export.parity import check_quantized

SET_ID = "tiny-export"
STAGES = ("encode", "swap", "sync", "decode")


def trained_looking(seed: int = 0) -> dict[str, torch.nn.Module]:
    """Tiny modules whose codebooks sit where the encoder's outputs are (as after training),
    and whose swap is not the identity map, so parity compares something real."""
    torch.manual_seed(seed)
    cfg = model_config("tiny")
    mods = {n: build_module(n, cfg).eval() for n in ("vqgan", "swap", "sync")}
    vq = mods["vqgan"]
    with torch.no_grad():
        z = vq.encode_continuous(face_like_images(8, cfg.vqgan.crop_size, seed=seed))
        for quant, part in zip((vq.quant_upper, vq.quant_lower), vq.split(z), strict=True):
            flat = part.permute(0, 2, 3, 1).reshape(-1, part.shape[1])
            picks = torch.randint(0, flat.shape[0], (quant.num_codes,))
            quant.codebook.copy_(flat[picks] + 0.05 * torch.randn_like(flat[picks]))
        torch.nn.init.normal_(mods["swap"].out.weight, std=0.05)
    return mods


@pytest.fixture(scope="session")
def exported(tmp_path_factory, face_photo):
    out = tmp_path_factory.mktemp("exported")
    mods = trained_looking()
    crops = real_crops(face_photo, 64)
    mel = np.random.default_rng(0).uniform(-4, 4, (3, 80, 16)).astype(np.float32)
    report = export_model_set(mods["vqgan"], mods["swap"], mods["sync"], out, SET_ID,
                              description="tiny test set", license="Apache-2.0",
                              training_data="none (random weights)", fp16=True,
                              make_default=True, parity_inputs={"image": crops, "mel": mel},
                              verbose=False)
    return out, report, mods, crops


def runners(out: Path, provider: str = "cpu", max_batch: int = 2) -> StageRunners:
    registry = ModelRegistry(extra_dirs=[out], include_builtin=False, include_user=False)
    return StageRunners(registry.get_set(SET_ID), provider=provider, max_batch=max_batch)


def test_parity_within_bounds_for_every_stage(exported):
    _, report, _, _ = exported
    assert report.ok, report.table()
    fp32 = {(r.stage, r.inputs) for r in report.rows if r.precision == "fp32"}
    assert fp32 == {(s, i) for s in STAGES for i in ("random", "real")}
    # ORT's CPU provider runs the fp16 graphs too, so they are checked here, not only on GPU.
    assert {r.stage for r in report.rows if r.precision == "fp16"} == set(STAGES)
    for row in report.rows:
        assert row.max_abs <= row.bound and row.unexplained == 0
        if row.precision == "fp32" and row.stage == "decode":
            assert row.bound == 1e-3
    table = report.table()
    assert all(s in table for s in STAGES) and "PASSED" in table
    json.dumps(report.to_json())


def test_manifest_lists_fp16_first_for_cuda(exported):
    out, _, _, _ = exported
    manifest = load_manifest(out / "manifest.json")
    assert manifest.default_set == SET_ID
    spec = manifest.set_specs[SET_ID]
    for stage in STAGES:
        assert spec.stages[stage] == (f"{SET_ID}-{stage}-fp16", f"{SET_ID}-{stage}")
        fp16, fp32 = (manifest.models[i] for i in spec.stages[stage])
        assert (fp16.precision, fp16.providers) == ("fp16", ("cuda",))
        assert (fp32.precision, fp32.providers) == ("fp32", ())
        for entry in (fp16, fp32):
            assert entry.path.name == f"{entry.id}.onnx"
            assert entry.sha256 == sha256_file(entry.path)
            assert entry.metadata["parity_max_abs"] >= 0.0
            assert entry.license == "Apache-2.0"
    assert spec.crop_size == 64 and spec.mel_window == 16
    assert not list(out.glob(".export-*")) and not list(out.glob("*.probe.onnx"))


def test_graphs_are_portable_with_free_batch_and_fp32_code_search(exported):
    out, _, _, _ = exported
    for path in sorted(out.glob("*.onnx")):
        model = onnx.load(str(path))
        assert model.opset_import[0].version == 17
        ops = {n.op_type for n in model.graph.node}
        assert "GridSample" not in ops
        for value in model.graph.input:
            dim0 = value.type.tensor_type.shape.dim[0]
            assert (dim0.dim_value == 1) if value.name == "source" else dim0.dim_param == "B"
            assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        if "-encode" in path.name or "-swap" in path.name:
            assert {"MatMul", "ArgMin", "Gather"} <= ops
        if "-sync" in path.name:
            assert {"ArgMax", "Gather"} <= ops
        inferred = shape_inference.infer_shapes(model)
        types = {v.name: v.type.tensor_type.elem_type for v in (
            *inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output)}
        for node in inferred.graph.node:
            if node.op_type in ("ArgMin", "ArgMax"):
                assert types[node.input[0]] == onnx.TensorProto.FLOAT, path.name
        if path.name.endswith("-fp16.onnx"):
            floats = [i.data_type for i in model.graph.initializer if i.dims and
                      i.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)]
            assert floats.count(onnx.TensorProto.FLOAT16) > floats.count(onnx.TensorProto.FLOAT)


def test_loads_and_round_trips_through_stage_runners(exported):
    out, _, mods, crops = exported
    vq, swap, sync = mods["vqgan"], mods["swap"], mods["sync"]
    r = runners(out)
    images = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        encoded = vq.encode(images)
    latent = r.encode(crops)  # 3 crops with max_batch 2: the runner splits the batch
    assert latent.shape == (3, 16, 4, 4)
    np.testing.assert_array_equal(latent, encoded.latent.numpy())

    decoded = r.decode(latent)
    with torch.no_grad():
        expected = ((vq.decode(encoded.latent).clamp(-1, 1) + 1) * 127.5).numpy()
    assert decoded.dtype == np.uint8 and decoded.shape == crops.shape
    assert np.abs(decoded.astype(np.float32) - expected.transpose(0, 2, 3, 1)).max() <= 1.0

    swapped = r.swap(latent, latent[2:])
    with torch.no_grad():
        want = vq.quantize(swap(encoded.latent, encoded.latent[2:].expand(3, -1, -1, -1)))
    np.testing.assert_array_equal(swapped, want.latent.numpy())
    assert not np.array_equal(swapped, latent)  # the swap really changes the latent

    mel = np.random.default_rng(1).uniform(-4, 4, (3, 80, 16)).astype(np.float32)
    lower = r.sync(latent[:, :, :2], latent[::-1].copy(), mel)
    with torch.no_grad():
        _, hard = sync.predict_latent(encoded.latent[:, :, :2], encoded.latent.flip(0),
                                      torch.from_numpy(mel)[:, None], vq.quant_lower.codebook)
    np.testing.assert_array_equal(lower, hard.numpy())
    assert r.provider_report.used == "CPU"


def test_parity_accepts_tie_flips_and_rejects_wrong_codes():
    book = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0]], np.float32)
    books = (book, book)

    z = np.zeros((1, 2, 2, 1), np.float32)
    z[0, :, 1, 0] = (0.0, 3.0)  # lower: code 2, far from any tie
    z_onnx = z.copy()
    z_onnx[0, 0, 0, 0] = -1e-6  # upper: exactly between codes 0 and 1, broken the other way
    torch_codes = np.array([[[0], [2]]])
    flipped = np.zeros_like(z)
    flipped[0, :, 0, 0], flipped[0, :, 1, 0] = book[1], book[2]
    row = check_quantized("encode", "fp32", "random", "CPU", z, z_onnx, flipped, books,
                          torch_codes, Bounds(max_mismatch_fraction=0.5))
    assert (row.mismatches, row.unexplained, row.ok) == (1, 0, True)
    wrong = flipped.copy()
    wrong[0, :, 1, 0] = book[0]  # code 0 where code 2 is clearly nearest
    row = check_quantized("encode", "fp32", "random", "CPU", z, z_onnx, wrong, books,
                          torch_codes, Bounds(max_mismatch_fraction=1.0))
    assert (row.mismatches, row.unexplained, row.ok) == (2, 1, False)


def test_failed_parity_installs_nothing(tmp_path):
    mods = trained_looking(seed=1)
    with pytest.raises(ModelError, match="parity failed"):
        export_model_set(mods["vqgan"], None, None, tmp_path, "strict", description="",
                         license="MIT", training_data="none", fp16=False,
                         bounds=Bounds(fp32=0.0, fp16=0.0), verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_export_to_a_relative_folder(tmp_path, monkeypatch):
    """`swaptalk train export --out models/my-set` from the repository root."""
    monkeypatch.chdir(tmp_path)
    mods = trained_looking(seed=2)
    report = export_model_set(mods["vqgan"], None, None, Path("models") / "rel", "rel",
                              description="", license="MIT", training_data="none",
                              fp16=False, verbose=False)
    assert report.ok
    manifest = load_manifest(tmp_path / "models" / "rel" / "manifest.json")
    assert {e.path for e in manifest.models.values()} == {
        tmp_path / "models" / "rel" / f"rel-{stage}.onnx" for stage in ("encode", "decode")}


def test_adapted_set_reuses_installed_stages(exported, tmp_path):
    out, _, mods, crops = exported
    report = export_model_set(mods["vqgan"], None, mods["sync"], tmp_path, "tiny-adapted",
                              description="adapted", license="Apache-2.0",
                              training_data="one clip", fp16=False,
                              stages=("sync", "decode"),
                              reuse={"encode": [f"{SET_ID}-encode"], "swap": [f"{SET_ID}-swap"]},
                              verbose=False)
    assert report.ok and {r.stage for r in report.rows} == {"sync", "decode"}
    registry = ModelRegistry(extra_dirs=[out, tmp_path], include_builtin=False,
                             include_user=False)
    r = StageRunners(registry.get_set("tiny-adapted"), provider="cpu")
    assert r.selected("encode").id == f"{SET_ID}-encode"
    assert r.decode(r.encode(crops)).shape == crops.shape


@pytest.mark.gpu
def test_fp16_graphs_on_cuda_match_fp32(exported):
    if not cuda_status().usable:
        pytest.skip(f"CUDA is not usable: {cuda_status().reason}")
    out, _, _, crops = exported
    cpu, gpu = runners(out, "cpu"), runners(out, "cuda")
    assert gpu.selected("decode").precision == "fp16"
    latent = cpu.encode(crops)
    codes_match = np.mean(np.all(gpu.encode(crops) == latent, axis=1))
    assert codes_match >= 1 - Bounds().fp16_mismatch_fraction
    diff = np.abs(gpu.decode(latent).astype(np.int16) - cpu.decode(latent).astype(np.int16))
    assert diff.max() <= 255 * Bounds().fp16 / 2  # image units: bound is in [-1, 1] scale
    mel = np.zeros((3, 80, 16), np.float32)
    assert gpu.sync(latent[:, :, :2], latent, mel).shape == (3, 16, 2, 4)
    assert gpu.swap(latent, latent[:1]).shape == latent.shape
    assert "CUDA" in gpu.provider_report.used
