from __future__ import annotations

import numpy as np
import pytest

from swaptalk_desktop.faces import (
    SPLIT_ROW,
    FaceDetection,
    alignment_matrix,
    face_mask,
    transform_points,
)
from swaptalk_desktop.faces.masks import FACE_OVAL, LIPS, polygon_inside


@pytest.fixture(scope="module")
def crop_landmarks(astronaut_face: FaceDetection) -> np.ndarray:
    return transform_points(astronaut_face.landmarks, alignment_matrix(astronaut_face.landmarks))


def _at(mask: np.ndarray, pts: np.ndarray) -> np.ndarray:
    ij = np.round(np.asarray(pts)).astype(int)
    return mask[ij[:, 1], ij[:, 0]]


def test_constants_match_mediapipe() -> None:
    from swaptalk_desktop.faces.landmarker import _import_mediapipe

    conn = _import_mediapipe().solutions.face_mesh_connections
    oval_edges = {frozenset(e) for e in conn.FACEMESH_FACE_OVAL}
    ours = {frozenset((FACE_OVAL[i], FACE_OVAL[(i + 1) % len(FACE_OVAL)]))
            for i in range(len(FACE_OVAL))}
    assert ours == oval_edges
    assert set(LIPS) == {i for e in conn.FACEMESH_LIPS for i in e}


@pytest.mark.parametrize("region", ["face", "lower", "mouth"])
@pytest.mark.parametrize("feather", [0.0, 6.0, 20.0])
def test_zero_on_and_outside_the_face(crop_landmarks: np.ndarray, region: str,
                                      feather: float) -> None:
    mask = face_mask(crop_landmarks, region, feather)
    assert mask.shape == (256, 256) and mask.dtype == np.float32
    assert mask.min() == 0.0 and mask.max() == 1.0
    inside = polygon_inside(crop_landmarks[list(FACE_OVAL)], 256).astype(bool)
    assert np.all(mask[~inside] == 0.0)
    # exactly zero along the polygon's edge (points sampled densely along it)
    poly = crop_landmarks[list(FACE_OVAL)]
    edge = np.concatenate([np.linspace(a, b, 20, endpoint=False)
                           for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True)])
    assert np.all(_at(mask, edge) == 0.0)


def test_feather_goes_inward(crop_landmarks: np.ndarray) -> None:
    hard = face_mask(crop_landmarks, "face", 0.0)
    soft = face_mask(crop_landmarks, "face", 16.0)
    assert np.all(soft <= hard)  # feathering only removes, never spreads
    assert 0 < np.count_nonzero((soft > 0) & (soft < 1))
    # deep inside (the nose) it is fully on
    assert _at(soft, crop_landmarks[[1, 4, 5]]).min() == 1.0


def test_lower_region(crop_landmarks: np.ndarray) -> None:
    lower = face_mask(crop_landmarks, "lower", 8.0)
    face = face_mask(crop_landmarks, "face", 8.0)
    assert np.all(lower <= face)
    # the whole mouth is fully on
    assert _at(lower, crop_landmarks[list(LIPS)]).min() == 1.0
    # the chin is on down to the feather band along the oval's edge
    chin = (crop_landmarks[152] + crop_landmarks[17]) / 2
    assert _at(lower, np.stack([chin, crop_landmarks[199], crop_landmarks[200]])).min() == 1.0
    assert _at(lower, crop_landmarks[[175]])[0] > 0.5
    # eyes and brows are off
    eyes = crop_landmarks[[33, 133, 362, 263, 159, 145, 386, 374, 468, 473, 105, 334]]
    assert _at(lower, eyes).max() == 0.0
    # nothing above the eye line, everything fully on below the lower lip inside the face
    assert lower[: int(crop_landmarks[[145, 374], 1].max()) + 1].max() == 0.0
    assert lower[SPLIT_ROW + 20:].sum() > 0.5 * face[SPLIT_ROW + 20:].sum()


def test_mouth_region_keeps_everything_above_the_upper_lip(crop_landmarks: np.ndarray) -> None:
    mouth = face_mask(crop_landmarks, "mouth", 6.0)
    lower = face_mask(crop_landmarks, "lower", 6.0)
    assert np.all(mouth <= lower)
    # lips, mouth corners and chin replaced (the top of the upper lip is in the feather band)
    lips = _at(mouth, crop_landmarks[list(LIPS)])
    assert lips.min() > 0.5 and np.median(lips) == 1.0
    assert _at(mouth, crop_landmarks[[199, 200]]).min() == 1.0
    # the nose (tip and wings), cheeks by the nose and the eyes are the source's own pixels
    assert _at(mouth, crop_landmarks[[1, 2, 4, 5, 48, 278, 33, 263, 468, 473]]).max() == 0.0
    assert mouth[: int(crop_landmarks[2, 1]) + 1].max() == 0.0


def test_rejects_bad_input(crop_landmarks: np.ndarray) -> None:
    with pytest.raises(ValueError):
        face_mask(crop_landmarks, "chin", 4.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        face_mask(crop_landmarks[:100], "face", 4.0)
    with pytest.raises(ValueError):
        face_mask(np.full((478, 2), np.nan), "face", 4.0)


def test_other_crop_size(crop_landmarks: np.ndarray) -> None:
    mask = face_mask(crop_landmarks * 2 + 0.5, "face", 8.0, crop_size=512)
    assert mask.shape == (512, 512)
    assert mask.sum() > 3.5 * face_mask(crop_landmarks, "face", 4.0).sum()
