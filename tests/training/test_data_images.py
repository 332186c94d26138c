"""``swaptalk train prepare --images``: photo collections as identity material.

Folder identities (LFW layout) and file identities (UTKFace layout), namespacing, hash-based
subsampling, per-source held-out identities, the low-resolution flag and the VQGAN loader
leaving low-resolution photos out, and a dataset made before images existed. Generated
material only (NASA's public-domain astronaut portrait from scikit-image), except the last test,
which reads a handful of real LFW/UTKFace photos from ../shared/data when it is there.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from training_data_helpers import tiny_dataset

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.media.dataset_layout import (
    ClipRecord,
    DatasetLayout,
    load_index,
)
from swaptalk_desktop.training.data.clip_prep import PrepareOptions
from swaptalk_desktop.training.data.dataset import CropBatches
from swaptalk_desktop.training.data.prepare import prepare_dataset
from swaptalk_desktop.training.data.sources import (
    ImageFolder,
    discover_images,
    image_folder,
    subsample,
)
from swaptalk_desktop.training.data.split import build_index, choose_holdout

OPTS = PrepareOptions(crop_size=64)


class NoLandmarker:
    def detect(self, rgb):
        raise AssertionError("a prepared photo was processed again")


def _astronaut() -> np.ndarray:
    from skimage import data
    return np.ascontiguousarray(data.astronaut())


def full_res_face(variant: int = 0) -> np.ndarray:
    """The astronaut's face cut out and enlarged 2x: eye centres ~84 px apart."""
    face = _astronaut()[10:250, 110:340]
    face = cv2.resize(face, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return _vary(face, variant)


def low_res_face(variant: int = 0) -> np.ndarray:
    """The whole 512 px portrait halved: eye centres ~21 px apart."""
    return _vary(cv2.resize(_astronaut(), (256, 256), interpolation=cv2.INTER_AREA), variant)


def _vary(rgb: np.ndarray, variant: int) -> np.ndarray:
    out = np.clip(rgb.astype(np.int16) + 6 * (variant % 5) - 12, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out[:, ::-1]) if variant % 2 else out


def _write(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def lfw_like(root: Path, people: dict[str, int], make=full_res_face) -> Path:
    """``root/<Person>/<Person>_000N.jpg``."""
    for person, count in people.items():
        for k in range(count):
            _write(root / person / f"{person}_{k + 1:04d}.jpg", make(k))
    return root


def utk_like(root: Path, count: int, make=full_res_face) -> Path:
    """``root/<age>_<gender>_<race>_<date>.jpg``, one person per file."""
    for k in range(count):
        _write(root / f"{20 + k}_{k % 2}_{k % 4}_2017010{k}.jpg", make(k))
    return root


def test_folder_and_file_identities_namespaced(tmp_path):
    lfw = lfw_like(tmp_path / "src" / "lfw", {"Ann_Lee": 2, "Bo_Chen": 1})
    utk = utk_like(tmp_path / "src" / "utkface", 2)
    report = prepare_dataset([], tmp_path / "data", images=[lfw, utk], options=OPTS)
    index = report.index
    assert index.identities == ["lfw:Ann_Lee", "lfw:Bo_Chen", "utkface:20_0_0_20170100",
                                "utkface:21_1_1_20170101"]
    by_id = {c.id: c for c in index.clips}
    assert sorted(by_id) == ["img-lfw-Ann_Lee__Ann_Lee_0001", "img-lfw-Ann_Lee__Ann_Lee_0002",
                             "img-lfw-Bo_Chen__Bo_Chen_0001",
                             "img-utkface-20_0_0_20170100", "img-utkface-21_1_1_20170101"]
    for rec in index.clips:
        assert rec.kind == "still" and rec.frames == 1 and rec.origin in ("lfw", "utkface")
        assert rec.crop.endswith(".png")
        assert cv2.imread(str(tmp_path / "data" / rec.crop)).shape == (64, 64, 3)
    data = json.loads((tmp_path / "data" / "dataset.json").read_text())
    assert data["identities"]["lfw:Ann_Lee"] == {"split": "train", "clips": 2, "frames": 2,
                                                 "source": "lfw"}
    assert data["splits"]["train"]["lfw"]["identities"] == 2
    assert data["splits"]["train"]["lfw"]["items"] == 3
    assert data["splits"]["train"]["utkface"]["frames"] == 2
    # rerun: nothing is detected again
    again = prepare_dataset([], tmp_path / "data", images=[lfw, utk], options=OPTS,
                            landmarker=NoLandmarker())
    assert again.prepared == [] and len(again.reused) == 5


def test_image_folder_names_and_collisions(tmp_path):
    a = lfw_like(tmp_path / "a" / "faces", {"X": 1})
    b = lfw_like(tmp_path / "b" / "faces", {"X": 1})
    assert image_folder(a) == ImageFolder(a, "faces")
    assert image_folder(f"mine={b}") == ImageFolder(b, "mine")
    with pytest.raises(InputError, match="both called 'faces'"):
        discover_images([image_folder(a), image_folder(b)], {})
    found = discover_images([image_folder(a), image_folder(f"other={b}")], {})
    assert sorted(s.identity for s in found) == ["faces:X", "other:X"]
    assert len({s.clip_id for s in found}) == 2
    with pytest.raises(InputError, match="--videos material"):
        image_folder(f"videos={b}")
    # an identity map ties a photo to a person by the name given, without a namespace
    found = discover_images([image_folder(a)], {"X_0001.jpg": "astronaut"})
    assert [s.identity for s in found] == ["astronaut"]
    # one identity per file; UTKFace's ".jpg.chip" is not part of the name
    flat = tmp_path / "utkface"
    flat.mkdir()
    for name in ("25_0_1_20170116.jpg.chip.jpg", "30_1_2_20170117.png", ".hidden.jpg"):
        (flat / name).write_bytes(b"")
    found = discover_images([image_folder(flat)], {})
    assert [(s.identity, s.clip_id) for s in found] == [
        ("utkface:25_0_1_20170116", "img-utkface-25_0_1_20170116.jpg.chip"),
        ("utkface:30_1_2_20170117", "img-utkface-30_1_2_20170117")]


class FindsOnlyWithMargin:
    """A detector that misses a face filling the photo, as MediaPipe's do on tight crops."""

    def __init__(self, shape):
        from swaptalk_desktop.faces import default_landmarker
        self.shape, self.inner = shape, default_landmarker()

    def detect(self, rgb):
        return [] if rgb.shape == self.shape else self.inner.detect(rgb)


def test_a_photo_filled_by_its_face_is_tried_again_with_a_margin(tmp_path):
    face = full_res_face()
    folder = lfw_like(tmp_path / "tight", {"A": 1})
    plain = prepare_dataset([], tmp_path / "plain", images=[folder], options=OPTS).index.clips[0]
    report = prepare_dataset([], tmp_path / "padded", images=[folder], options=OPTS,
                             landmarker=FindsOnlyWithMargin(face.shape))
    padded = report.index.clips[0]
    assert not report.skipped and padded.image_size == plain.image_size
    # the landmarks found in the padded photo are mapped back onto the photo itself
    assert padded.eye_px == pytest.approx(plain.eye_px, rel=0.03)
    a = cv2.imread(str(tmp_path / "plain" / plain.crop)).astype(np.float32)
    b = cv2.imread(str(tmp_path / "padded" / padded.crop)).astype(np.float32)
    assert np.abs(a - b).mean() < 6


def _touch_people(root: Path, people: dict[str, int]) -> None:
    for person, count in people.items():
        (root / person).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            (root / person / f"{person}_{k:04d}.jpg").write_bytes(b"")


def test_subsampling_is_deterministic_and_stable(tmp_path):
    people = {f"P{i:02d}": 1 + i % 7 for i in range(30)}          # 120 photos
    _touch_people(tmp_path / "one" / "lfw", people)
    # the same files, created in another order, in another place
    _touch_people(tmp_path / "two" / "lfw", dict(reversed(list(people.items()))))

    def chosen(root, per=None, total=None):
        return {s.rel: s.identity for s in discover_images(
            [ImageFolder(root, "lfw")], {}, per, total)}

    one = chosen(tmp_path / "one" / "lfw", 2, 40)
    assert one == chosen(tmp_path / "two" / "lfw", 2, 40)
    assert len(one) == 40
    counts: dict[str, int] = {}
    for ident in one.values():
        counts[ident] = counts.get(ident, 0) + 1
    assert max(counts.values()) <= 2
    # whole identities by hash: all but the last one taken keep both of their photos
    short = [i for i, c in counts.items() if c < min(2, people[i.split(":")[1]])]
    assert len(short) <= 1
    # a larger cap keeps everything a smaller one chose
    assert set(chosen(tmp_path / "one" / "lfw", 2, 20)) <= set(one)
    assert set(one) <= set(chosen(tmp_path / "one" / "lfw", 2, 60))
    assert set(chosen(tmp_path / "one" / "lfw", 1)) <= set(chosen(tmp_path / "one" / "lfw", 3))
    # adding people or photos changes the choice only where a new name hashes into it
    _touch_people(tmp_path / "one" / "lfw", {f"New{i}": 3 for i in range(10)})
    _touch_people(tmp_path / "one" / "lfw", {"P03": 9})
    grown = chosen(tmp_path / "one" / "lfw", 2)
    before = chosen(tmp_path / "two" / "lfw", 2)
    assert {r for r in before if not r.startswith("P03/")} <= set(grown)
    assert len(set(before) - set(grown)) <= 2
    # the selection function on its own: order of the listing does not matter
    files = [(f"{p}/{k}.jpg", p) for p in "abcdef" for k in range(4)]
    assert subsample(files, "x", 2, 7) == subsample(files[::-1], "x", 2, 7)
    assert len(subsample(files, "x", None, 7)) == 7
    with pytest.raises(InputError, match="at least 1"):
        prepare_dataset([], tmp_path / "d", images=[tmp_path / "one" / "lfw"],
                        options=PrepareOptions(crop_size=64, max_images=0))


def _record(layout: DatasetLayout, cid: str, identity: str, kind: str, origin: str,
            frames: int, eye_px: float = 80.0) -> None:
    layout.write_record(ClipRecord(id=cid, kind=kind, identity=identity, source=f"/x/{cid}",
                                   source_size=1, source_mtime_ns=1, crop_size=64,
                                   frames=frames, origin=origin, eye_px=eye_px,
                                   face_px=2.2 * eye_px))


def test_holdout_is_per_identity_and_per_source(tmp_path):
    layout = DatasetLayout(tmp_path / "data")
    layout.make_dirs()
    for i in range(12):
        _record(layout, f"clip{i}", f"speaker{i}", "video", "videos", 50)
    for i in range(40):
        for k in range(2):
            _record(layout, f"img-lfw-P{i}__{k}", f"lfw:P{i}", "still", "lfw", 1, 40.0)
    for i in range(40):
        _record(layout, f"img-utkface-{i}", f"utkface:{i}_0_0", "still", "utkface", 1)
    index = build_index(layout, 64, 0.25, None, 0.1)
    held = set(index.holdout_identities)
    groups = {"videos": [f"speaker{i}" for i in range(12)],
              "lfw": [f"lfw:P{i}" for i in range(40)],
              "utkface": [f"utkface:{i}_0_0" for i in range(40)]}
    for name, members in groups.items():
        # each source holds out its own share, chosen as the clips alone would choose it
        assert held & set(members) == set(choose_holdout(members, None, 0.1)), name
        assert held & set(members), name
    for c in index.clips:  # a held-out person's photos are validation only, all of them
        if c.identity in held:
            assert c.split == "val" and c.train_range == [0, 0] and c.val_range == [0, c.frames]
        else:
            assert c.split == "train"
    data = json.loads(layout.index.read_text())
    unseen = data["splits"]["val_unseen"]
    assert set(unseen) == {"videos", "lfw", "utkface"}
    lfw_held = len(held & set(groups["lfw"]))
    assert unseen["lfw"] == {"identities": lfw_held, "items": 2 * lfw_held,
                             "frames": 2 * lfw_held, "low_res_items": 2 * lfw_held}
    assert data["splits"]["train"]["lfw"]["identities"] == 40 - lfw_held
    assert data["splits"]["val_seen"]["videos"]["items"] == 12 - len(held & set(groups["videos"]))
    assert "lfw" not in data["splits"]["val_seen"]  # photos keep no frames back
    # namespaced names for an explicit hold-out; a bare name is pointed at its namespace
    explicit = build_index(layout, 64, 0.25, ["lfw:P3", "utkface:7_0_0", "speaker2"], 0.1)
    assert explicit.holdout_identities == ["lfw:P3", "speaker2", "utkface:7_0_0"]
    with pytest.raises(InputError, match="did you mean lfw:P3"):
        build_index(layout, 64, 0.25, ["P3"], 0.1)


def test_holdout_of_clips_alone_is_what_it_was(tmp_path):
    layout = DatasetLayout(tmp_path / "data")
    layout.make_dirs()
    names = [f"person{i}" for i in range(20)]
    for i, n in enumerate(names):
        _record(layout, f"c{i}", n, "video", "videos", 10)
    _record(layout, "still-p", "person3", "still", "stills", 1)
    index = build_index(layout, 64, 0.25, None, 0.2)
    assert index.holdout_identities == choose_holdout(names, None, 0.2)


def test_low_res_flag_and_the_vqgan_loader(tmp_path):
    sharp = lfw_like(tmp_path / "sharp", {"A": 2, "B": 2})
    soft = lfw_like(tmp_path / "soft", {"C": 2, "D": 2}, make=low_res_face)
    out = tmp_path / "data"
    report = prepare_dataset([], out, images=[sharp, soft], options=OPTS)
    index = report.index
    for c in index.clips:
        assert c.image_size == ([460, 480] if c.origin == "sharp" else [256, 256])
        if c.origin == "sharp":
            assert 70 < c.eye_px < 100 and not c.low_res and c.use == "all"
        else:
            assert 15 < c.eye_px < 30 and c.low_res and c.use == "identity"
        assert 1.8 < c.face_px / c.eye_px < 3.0
    data = json.loads((out / "dataset.json").read_text())
    assert data["low_res_eye_px"] == 60.0
    assert data["splits"]["train"]["soft"]["low_res_items"] == 4
    # the VQGAN draws full-resolution faces only ...
    vq = CropBatches(index, "train", seed=0)
    assert {c.origin for c in vq.clips} == {"sharp"} and vq.left_out == 4
    crops, refs = vq.batch(0, 16)
    assert crops.shape == (16, 64, 64, 3)
    assert {vq.clips[r.clip].origin for r in refs} == {"sharp"}
    # ... unless low-resolution photos are given a weight, which down-weights them
    mixed = CropBatches(index, "train", seed=0, low_res_weight=0.25)
    assert len(mixed.clips) == 8
    soft_mass = sum(w for w, c in zip(mixed.schedule.weights, mixed.clips, strict=True)
                    if c.low_res)
    assert soft_mass == pytest.approx(0.25 / 1.25)
    # a dataset of low-resolution photos only has nothing to reconstruct, and says why
    only_soft = prepare_dataset([], tmp_path / "soft_data", images=[soft], options=OPTS)
    with pytest.raises(ValueError, match="4 low-resolution photos"):
        CropBatches(only_soft.index, "train", seed=0)
    # another threshold relabels without detecting anything again
    relabel = prepare_dataset([], out, images=[sharp, soft], landmarker=NoLandmarker(),
                              options=PrepareOptions(crop_size=64, low_res_eye_px=10))
    assert not any(c.low_res for c in relabel.index.clips)
    assert len(CropBatches(relabel.index, "train", seed=0).clips) == 8


NEW_RECORD_FIELDS = ("origin", "eye_px", "face_px", "image_size", "low_res", "use")


def _strip_to_old_format(root: Path) -> None:
    """Make a dataset look like one prepared before images and resolution were recorded."""
    for path in (root / "clips").glob("*.json"):
        rec = json.loads(path.read_text())
        for key in NEW_RECORD_FIELDS:
            rec.pop(key, None)
        path.write_text(json.dumps(rec, indent=1) + "\n")
    data = json.loads((root / "dataset.json").read_text())
    for key in ("splits", "low_res_eye_px"):
        data.pop(key, None)
    for entry in data["identities"].values():
        entry.pop("source", None)
    for rec in data["clips"]:
        for key in NEW_RECORD_FIELDS:
            rec.pop(key, None)
    (root / "dataset.json").write_text(json.dumps(data, indent=1) + "\n")


def test_a_dataset_made_before_images_still_loads(tmp_path, tmp_path_factory):
    old = tmp_path / "old"
    shutil.copytree(tiny_dataset(tmp_path_factory), old)
    measured = {c.id: (c.eye_px, c.face_px) for c in load_index(old).clips}
    _strip_to_old_format(old)
    index = load_index(old)
    assert index.low_res_eye_px == 60.0
    for c in index.clips:
        assert c.origin == "videos" and c.eye_px == 0 and not c.low_res and c.use == "all"
    ranges = {c.id: (c.split, c.train_range, c.val_range) for c in index.clips}
    assert len(CropBatches(index, "train", seed=0).clips) == 2
    # a rerun with this version reuses every clip, measures the faces from the stored
    # landmarks (no decoding, no detection) and keeps the splits
    videos = Path(index.clips[0].source).parent
    again = prepare_dataset([videos], old, options=OPTS, landmarker=NoLandmarker())
    assert again.prepared == [] and len(again.reused) == 2
    for c in again.index.clips:
        # as measured when preparing (from the tracker's landmarks in source pixels)
        assert c.eye_px == pytest.approx(measured[c.id][0], rel=0.01)
        assert c.face_px == pytest.approx(measured[c.id][1], rel=0.01)
        assert 10 < c.eye_px < c.face_px
        assert (c.split, c.train_range, c.val_range) == ranges[c.id]
    rec = json.loads((old / "clips" / "astronaut.json").read_text())
    assert rec["eye_px"] > 0 and rec["origin"] == "videos"


def test_cli_images_and_parallel_workers(tmp_path, capsys):
    lfw = lfw_like(tmp_path / "lfw", {"A": 3, "B": 2, "C": 2})
    utk = utk_like(tmp_path / "utk", 3, make=low_res_face)
    out = tmp_path / "data"
    code = main(["train", "prepare", "--images", str(lfw), "--images", f"utkface={utk}",
                 "--out", str(out), "--crop-size", "64", "--workers", "2",
                 "--max-images-per-identity", "2", "--json-progress"])
    assert code == 0
    done = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert done["event"] == "done" and done["clips"] == 9 and done["prepared"] == 9
    assert done["low_res"] == 3
    assert done["splits"]["train"]["utkface"]["identities"] == 3
    assert done["splits"]["train"]["lfw"]["items"] == 6
    # lowering the cap leaves the photos no longer chosen out of the index, files kept
    code = main(["train", "prepare", "--images", str(lfw), "--images", f"utkface={utk}",
                 "--out", str(out), "--crop-size", "64", "--max-images-per-identity", "1",
                 "--json-progress"])
    assert code == 0
    done = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert done["clips"] == 6 and done["prepared"] == 0
    assert len(list((out / "clips").glob("*.json"))) == 9
    assert main(["train", "prepare", "--out", str(out)]) == 2
    assert "nothing to prepare" in capsys.readouterr().err


@pytest.mark.slow
def test_real_lfw_and_utkface_photos(shared_data, tmp_path):
    lfw_root, utk_root = shared_data / "faces" / "lfw", shared_data / "faces" / "utkface"
    if not lfw_root.is_dir() or not utk_root.is_dir():
        pytest.skip("faces/lfw or faces/utkface not in the shared data")
    # a handful of people with two or more photos, and a handful of UTKFace faces, linked
    # (not copied) into folders of the two layouts
    people = [p for p in sorted(lfw_root.iterdir()) if len(list(p.glob("*.jpg"))) >= 2][:6]
    lfw = tmp_path / "lfw"
    for p in people:
        (lfw / p.name).mkdir(parents=True)
        for f in sorted(p.glob("*.jpg"))[:3]:
            (lfw / p.name / f.name).symlink_to(f)
    utk = tmp_path / "utkface"
    utk.mkdir()
    for f in sorted(utk_root.glob("*.jpg"))[:6]:
        (utk / f.name).symlink_to(f)
    held = f"lfw:{people[0].name}"
    report = prepare_dataset([], tmp_path / "data", images=[lfw, utk],
                             options=PrepareOptions(crop_size=128, max_images_per_identity=2,
                                                    holdout_identities=(held,)))
    index = report.index
    assert not report.skipped
    lfw_items = [c for c in index.clips if c.origin == "lfw"]
    utk_items = [c for c in index.clips if c.origin == "utkface"]
    assert len(lfw_items) == 12 and len(utk_items) == 6
    assert {c.identity for c in lfw_items} == {f"lfw:{p.name}" for p in people}
    # LFW faces are ~100 px wide in 250 px photos: low resolution, identity material only
    assert all(c.image_size == [250, 250] and c.low_res and c.use == "identity"
               for c in lfw_items)
    assert 30 < np.median([c.eye_px for c in lfw_items]) < 55
    # UTKFace's tight 200 px crops hold faces large enough to reconstruct
    assert all(c.image_size == [200, 200] and not c.low_res for c in utk_items)
    assert all(c.split == "val" for c in lfw_items if c.identity == held)
    # the list names an LFW person, so LFW's hold-out is the list's; UTKFace keeps its own
    unseen = {c.identity for c in index.select("val_unseen")}
    assert held in unseen
    assert unseen - {held} == set(choose_holdout(sorted({c.identity for c in utk_items}), None,
                                                 0.1))
    crop = cv2.imread(str(tmp_path / "data" / lfw_items[0].crop))
    assert crop.shape == (128, 128, 3) and crop.std() > 20


def test_an_explicit_holdout_leaves_photo_folders_their_own():
    """Naming held-out clip people does not leave the photo folders without held-out people:
    a folder the list names nobody from keeps its hash-based choice."""
    clips = [f"speaker{i}" for i in range(10)]
    lfw = [f"lfw:Person_{i}" for i in range(200)]
    groups = {**{c: "clips" for c in clips}, **{p: "lfw" for p in lfw}}
    held = set(choose_holdout(clips + lfw, ["speaker3"], 0.1, groups))
    assert {h for h in held if h in clips} == {"speaker3"}
    assert held - {"speaker3"} == set(choose_holdout(lfw, None, 0.1))
    # naming someone from the folder hands that folder to the list as well
    assert set(choose_holdout(clips + lfw, ["speaker3", "lfw:Person_7"], 0.1, groups)) == \
        {"speaker3", "lfw:Person_7"}
