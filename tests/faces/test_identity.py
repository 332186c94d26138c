from __future__ import annotations

import csv
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from swaptalk_desktop.core.errors import InputError, ModelError
from swaptalk_desktop.faces import (
    FaceDetection,
    MediaPipeLandmarker,
    cosine,
    load_identity_photo,
    read_image,
)
from swaptalk_desktop.faces import identity as identity_mod


def _write(path: Path, bgr: np.ndarray) -> Path:
    ok, data = cv2.imencode(path.suffix, bgr)
    assert ok
    data.tofile(path)
    return path


def test_model_files_are_pinned() -> None:
    for name in identity_mod.MODEL_SHA256:
        assert identity_mod.verified_model_path(name).is_file()


def test_tampered_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    pins = dict(identity_mod.MODEL_SHA256)
    pins[identity_mod.SHAPE_MODEL] = "0" * 64
    monkeypatch.setattr(identity_mod, "MODEL_SHA256", pins)
    with pytest.raises(ModelError, match=identity_mod.SHAPE_MODEL):
        identity_mod.IdentityEmbedder()


def test_missing_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        identity_mod.verified_model_path(identity_mod.RECOGNITION_MODEL, tmp_path)


def test_embedding_shape_and_stability(embedder, astronaut: np.ndarray,
                                       astronaut_face: FaceDetection) -> None:
    e = embedder.embed(astronaut, astronaut_face)
    assert e.shape == (128,) and e.dtype == np.float32
    assert np.array_equal(e, embedder.embed(astronaut, astronaut_face))
    # the same face moved and scaled is still the same person
    m = np.array([[0.7, 0.0, 40.0], [0.0, 0.7, 90.0]])
    moved = cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    det = FaceDetection(astronaut_face.bbox * 0.7 + [40, 90, 40, 90],
                        astronaut_face.landmarks @ m[:, :2].T + m[:, 2], 1.0)
    assert cosine(e, embedder.embed(moved, det)) > 0.95


def test_cosine() -> None:
    a = np.array([1.0, 0.0])
    assert cosine(a, a) == pytest.approx(1.0)
    assert cosine(a, np.array([0.0, 2.0])) == pytest.approx(0.0)
    assert cosine(a, np.zeros(2)) == 0.0


def test_photo_errors(tmp_path: Path, landmarker: MediaPipeLandmarker) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_identity_photo(tmp_path / "nobody.jpg", landmarker)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(InputError, match="notes.jpg is not an image we can read"):
        load_identity_photo(text, landmarker)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="not an image"):
        load_identity_photo(empty, landmarker)
    wall = _write(tmp_path / "wall.png", np.full((200, 300, 3), 180, np.uint8))
    with pytest.raises(InputError, match="no face found in .*wall.png; choose a photo"):
        load_identity_photo(wall, landmarker)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".bmp"])
def test_formats_and_unicode_path(tmp_path: Path, landmarker: MediaPipeLandmarker,
                                  astronaut: np.ndarray, suffix: str) -> None:
    path = _write(tmp_path / f"фото astronaut é{suffix}", astronaut[:, :, ::-1])
    rgb, face = load_identity_photo(path, landmarker)
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8
    assert abs(float(rgb.astype(int).mean()) - float(astronaut.mean())) < 2
    assert 180 < face.centre[0] < 270


def test_greyscale_and_alpha(tmp_path: Path, landmarker: MediaPipeLandmarker,
                             astronaut: np.ndarray) -> None:
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    rgb, _ = load_identity_photo(_write(tmp_path / "grey.png", grey), landmarker)
    assert rgb.shape == (512, 512, 3)
    assert np.array_equal(rgb[:, :, 0], rgb[:, :, 1])
    bgra = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGRA)
    bgra[:, :40, 3] = 0  # a transparent strip becomes white, not black
    rgb, _ = load_identity_photo(_write(tmp_path / "cutout.png", bgra), landmarker)
    assert rgb.shape == (512, 512, 3) and np.all(rgb[:, :40] == 255)


def test_exif_orientation(tmp_path: Path, landmarker: MediaPipeLandmarker,
                          astronaut: np.ndarray) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    # stored rotated 90 degrees clockwise-for-display: EXIF orientation 6 means "rotate the
    # stored pixels 90 degrees clockwise to show them"
    stored = np.ascontiguousarray(np.rot90(astronaut, k=1))
    img = image_mod.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif, quality=95)
    rgb = read_image(path)
    assert rgb.shape == (512, 512, 3)
    assert np.abs(rgb.astype(int) - astronaut.astype(int)).mean() < 6
    _, face = load_identity_photo(path, landmarker)
    assert face.landmarks[10, 1] < face.landmarks[152, 1]  # upright: forehead above chin


def test_several_faces_take_the_largest(tmp_path: Path, landmarker: MediaPipeLandmarker,
                                        astronaut: np.ndarray,
                                        caplog: pytest.LogCaptureFixture) -> None:
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    canvas = np.full((512, 800, 3), 90, np.uint8)
    canvas[:, :512] = astronaut
    canvas[100:356, 530:786] = small
    path = _write(tmp_path / "two.png", canvas[:, :, ::-1])
    with caplog.at_level(logging.WARNING, logger="swaptalk_desktop.faces.identity"):
        _, face = load_identity_photo(path, landmarker)
    assert face.centre[0] < 512
    assert any("2 faces found" in r.getMessage() and "two.png" in r.getMessage()
               for r in caplog.records)


def test_identity_pairs_separate(shared_data: Path, landmarker: MediaPipeLandmarker,
                                 embedder) -> None:
    folder = shared_data / "id_pairs"
    with open(folder / "pairs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = sorted({r["file_a"] for r in rows} | {r["file_b"] for r in rows})
    emb = {}
    for name in names:
        rgb, face = load_identity_photo(folder / name, landmarker)
        emb[name] = embedder.embed(rgb, face)
    same = np.array([cosine(emb[r["file_a"]], emb[r["file_b"]]) for r in rows
                     if r["same_identity"] == "1"])
    diff = np.array([cosine(emb[r["file_a"]], emb[r["file_b"]]) for r in rows
                     if r["same_identity"] == "0"])
    auc = float((same[:, None] > diff[None, :]).mean() + 0.5 * (same[:, None] == diff).mean())
    print(f"identity pairs: same {same.mean():.3f} (min {same.min():.3f}), "
          f"different {diff.mean():.3f} (max {diff.max():.3f}), AUC {auc:.4f}")
    assert auc > 0.97
    assert same.mean() - diff.mean() > 0.08
