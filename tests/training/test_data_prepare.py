"""``swaptalk train prepare``: dataset format, splits, stills, identity labels, resume, skips."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from training_data_helpers import faces, synthetic_videos, tiny_dataset

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.faces import template_points
from swaptalk_desktop.media.crops_io import CropVideoWriter, read_crops
from swaptalk_desktop.media.dataset_layout import DatasetLayout, load_index, read_landmarks
from swaptalk_desktop.training.data.clip_prep import PrepareOptions
from swaptalk_desktop.training.data.prepare import prepare_dataset


class NoLandmarker:
    def detect(self, rgb):
        raise AssertionError("a prepared clip was processed again")


def test_dataset_format(tmp_path_factory):
    root = tiny_dataset(tmp_path_factory)
    index = load_index(root)
    layout = DatasetLayout(root)
    assert index.crop_size == 64 and index.identities == ["astronaut", "hopper"]
    assert index.holdout_identities == []  # too few identities to hold one out
    for rec in index.clips:
        assert rec.status == "ok" and rec.kind == "video" and rec.has_audio
        assert rec.frames == rec.source_frames == 75 and rec.fps == 25.0
        crops = read_crops(root / rec.crop)
        assert crops.shape == (75, 64, 64, 3) and crops.dtype == np.uint8
        mel = np.load(root / rec.mel)
        assert mel.dtype == np.float16 and mel.shape[0] == 80
        assert abs(mel.shape[1] - 3.0 * 80) <= 2
        lm = read_landmarks(layout, rec)
        assert lm["landmarks"].shape == (75, 478, 2) and lm["landmarks"].dtype == np.float16
        assert lm["present"].all() and np.array_equal(lm["source_index"], np.arange(75))
        assert np.allclose(lm["times"], np.arange(75) / 25, atol=1e-3)
        # landmarks are in crop pixels: the eye corners average onto the template's eyes
        eyes = lm["landmarks"][:, [33, 133]].astype(np.float32).mean(axis=1)
        assert np.abs(eyes - template_points(64)[0]).max() < 2.0
        # the last quarter of every clip is held out
        assert rec.split == "train" and rec.train_range == [0, 56] and rec.val_range == [56, 75]
    data = json.loads((root / "dataset.json").read_text())
    assert data["format"] == "swaptalk-dataset" and data["identities"]["hopper"]["frames"] == 75


def test_crop_video_is_compact_and_close(tmp_path):
    face = cv2.resize(faces()["astronaut"], (256, 256), interpolation=cv2.INTER_AREA)
    frames = [np.roll(face, 3 * i, axis=1) for i in range(10)]
    writer = CropVideoWriter(tmp_path / "c.mp4", 256, 25)
    for f in frames:
        writer.write(f)
    writer.close()
    back = read_crops(tmp_path / "c.mp4")
    mse = np.mean((back.astype(np.float64) - np.stack(frames)) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) > 38
    assert (tmp_path / "c.mp4").stat().st_size < 10 * 256 * 256 * 3 / 10  # > 10x smaller
    assert [p.name for p in tmp_path.iterdir()] == ["c.mp4"]  # no temporary left behind


def test_resume_stills_identity_map_and_skips(tmp_path, tmp_path_factory):
    videos = tmp_path / "videos"
    shutil.copytree(synthetic_videos(tmp_path_factory), videos)
    # a clip without any face is reported and skipped, not fatal
    from swaptalk_desktop.media import make_test_clip
    make_test_clip(videos / "empty_room.mp4", np.full((10, 96, 96, 3), 90, np.uint8), fps=25)
    stills = tmp_path / "stills"
    stills.mkdir()
    cv2.imwrite(str(stills / "nasa_portrait.png"),
                cv2.cvtColor(faces()["astronaut"], cv2.COLOR_RGB2BGR))
    id_map = tmp_path / "ids.csv"
    id_map.write_text("file,identity\nnasa_portrait.png,astronaut\nhopper.mp4,grace\n")
    out = tmp_path / "data"
    opts = PrepareOptions(crop_size=64, max_seconds=1.0)
    events = []
    report = prepare_dataset([videos], out, stills=[stills], identity_map=id_map, options=opts,
                             progress=events.append)
    assert sorted(report.prepared) == ["astronaut", "hopper", "still-nasa_portrait"]
    assert [i for i, _ in report.skipped] == ["empty_room"]
    index = report.index
    assert index.identities == ["astronaut", "grace"]
    by_id = {c.id: c for c in index.clips}
    assert by_id["astronaut"].frames == 25  # --max-seconds 1
    still = by_id["still-nasa_portrait"]
    assert still.kind == "still" and still.identity == "astronaut" and still.frames == 1
    assert still.train_range == [0, 1] and still.val_range == [1, 1]
    assert cv2.imread(str(out / still.crop)).shape == (64, 64, 3)
    assert index.skipped[0]["reason"].startswith("a face was found in only 0%")
    stages = {e.stage for e in events}
    assert {"astronaut", "hopper", "dataset"} <= stages
    final = [e for e in events if e.stage == "dataset"][-1]
    assert final.done == final.total and final.eta_s == 0
    # rerun: everything (the skipped clip too) is recognised as done; no detection runs
    again = prepare_dataset([videos], out, stills=[stills], identity_map=id_map, options=opts,
                            landmarker=NoLandmarker())
    assert again.prepared == [] and len(again.reused) == 4
    # a changed identity map relabels without preparing again
    id_map.write_text("hopper.mp4,hopper\n")
    relabeled = prepare_dataset([videos], out, stills=[stills], identity_map=id_map,
                                options=opts, landmarker=NoLandmarker())
    assert relabeled.index.identities == ["astronaut", "hopper", "nasa_portrait"]
    # an interrupted clip (record missing, stray partial file) is prepared again
    (out / "clips" / "hopper.json").unlink()
    (out / "crops" / ".hopper.partial-x.mp4").write_bytes(b"junk")
    redo = prepare_dataset([videos], out, stills=[stills], identity_map=id_map, options=opts)
    assert redo.prepared == ["hopper"]
    with pytest.raises(InputError, match="crop-size 64"):
        prepare_dataset([videos], out, options=PrepareOptions(crop_size=128))


def test_holdout_identities_and_bad_names(tmp_path, tmp_path_factory):
    videos = synthetic_videos(tmp_path_factory)
    out = tmp_path / "data"
    with pytest.raises(InputError, match="nobody"):
        prepare_dataset([videos], out, options=PrepareOptions(crop_size=64,
                                                              holdout_identities=("nobody",)))
    shutil.copytree(tiny_dataset(tmp_path_factory), out)
    report = prepare_dataset([videos], out, landmarker=NoLandmarker(),
                             options=PrepareOptions(crop_size=64, holdout_identities=("hopper",)))
    hop = next(c for c in report.index.clips if c.identity == "hopper")
    assert hop.split == "val" and hop.train_range == [0, 0] and hop.val_range == [0, 75]
    assert [c.id for c in report.index.select("val_unseen")] == ["hopper"]
    assert [c.id for c in report.index.select("train")] == ["astronaut"]


def test_cli_prepare_json_progress(tmp_path, tmp_path_factory, capsys):
    videos = synthetic_videos(tmp_path_factory)
    out = tmp_path / "data"
    shutil.copytree(tiny_dataset(tmp_path_factory), out)
    code = main(["train", "prepare", "--videos", str(videos), "--out", str(out),
                 "--crop-size", "64", "--json-progress"])
    assert code == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    done = lines[-1]
    assert done["event"] == "done" and done["clips"] == 2 and done["reused"] == 2
    code = main(["train", "prepare", "--videos", str(tmp_path / "missing"), "--out", str(out)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_prepare_real_clip(shared_data, tmp_path):
    clip = shared_data / "videos" / "talking" / "may_5s.mp4"
    if not clip.is_file():
        pytest.skip("may_5s.mp4 not in the shared data")
    report = prepare_dataset([clip], tmp_path / "data",
                             options=PrepareOptions(crop_size=128, max_seconds=1.0))
    rec = report.index.clips[0]
    assert rec.frames == 25 and rec.has_audio and not rec.audio_silent
    crops = read_crops(tmp_path / "data" / rec.crop)
    assert crops.shape == (25, 128, 128, 3) and crops.std() > 20


def test_parallel_workers_prepare_the_same_clips(tmp_path, tmp_path_factory):
    videos = synthetic_videos(tmp_path_factory)
    report = prepare_dataset([videos], tmp_path / "data",
                             options=PrepareOptions(crop_size=64, max_seconds=0.4, workers=2))
    assert sorted(report.prepared) == ["astronaut", "hopper"]
    assert [c.frames for c in report.index.clips] == [10, 10]


def test_index_written_mid_preparation_tolerates_holdouts_not_prepared_yet(tmp_path):
    from swaptalk_desktop.media.dataset_layout import DatasetLayout
    from swaptalk_desktop.training.data.split import build_index
    layout = DatasetLayout(tmp_path / "empty")
    layout.make_dirs()
    index = build_index(layout, 64, 0.25, ["someone-later"], 0.1, partial=True)
    assert index.holdout_identities == [] and index.clips == []
