from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from faces_helpers import place

from swaptalk_desktop.faces import (
    FaceDetection,
    MediaPipeLandmarker,
    alignment_matrix,
    color_match,
    face_mask,
    invert,
    paste_back,
    transform_points,
    warp_to_crop,
)
from swaptalk_desktop.faces.masks import FACE_OVAL


def _footprint(landmarks: np.ndarray, shape: tuple[int, ...], grow: int) -> np.ndarray:
    """The face polygon in the frame, grown by ``grow`` px."""
    inside = np.zeros(shape[:2], np.uint8)
    pts = np.round(landmarks[list(FACE_OVAL)] * 16).astype(np.int32)
    cv2.fillPoly(inside, [pts], 1, shift=4)
    if grow:
        inside = cv2.dilate(inside, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return inside.astype(bool)


@pytest.mark.parametrize("region", ["face", "lower"])
@pytest.mark.parametrize("match", [True, False])
def test_solid_crop_changes_only_the_face(astronaut: np.ndarray, astronaut_face: FaceDetection,
                                          region: str, match: bool) -> None:
    m = alignment_matrix(astronaut_face.landmarks)
    crop = np.zeros((256, 256, 3), np.uint8)
    crop[:] = (0, 255, 0)
    mask = face_mask(transform_points(astronaut_face.landmarks, m), region, 10.0)
    before = astronaut.copy()
    out = paste_back(astronaut, crop, m, mask, color_match=match)
    assert np.array_equal(astronaut, before)  # the input is not modified
    assert out.shape == astronaut.shape and out.dtype == np.uint8 and out is not astronaut
    changed = np.any(out != astronaut, axis=2)
    assert changed.sum() > 1000
    # every changed pixel lies in the face polygon mapped to the frame (1 px for resampling)
    assert not np.any(changed & ~_footprint(astronaut_face.landmarks, astronaut.shape, 1))
    # and over the astronaut's face
    x0, y0, x1, y1 = astronaut_face.bbox
    ys, xs = np.nonzero(changed)
    assert x0 - 1 <= xs.min() and xs.max() <= x1 + 1 and y0 - 1 <= ys.min() <= ys.max() <= y1 + 1
    if region == "lower":
        eye_y = astronaut_face.landmarks[[145, 374], 1].max()
        assert ys.min() > eye_y
    if not match:  # fully covered pixels take the crop's colour
        assert np.any(np.all(out == (0, 255, 0), axis=2))


def test_unchanged_where_the_warped_mask_is_zero(astronaut: np.ndarray,
                                                 astronaut_face: FaceDetection) -> None:
    rng = np.random.default_rng(3)
    m = alignment_matrix(astronaut_face.landmarks)
    crop = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    mask = face_mask(transform_points(astronaut_face.landmarks, m), "face", 0.0)
    out = paste_back(astronaut, crop, m, mask, color_match=False)
    warped = cv2.warpAffine(mask, invert(m), (512, 512), flags=cv2.INTER_LINEAR)
    zero = warped == 0
    assert np.array_equal(out[zero], astronaut[zero])


def test_empty_mask_and_off_frame(astronaut: np.ndarray, astronaut_face: FaceDetection) -> None:
    m = alignment_matrix(astronaut_face.landmarks)
    crop = np.zeros((256, 256, 3), np.uint8)
    assert np.array_equal(paste_back(astronaut, crop, m, np.zeros((256, 256), np.float32)),
                          astronaut)
    away = m.copy()
    away[:, 2] += 5000.0  # the face would land far outside the frame
    mask = np.ones((256, 256), np.float32)
    assert np.array_equal(paste_back(astronaut, crop, away, mask), astronaut)


def test_round_trip_is_nearly_lossless(astronaut: np.ndarray,
                                       astronaut_face: FaceDetection) -> None:
    # pasting the frame's own crop back changes almost nothing (resampling only)
    m = alignment_matrix(astronaut_face.landmarks)
    crop = warp_to_crop(astronaut, m, 256)
    mask = face_mask(transform_points(astronaut_face.landmarks, m), "face", 8.0)
    out = paste_back(astronaut, crop, m, mask, color_match=True)
    diff = np.abs(out.astype(int) - astronaut.astype(int))
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) < 40


def test_color_match_removes_a_cast(astronaut: np.ndarray, astronaut_face: FaceDetection) -> None:
    m = alignment_matrix(astronaut_face.landmarks)
    original = warp_to_crop(astronaut, m, 256)
    mask = face_mask(transform_points(astronaut_face.landmarks, m), "face", 8.0)
    cast = np.clip(original.astype(int) * [0.8, 1.0, 1.15] + [25, -10, 0], 0, 255)
    cast = cast.astype(np.uint8)
    fixed = color_match(cast, original, mask)
    inside = mask > 0.5
    before = np.abs(cast[inside].astype(int) - original[inside]).mean()
    after = np.abs(fixed[inside].astype(int) - original[inside]).mean()
    assert after < 0.25 * before, (before, after)
    mean_gap = np.abs(fixed[inside].mean(0) - original[inside].mean(0))
    assert np.all(mean_gap < 3.0)


def test_speed_on_a_1080x1920_frame(landmarker: MediaPipeLandmarker,
                                    astronaut: np.ndarray) -> None:
    frame, _ = place(astronaut, 300.0, 700.0, 1.0, size=(1920, 1080))
    faces = landmarker.detect(frame)
    assert len(faces) == 1
    m = alignment_matrix(faces[0].landmarks)
    crop = np.full((256, 256, 3), 127, np.uint8)
    mask = face_mask(transform_points(faces[0].landmarks, m), "face", 12.0)
    paste_back(frame, crop, m, mask)
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        out = paste_back(frame, crop, m, mask)
        runs.append(time.perf_counter() - t0)
    ms = 1000 * min(runs)
    print(f"paste_back on 1080x1920, color_match on: {ms:.1f} ms")
    changed = np.any(out != frame, axis=2)
    ys, xs = np.nonzero(changed)
    assert xs.min() >= 300 and ys.min() >= 700
    assert ms < 60.0  # only the face's box is touched (a whole-frame warp is several times more)
