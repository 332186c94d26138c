"""The mesh-warp swap: the photo's face on the target's mesh, nothing outside the face touched,
the target's own mouth kept, and (with the MobileFaceNet) the identity moved to the photo's."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from swaptalk_desktop.faces import (
    alignment_matrix,
    load_identity_photo,
    transform_points,
    warp_to_crop,
)
from swaptalk_desktop.faces.masks import FACE_OVAL
from swaptalk_desktop.faces.warp_swap import (
    INNER_LIPS,
    SourceFace,
    destination_mesh,
    piecewise_warp,
    swap_crop,
)

SIZE = 256


def _aligned(rgb, det):
    m = alignment_matrix(det.landmarks, SIZE)
    return warp_to_crop(rgb, m, SIZE), transform_points(det.landmarks, m)


@pytest.fixture(scope="module")
def hopper(landmarker):
    import matplotlib.cbook
    path = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    rgb, det = load_identity_photo(path, landmarker)
    crop, marks = _aligned(rgb, det)
    return rgb, det, SourceFace(crop, marks)


@pytest.fixture(scope="module")
def target(astronaut, astronaut_face):
    return _aligned(astronaut, astronaut_face)


def _inside(points, size=SIZE):
    out = np.zeros((size, size), np.uint8)
    cv2.fillPoly(out, [np.round(points).astype(np.int32)], 1)
    return out.astype(bool)


def test_piecewise_warp_moves_a_triangle_exactly():
    img = np.zeros((64, 64, 3), np.uint8)
    img[10:30, 10:30] = 200
    src = np.array([[0.0, 0.0], [63.0, 0.0], [0.0, 63.0], [63.0, 63.0]])
    dst = src + np.array([5.0, 3.0])
    tris = np.array([[0, 1, 2], [1, 3, 2]], np.int32)
    out, covered = piecewise_warp(img, src, dst, tris, 64)
    # a pure translation: the square lands 5 px right, 3 px down
    assert out[15 + 3, 15 + 5].tolist() == [200, 200, 200]
    assert out[13 + 3, 40].tolist() == [0, 0, 0]
    assert covered[:3].sum() == 0 and covered[10, 10] == 1


def test_only_the_face_changes_and_the_target_keeps_its_mouth(hopper, target):
    crop, marks = target
    out = swap_crop(hopper[2], crop, marks)
    assert out.shape == crop.shape and out.dtype == np.uint8
    oval = _inside(marks[list(FACE_OVAL)])
    # outside the face outline every pixel is the target's own
    assert np.array_equal(out[~oval], crop[~oval])
    diff = np.abs(out.astype(int) - crop.astype(int)).max(axis=-1)
    core = cv2.erode(oval.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
    assert (diff[core] > 20).mean() > 0.5, "the face itself must change"
    mouth = cv2.erode(_inside(marks[list(INNER_LIPS)]).astype(np.uint8),
                      np.ones((5, 5), np.uint8)).astype(bool)
    assert mouth.sum() > 20  # the astronaut smiles with her teeth showing
    assert diff[mouth].mean() < 8, "the mouth opening is the target's teeth, not the photo's lips"


def test_the_face_is_the_photos_pixels_on_the_targets_mesh(hopper, target):
    crop, marks = target
    source = hopper[2]
    out = swap_crop(source, crop, marks, shape_transfer=0.0)
    expected, covered = piecewise_warp(source.crop, source.landmarks[:468], marks[:468],
                                       _triangles(source), SIZE)
    # around the eyes and nose (full weight, far from every fade) the result is the photo's
    # pixels moved onto the target, relit: much closer to them than the target was
    eyes = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillConvexPoly(eyes, np.round(cv2.convexHull(
        marks[[33, 133, 362, 263, 168, 4]].astype(np.float32))).astype(np.int32), 1)
    region = eyes.astype(bool) & covered.astype(bool)
    grey = lambda x: cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(float)  # noqa: E731

    def edges(x):
        g = grey(x)
        return g - cv2.GaussianBlur(g, (0, 0), 3)
    err_out = np.abs(edges(out) - edges(expected))[region].mean()
    err_before = np.abs(edges(crop) - edges(expected))[region].mean()
    assert err_out < err_before / 2, (err_out, err_before)


def _triangles(source):
    from swaptalk_desktop.faces.warp_swap import _mesh_triangles
    return _mesh_triangles(source.landmarks)


def test_the_mesh_keeps_the_targets_lips_and_outline(hopper, target):
    from swaptalk_desktop.faces.masks import LIPS
    _, marks = target
    dst = destination_mesh(hopper[2].landmarks.astype(float), marks.astype(float), 0.5)
    assert np.allclose(dst[list(LIPS)], marks[list(LIPS)])
    assert np.allclose(dst[list(FACE_OVAL)], marks[list(FACE_OVAL)])
    assert not np.allclose(dst[[33, 263, 1]], marks[[33, 263, 1]])


def test_a_photo_crop_of_another_size_is_refused(hopper, target):
    crop, marks = target
    small = SourceFace(cv2.resize(hopper[2].crop, (128, 128)), hopper[2].landmarks / 2)
    with pytest.raises(ValueError, match="128 px"):
        swap_crop(small, crop, marks)


def test_the_identity_moves_to_the_photo(identity_weights, hopper, astronaut, astronaut_face,
                                         landmarker):
    from swaptalk_desktop.faces import face_mask, paste_back
    from swaptalk_desktop.faces.identity_net import MobileFaceNetEmbedder
    embed = MobileFaceNetEmbedder(identity_weights)
    rgb, det, source = hopper
    m = alignment_matrix(astronaut_face.landmarks, SIZE)
    crop, marks = _aligned(astronaut, astronaut_face)
    mask = face_mask(marks, "face", 12.0, crop_size=SIZE)
    result = paste_back(astronaut, swap_crop(source, crop, marks), m, mask)
    found = landmarker.detect(result)
    assert len(found) == 1
    e_photo, e_orig = embed.embed(rgb, det), embed.embed(astronaut, astronaut_face)
    e_res = embed.embed(result, found[0])
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cos(e_res, e_photo) - cos(e_orig, e_photo) >= 0.25
    assert cos(e_res, e_photo) > cos(e_res, e_orig)
