"""Manifest parsing, every schema error, and the writing helpers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from swaptalk_desktop.core.errors import ModelError
from swaptalk_desktop.inference import (
    TensorSpec,
    add_model,
    add_model_set,
    builtin_model_dir,
    load_manifest,
    sha256_file,
    write_manifest,
)

SHA = "ab" * 32


def tensor(name: str, *shape: Any) -> dict:
    return {"name": name, "shape": list(shape), "dtype": "float32"}


def model(id: str, stage: str, inputs: dict, outputs: dict, **extra: Any) -> dict:
    return {"id": id, "stage": stage, "file": f"{id}.onnx", "sha256": SHA, "inputs": inputs,
            "outputs": outputs, "license": "Apache-2.0", "training_data": "none", **extra}


def valid() -> dict:
    lat, half = ("B", 256, 16, 16), ("B", 256, 8, 16)
    return {
        "schema_version": 1,
        "default_set": "base",
        "models": [
            model("enc", "encode", {"image": tensor("x", "B", 3, 256, 256)},
                  {"latent": tensor("z", *lat)}),
            model("swp", "swap",
                  {"target": tensor("t", *lat), "source": tensor("s", 1, 256, 16, 16)},
                  {"latent": tensor("z", *lat)}),
            model("syn", "sync", {"upper": tensor("u", *half), "reference": tensor("r", *lat),
                                  "mel": tensor("m", "B", 1, 80, 16)},
                  {"lower": tensor("l", *half)}),
            model("dec", "decode", {"latent": tensor("z", *lat)},
                  {"image": tensor("y", "B", 3, 256, 256)}, precision="fp32", providers=[],
                  card="cards/dec.md", description="decoder"),
        ],
        "model_sets": [{"id": "base", "description": "test", "crop_size": 256, "mel_window": 16,
                        "stages": {"encode": ["enc"], "swap": ["swp"], "sync": ["syn"],
                                   "decode": ["dec"]}}],
    }


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_valid_manifest_parses(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, valid()))
    assert list(manifest.models) == ["enc", "swp", "syn", "dec"]
    enc = manifest.models["enc"]
    assert enc.path == (tmp_path / "enc.onnx").resolve()
    assert enc.inputs["image"] == TensorSpec("x", ("B", 3, 256, 256), "float32")
    assert enc.precision == "fp32" and enc.providers == ()
    assert manifest.models["dec"].card == (tmp_path / "cards" / "dec.md").resolve()
    base = manifest.sets["base"]
    assert base.crop_size == 256 and base.mel_window == 16
    assert [e.id for e in base.stages["sync"]] == ["syn"]
    assert base.declared_latent_shape() == (256, 16, 16)
    assert base.manifest_path == (tmp_path / "manifest.json").resolve()
    assert manifest.default_set == "base"


def test_subfolder_file_paths_resolve_against_the_manifest(tmp_path: Path) -> None:
    data = valid()
    data["models"][0]["file"] = "weights/enc.onnx"
    manifest = load_manifest(write(tmp_path, data))
    assert manifest.models["enc"].path == (tmp_path / "weights" / "enc.onnx").resolve()


def _m(data: dict, i: int) -> dict:
    return data["models"][i]


MUTATIONS = {
    "bad schema version": (lambda d: d.update(schema_version=2), "schema_version 2"),
    "unknown top key": (lambda d: d.update(model_set=[]), "unknown key(s) model_set"),
    "unknown model key": (lambda d: _m(d, 0).update(weights="x"), "unknown key(s) weights"),
    "unknown stage": (lambda d: _m(d, 0).update(stage="blend"), "unknown stage 'blend'"),
    "missing role": (lambda d: _m(d, 2)["inputs"].pop("mel"), "missing mel"),
    "extra role": (lambda d: _m(d, 0)["inputs"].update(mask=tensor("k", 1, 1, 1, 1)),
                   "mask are not part of the encode stage"),
    "duplicate model id": (lambda d: d["models"].append(copy.deepcopy(_m(d, 0))),
                           "duplicate model id 'enc'"),
    "duplicate set id": (lambda d: d["model_sets"].append(copy.deepcopy(d["model_sets"][0])),
                         "duplicate model set id 'base'"),
    "bad sha256": (lambda d: _m(d, 0).update(sha256="abc"), "64 hexadecimal"),
    "absolute file": (lambda d: _m(d, 0).update(file="/etc/enc.onnx"), "relative"),
    "parent file": (lambda d: _m(d, 0).update(file="../enc.onnx"), "without '..'"),
    "bad precision": (lambda d: _m(d, 0).update(precision="int8"), "precision 'int8'"),
    "bad provider": (lambda d: _m(d, 0).update(providers=["tpu"]), "'providers'"),
    "missing license": (lambda d: _m(d, 0).pop("license"), "missing 'license'"),
    "rank 3": (lambda d: _m(d, 0)["inputs"]["image"].update(shape=[3, 256, 256]), "4-D"),
    "mel bins": (lambda d: _m(d, 2)["inputs"]["mel"].update(shape=["B", 1, 81, 16]),
                 "must have 80 at axis 2"),
    "bad dim": (lambda d: _m(d, 0)["inputs"]["image"].update(shape=["B", 3, 0, 256]),
                "positive integers"),
    "bad dtype": (lambda d: _m(d, 0)["inputs"]["image"].update(dtype="int8"), "dtype 'int8'"),
    "unknown default": (lambda d: d.update(default_set="nope"), "default_set 'nope'"),
    "set without decode": (lambda d: d["model_sets"][0]["stages"].pop("decode"),
                           "missing required stage(s) decode"),
    "set unknown stage": (lambda d: d["model_sets"][0]["stages"].update(blend=["enc"]),
                          "unknown stage 'blend'"),
    "bad crop size": (lambda d: d["model_sets"][0].update(crop_size=0), "'crop_size'"),
}

# Problems found only when a set is resolved against the models (possibly of other manifests).
SET_MUTATIONS = {
    "unknown model id": (lambda d: d["model_sets"][0]["stages"].update(swap=["swp2"]),
                         "unknown model id 'swp2'"),
    "wrong stage model": (lambda d: d["model_sets"][0]["stages"].update(swap=["enc"]),
                          "'enc' is a encode model"),
    "latent mismatch": (lambda d: _m(d, 2)["inputs"]["upper"].update(shape=["B", 256, 16, 16]),
                        "encoder gives latents"),
    "mel window mismatch": (lambda d: d["model_sets"][0].update(mel_window=20),
                            "mel_window is 20"),
    "crop size mismatch": (lambda d: d["model_sets"][0].update(crop_size=512),
                           "not 512x512 crops"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_schema_errors_name_the_manifest(tmp_path: Path, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    data = valid()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ModelError) as err:
        load_manifest(path)
    message = str(err.value)
    assert expected in message
    assert str(path.resolve()) in message and "\n" not in message


@pytest.mark.parametrize("name", sorted(SET_MUTATIONS))
def test_set_errors_name_the_manifest(tmp_path: Path, name: str) -> None:
    mutate, expected = SET_MUTATIONS[name]
    data = valid()
    mutate(data)
    manifest = load_manifest(write(tmp_path, data))
    with pytest.raises(ModelError) as err:
        _ = manifest.sets
    assert expected in str(err.value)
    assert str(manifest.path) in str(err.value)


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="invalid JSON at line 1"):
        load_manifest(write(tmp_path, "{not json"))
    with pytest.raises(ModelError, match="does not exist"):
        load_manifest(tmp_path / "nope" / "manifest.json")


def test_shipped_manifest_is_valid_and_has_no_models_yet() -> None:
    manifest = load_manifest(builtin_model_dir() / "manifest.json")
    assert manifest.models == {} and manifest.set_specs == {}


def test_fp16_entries_only_run_on_cuda(tmp_path: Path) -> None:
    data = valid()
    _m(data, 0).update(precision="fp16")
    _m(data, 1).update(providers=["cpu"])
    manifest = load_manifest(write(tmp_path, data))
    assert manifest.models["enc"].allows("cuda") and not manifest.models["enc"].allows("CPU")
    assert manifest.models["swp"].allows("cpu") and not manifest.models["swp"].allows("cuda")
    assert manifest.models["dec"].allows("cpu") and manifest.models["dec"].allows("cuda")


def test_add_model_hashes_and_round_trips(tmp_path: Path) -> None:
    manifest_path = tmp_path / "manifest.json"
    weights = tmp_path / "enc.onnx"
    weights.write_bytes(b"not really onnx")
    spec_in = {"image": TensorSpec("x", ("B", 3, 64, 64))}
    spec_out = {"latent": TensorSpec("z", ("B", 768, 4, 4))}
    entry = add_model(manifest_path, id="enc", stage="encode", file="enc.onnx", inputs=spec_in,
                      outputs=spec_out, license="MIT", training_data="none",
                      metadata={"exporter": "test"})
    assert entry.sha256 == sha256_file(weights)
    assert entry.path == weights.resolve() and entry.metadata == {"exporter": "test"}
    with pytest.raises(ModelError, match="already has a model 'enc'"):
        add_model(manifest_path, id="enc", stage="encode", file=weights, inputs=spec_in,
                  outputs=spec_out, license="MIT", training_data="none")
    raw = json.loads(manifest_path.read_text())
    assert raw["models"][0]["file"] == "enc.onnx"  # relative, portable
    dec_file = tmp_path / "dec.onnx"
    dec_file.write_bytes(b"dec")
    add_model(manifest_path, id="dec", stage="decode", file=dec_file,
              inputs={"latent": TensorSpec("z", ("B", 768, 4, 4))},
              outputs={"image": TensorSpec("y", ("B", 3, 64, 64))},
              license="MIT", training_data="none")
    add_model_set(manifest_path, id="tiny", stages={"encode": ["enc"], "decode": ["dec"]},
                  crop_size=64, mel_window=16, make_default=True)
    manifest = load_manifest(manifest_path)
    assert manifest.default_set == "tiny"
    assert [e.id for e in manifest.sets["tiny"].stages["decode"]] == ["dec"]


def test_write_manifest_validates_before_writing(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, valid()))
    beside = tmp_path / "other.json"
    with pytest.raises(ModelError, match="default_set 'nope'"):
        write_manifest(beside, manifest.models.values(), manifest.set_specs.values(), "nope")
    assert not beside.exists()
    write_manifest(beside, manifest.models.values(), manifest.set_specs.values(), "base")
    assert load_manifest(beside).sets["base"].stages.keys() == manifest.sets["base"].stages.keys()
    out = tmp_path / "out" / "manifest.json"
    out.parent.mkdir()
    # Model files must live in (or under) the manifest's folder.
    with pytest.raises(ModelError, match="not inside the manifest's folder"):
        write_manifest(out, manifest.models.values())


def _lips_entry(shape_out) -> dict:
    return {"id": "l", "stage": "lips", "file": "l.onnx", "sha256": "0" * 64,
            "license": "MIT", "training_data": "t",
            "inputs": {"mel": {"name": "mel", "shape": ["B", 1, 80, 32]}},
            "outputs": {"shape": {"name": "shape", "shape": shape_out},
                        "features": {"name": "features", "shape": ["B", 1, 1, 256]}}}


def test_a_lips_stage_parses_and_a_wrong_shape_is_refused(tmp_path: Path) -> None:
    from swaptalk_desktop.inference.manifest import parse_manifest

    good = parse_manifest({"schema_version": 1, "models": [_lips_entry(["B", 1, 40, 2])],
                           "model_sets": []}, tmp_path / "manifest.json")
    assert good.models["l"].stage == "lips"
    with pytest.raises(ModelError, match="must have 40 at axis 2"):
        parse_manifest({"schema_version": 1, "models": [_lips_entry(["B", 1, 20, 2])],
                        "model_sets": []}, tmp_path / "manifest.json")


def test_the_shipped_lips_stage_closes_the_mouth_for_silence() -> None:
    from swaptalk_desktop.inference import ModelRegistry, StageRunners

    registry = ModelRegistry(include_user=False)
    model_set = registry.get_set(registry.default_set_id())
    if "lips" not in model_set.stages:
        pytest.skip("the default set has no lips stage")
    runners = StageRunners(model_set, provider="cpu")
    t = runners.lips_window
    silent = runners.lips(np.full((2, 80, t), -4.0, np.float32))
    rng = np.random.default_rng(0)
    loud = runners.lips(rng.uniform(-1.0, 2.0, (8, 80, t)).astype(np.float32))
    assert silent.shape == (2, 40, 2)
    # the change from the closed mouth (px on the 256 crop) is small for silence
    assert np.abs(silent).mean() < 0.6 * np.abs(loud).mean()
    with pytest.raises(ValueError, match="lips mel must be"):
        runners.lips(np.zeros((1, 80, t + 1), np.float32))
