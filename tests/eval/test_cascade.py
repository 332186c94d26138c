"""The unified latent path vs the two RGB cascades (``swaptalk eval --cascade``).

Generated material only: two public-domain faces talking with a synthetic syllable track
(``tests/training/training_data_helpers.py``), prepared at 256 px with the Hopper clip and a
mirrored astronaut still held out, run through the shipped ``pipeline-check`` set and through a
synthetic set whose decoder is lossy.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from swaptalk_desktop.eval import cascade
from swaptalk_desktop.eval.synthetic_models import build_synthetic_set
from swaptalk_desktop.inference import ModelRegistry, StageRunners

REPO = Path(__file__).resolve().parents[2]


def _helpers():
    name = "training_data_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "tests" / "training" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


class FlatEmbedder:
    """Cheap stand-in with the embedder interface: the mean colour of the face box's thirds."""

    def info(self):
        return {"embedder": "flat-colour test stand-in"}

    def embed(self, rgb, detection):
        x0, y0, x1, y1 = (int(v) for v in detection.bbox)
        face = rgb[max(y0, 0):y1, max(x0, 0):x1].astype(np.float32)
        return np.concatenate([part.mean(axis=(0, 1)) for part in
                               np.array_split(face, 3, axis=0)]) + 1.0


class Counting:
    """StageRunners wrapper that counts the frames (batch rows) each stage was given."""

    def __init__(self, runners):
        self._r = runners
        self.rows = dict.fromkeys(("encode", "swap", "sync", "decode"), 0)

    def __getattr__(self, name):
        return getattr(self._r, name)

    def _count(self, stage, array):
        self.rows[stage] += len(array)

    def encode(self, crops):
        self._count("encode", crops)
        return self._r.encode(crops)

    def swap(self, target, source):
        self._count("swap", target)
        return self._r.swap(target, source)

    def sync(self, upper, reference, mel):
        self._count("sync", upper)
        return self._r.sync(upper, reference, mel)

    def decode(self, latent):
        self._count("decode", latent)
        return self._r.decode(latent)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    from swaptalk_desktop.faces import default_landmarker
    from swaptalk_desktop.training.data.clip_prep import PrepareOptions
    from swaptalk_desktop.training.data.prepare import prepare_dataset

    h = _helpers()
    landmarker = default_landmarker()
    videos = h.write_talking_folder(tmp_path_factory.mktemp("talk"), seconds=2.0,
                                    landmarker=landmarker)
    stills = tmp_path_factory.mktemp("stills")
    cv2.imwrite(str(stills / "mirror.png"),
                cv2.cvtColor(np.ascontiguousarray(h.faces()["astronaut"][:, ::-1]),
                             cv2.COLOR_RGB2BGR))
    out = tmp_path_factory.mktemp("cascade_data")
    prepare_dataset([videos], out, stills=[stills], landmarker=landmarker,
                    options=PrepareOptions(crop_size=256, holdout_identities=("hopper", "mirror"),
                                           preset="ultrafast"))
    return out


@pytest.fixture(scope="module")
def pipeline_check() -> StageRunners:
    return StageRunners(ModelRegistry().get_set("pipeline-check"), "cpu", 8)


@pytest.fixture(scope="module")
def lossy(tmp_path_factory) -> StageRunners:
    folder = tmp_path_factory.mktemp("lossy")
    build_synthetic_set(folder, set_id="lossy", tint=(0.1, -0.05, 0.02), swap_mode="source",
                        sync_mode="mel")
    return StageRunners(ModelRegistry(extra_dirs=[folder]).get_set("lossy"), "cpu", 8)


@pytest.fixture(scope="module")
def landmarker():
    from swaptalk_desktop.faces import default_landmarker
    return default_landmarker()


def _clip(dataset: Path):
    from swaptalk_desktop.media import mel_windows
    from swaptalk_desktop.media.crops_io import read_crops
    from swaptalk_desktop.media.dataset_layout import (
        DatasetLayout,
        load_index,
        read_landmarks,
        read_mel,
    )

    index, layout = load_index(dataset), DatasetLayout(dataset)
    rec = next(r for r in index.select("val_unseen", kind="video"))
    crops = read_crops(layout.root / rec.crop, *rec.val_range)
    times = read_landmarks(layout, rec)["times"][rec.val_range[0]:rec.val_range[1]]
    ks = np.arange(30, 36)
    return crops[0], crops[ks], mel_windows(read_mel(layout, rec), times[ks], window=16)


def test_unified_runs_each_stage_once_per_frame_and_cascades_round_trip(dataset, pipeline_check):
    reference, crops, mel = _clip(dataset)
    n = len(crops)
    source = pipeline_check.encode(reference[None, :, ::-1].copy())
    outputs, rows = {}, {}
    setups = {}
    for name in cascade.PATHS:
        counting = Counting(pipeline_check)
        run = cascade.make_paths(counting, source, reference, names=(name,))[name]
        setups[name] = dict(counting.rows)  # the reference's latent: once per clip
        outputs[name] = run(crops, mel)
        rows[name] = {k: v - setups[name][k] for k, v in counting.rows.items()}
        assert outputs[name].shape == crops.shape and outputs[name].dtype == np.uint8
    assert setups["unified"] == {"encode": 1, "swap": 1, "sync": 0, "decode": 0}
    assert setups["swap_then_sync"] == {"encode": 2, "swap": 1, "sync": 0, "decode": 1}
    assert setups["sync_then_swap"] == {"encode": 1, "swap": 0, "sync": 0, "decode": 0}
    assert rows["unified"] == {"encode": n, "swap": n, "sync": n, "decode": n}
    # through RGB: decoded once in the middle, encoded again
    assert rows["swap_then_sync"] == {"encode": 2 * n, "swap": n, "sync": n, "decode": 2 * n}
    assert rows["sync_then_swap"] == {"encode": 2 * n, "swap": n, "sync": n, "decode": 2 * n}
    # pipeline-check's swap pastes the photo, so a swap after the sync wipes the new mouth;
    # its encoder/decoder pair is exact, so Swap->Sync equals the unified path up to rounding
    assert not np.array_equal(outputs["sync_then_swap"], outputs["unified"])
    assert np.abs(outputs["swap_then_sync"].astype(int) - outputs["unified"]).max() <= 1
    assert not np.array_equal(outputs["unified"], crops)


def test_a_lossy_round_trip_makes_all_three_paths_differ(dataset, lossy):
    reference, crops, mel = _clip(dataset)
    source = lossy.encode(reference[None, :, ::-1].copy())
    paths = cascade.make_paths(lossy, source, reference)
    out = {name: run(crops, mel) for name, run in paths.items()}
    for a, b in (("unified", "swap_then_sync"), ("unified", "sync_then_swap"),
                 ("swap_then_sync", "sync_then_swap")):
        assert not np.array_equal(out[a], out[b]), (a, b)
    # the tint is the decoder's loss: the cascades pay it twice
    tint = np.array([0.1, -0.05, 0.02]) * 127.5
    drift = {n: (o.astype(float) - out["unified"]).mean(axis=(0, 1, 2)) for n, o in out.items()}
    assert np.allclose(drift["swap_then_sync"], tint, atol=3)


def test_compare_on_held_out_clips_and_cli_writes_table_and_json(dataset, pipeline_check,
                                                                 landmarker, tmp_path,
                                                                 monkeypatch):
    result = cascade.cascade_compare(pipeline_check, landmarker, FlatEmbedder(), dataset,
                                     per_clip=6)
    assert result["photo_identity"] == "mirror"  # the held-out still
    assert [c["clip"] for c in result["clips"]] == ["hopper"]
    for name in cascade.ROWS:
        s = result["paths"][name]
        assert s["frames"] == 6 and s["frames_with_face"] > 0, name
        assert s["ssim"] is not None and s["cos_to_photo"] is not None
        assert 0 < s["common"]["frames"] <= s["frames_with_face"]
    assert result["paths"]["original"]["ssim"] == 1.0
    assert result["paths"]["round_trip"]["ssim"] > 0.99  # pipeline-check's exact encoder
    assert result["paths"]["unified"]["ssim"] < 0.99
    # the swap pastes the photo: closer to it than the original face was
    assert result["paths"]["unified"]["cos_to_photo"] > result["paths"]["original"]["cos_to_photo"]
    assert result["embedder"]["embedder"] == "flat-colour test stand-in"
    md = cascade.markdown_table(result)
    assert md.count("\n| ") == 7 and "Swap→Sync" in md and "Sync→Swap" in md

    import swaptalk_desktop.faces.identity_net as identity_net
    from swaptalk_desktop.cli import main
    monkeypatch.setattr(identity_net, "best_embedder", lambda *a, **k: FlatEmbedder())
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), cv2.cvtColor(_helpers().faces()["astronaut"], cv2.COLOR_RGB2BGR))
    out = tmp_path / "eval.json"
    rc = main(["eval", "--data", str(dataset), "--model-set", "pipeline-check", "--skip",
               "reconstruction", "--skip", "sync", "--cascade", "--cascade-photo", str(photo),
               "--per-clip", "4", "--json", str(out)])
    assert rc == 0
    saved = json.loads(out.read_text())["cascade"]
    assert saved["photo"] == str(photo) and saved["photo_identity"] is None
    assert set(saved["paths"]) == set(cascade.ROWS)
    assert saved["paths"]["unified"]["frames"] == 4
    table = (tmp_path / "eval-cascade.md").read_text()
    assert "pipeline-check" in table and "| unified" in table
