"""A face swap without a generator: the photo's face drawn onto the target's face mesh.

The photo's inner face (eyes, brows, nose, lips, skin) is cut along MediaPipe's 468-point mesh
and each triangle is moved onto the same triangle of the target frame, so the target's pose and
expression drive it and the pixels are the photo's: identity comes across as sharp as the photo.
The target keeps its own mouth interior (teeth, tongue: the photo shows one closed mouth), its
lighting (the photo's skin is relit by the ratio of the two faces' blurred brightness) and
everything outside the face. Where the two faces' proportions differ, the mesh is moved part of
the way to the photo's (``SHAPE_TRANSFER``), since face shape is part of who someone is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from scipy.spatial import Delaunay

from .masks import FACE_OVAL, LIPS, polygon_inside

MESH_POINTS = 468
"""The face mesh without the iris points (468-477), which sit on top of the eyelid points."""
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81,
              80, 191)
"""The inner lip contour in order: inside it the target's own mouth is kept."""
STABLE_POINTS = (33, 133, 362, 263, 1, 4, 6, 168, 197, 195, 5, 234, 454, 10, 152)
"""Eye corners, nose bridge and tip, cheek edges, forehead and chin: where the photo's mesh is
laid on the target's before its shape is blended in."""
SHAPE_TRANSFER = 0.5
"""How far the target's mesh moves toward the photo's proportions (0: the target's shape)."""
LIGHT_SIGMA = 0.12
"""Blur (share of the crop size) of the brightness ratio that relights the photo's skin: wide
enough to carry shading and not the target's features."""
EDGE_FADE = 0.2
"""Fade inward from the mesh's edge (share of the eye distance): the photo's outline often
holds hair or background."""
FOREHEAD_FADE = 0.35
"""Above the brows the photo fades out over this share of the eye distance: foreheads carry
fringes and hairlines that belong to the photo's hair, not the face."""
MAX_STRETCH = 4.0
"""A photo triangle drawn this many times its area or more is left out (see stretch_weight)."""
MOUTH_FADE = 0.04
"""Fade round the inner lips into the target's own mouth (share of the eye distance)."""
BROWS = (105, 334)
UPPER_LINE = (6, 168)
"""The nose bridge between the eyes: above it the photo's non-skin pixels are left out."""


@dataclass(frozen=True)
class SourceFace:
    """The identity photo as an aligned crop with its crop-space landmarks."""

    crop: np.ndarray
    landmarks: np.ndarray

    def __post_init__(self) -> None:
        if self.crop.ndim != 3 or self.crop.shape[0] != self.crop.shape[1]:
            raise ValueError(f"the photo crop must be square RGB, got {self.crop.shape}")
        if np.asarray(self.landmarks).shape != (478, 2):
            raise ValueError("the photo's landmarks must be (478, 2)")

    @cached_property
    def triangles(self) -> np.ndarray:
        """The photo's mesh triangles (:func:`_mesh_triangles`), once per photo, not per frame."""
        return _mesh_triangles(self.landmarks)

    @cached_property
    def skin(self) -> np.ndarray:
        """``uint8[S, S]`` 0..255: how much each pixel of the photo's crop is face (skin or a
        feature) rather than a fringe, a hand or background over it (:func:`skin_weight`)."""
        return skin_weight(self.crop, self.landmarks)


SKIN_SAMPLES = (50, 280, 205, 425, 4, 195, 101, 330)
"""Cheeks, nose tip and bridge: where a photo shows bare skin."""
FEATURES = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300, 33, 133, 362, 263, 145, 374, 159,
            386, 61, 291, 0, 17, 2, 98, 327)
"""Brows, eyes, nose base and lips: dark or red, yet the face; never counted as not skin."""


def skin_weight(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``uint8[S, S]``: 255 where the photo's pixel looks like its own skin (Lab distance to
    the skin at the cheeks and nose) or lies among its features, falling to 0 for hair,
    glasses frames' shadows, hands and background."""
    size = crop.shape[0]
    lab = cv2.cvtColor(crop.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    marks = np.asarray(landmarks, np.float64)
    eyes = float(np.linalg.norm(marks[263] - marks[33])) or size / 4
    samples = np.zeros((size, size), np.uint8)
    for k in SKIN_SAMPLES:
        cv2.circle(samples, tuple(int(v) for v in np.round(marks[k])),
                   max(2, int(0.08 * eyes)), 1, -1)
    ref = np.median(lab[samples.astype(bool)], axis=0)
    d_light = np.maximum(np.abs(lab[..., 0] - ref[0]) - 18.0, 0.0) / 14.0
    d_colour = np.maximum(np.linalg.norm(lab[..., 1:] - ref[1:], axis=-1) - 10.0, 0.0) / 8.0
    skin = np.exp(-(d_light ** 2 + d_colour ** 2))
    features = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(marks[list(FEATURES)].astype(np.float32))
    cv2.fillConvexPoly(features, np.round(hull).astype(np.int32), 1)
    skin = np.maximum(skin, features.astype(np.float64))
    skin = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), max(1.0, 0.03 * eyes))
    return np.clip(skin * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _mesh_triangles(landmarks: np.ndarray) -> np.ndarray:
    """Delaunay triangles over the mesh points, without those filling the mouth opening."""
    tris = Delaunay(np.asarray(landmarks[:MESH_POINTS], np.float64)).simplices
    inner = np.zeros(MESH_POINTS, bool)
    inner[list(INNER_LIPS)] = True
    return tris[~inner[tris].all(axis=1)].astype(np.int32)


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    m, _ = cv2.estimateAffinePartial2D(src.astype(np.float64), dst.astype(np.float64),
                                       method=cv2.LMEDS)
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) if m is None else m


def destination_mesh(source: np.ndarray, target: np.ndarray,
                     shape_transfer: float = SHAPE_TRANSFER) -> np.ndarray:
    """Where the photo's mesh points go on the target: the target's points moved
    ``shape_transfer`` of the way to the photo's, laid on the target at the stable points.
    The lips and the face outline stay the target's, so the mouth says the target's line and
    the face meets the target's jaw and hair."""
    stable = list(STABLE_POINTS)
    m = _similarity(source[stable], target[stable])
    laid = cv2.transform(np.asarray(source, np.float64)[None], m)[0]
    out = np.asarray(target, np.float64).copy()
    keep = np.zeros(len(out), bool)
    keep[list(FACE_OVAL)] = True
    keep[list(LIPS)] = True
    move = ~keep
    out[move] += shape_transfer * (laid[move] - out[move])
    return out


def _triangle_ids(dst: np.ndarray, tris: np.ndarray, size: int) -> np.ndarray:
    """``int32[S, S]``: the triangle each pixel falls in (-1 outside them all)."""
    ids = np.full((size, size), -1, np.int32)
    shift = 4
    for k, tri in enumerate(tris):
        pts = np.round(dst[tri] * (1 << shift)).astype(np.int32)
        cv2.fillConvexPoly(ids, pts, int(k), lineType=cv2.LINE_8, shift=shift)
    return ids


def _areas(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = (points[tris[:, i]] for i in range(3))
    return 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                        - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def stretch_weight(src: np.ndarray, dst: np.ndarray, tris: np.ndarray,
                   ids: np.ndarray) -> np.ndarray:
    """``float32[S, S]``: 1 where the photo's triangles keep their size, falling to 0 where
    they are stretched ``MAX_STRETCH`` times or more (the far cheek of a turned photo, whose
    few pixels would be smeared across the actor's)."""
    ratio = _areas(dst, tris) / np.maximum(_areas(src, tris), 1e-3)
    t = np.clip((MAX_STRETCH - ratio) / (MAX_STRETCH - 1.0), 0.0, 1.0)
    per_tri = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    out = np.where(ids >= 0, per_tri[np.maximum(ids, 0)], 0.0).astype(np.float32)
    return cv2.GaussianBlur(out, (0, 0), 3.0)


def piecewise_warp(image: np.ndarray, src: np.ndarray, dst: np.ndarray, tris: np.ndarray,
                   size: int, ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``image`` moved triangle by triangle from ``src`` points to ``dst`` points; with the
    ``uint8`` coverage (1 where a triangle landed)."""
    ids = _triangle_ids(dst, tris, size) if ids is None else ids
    # per triangle, the affine from destination pixels back to source pixels
    d = np.concatenate([dst[tris], np.ones((len(tris), 3, 1))], axis=2)      # [K, 3, 3]
    s = src[tris].astype(np.float64)                                          # [K, 3, 2]
    affine = np.linalg.solve(d + np.eye(3) * 1e-9, s)                         # [K, 3, 2]
    covered = ids >= 0
    ys, xs = np.nonzero(covered)
    a = affine[ids[ys, xs]]
    map_x = np.zeros((size, size), np.float32)
    map_y = np.zeros((size, size), np.float32)
    map_x[ys, xs] = xs * a[:, 0, 0] + ys * a[:, 1, 0] + a[:, 2, 0]
    map_y[ys, xs] = xs * a[:, 0, 1] + ys * a[:, 1, 1] + a[:, 2, 1]
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped[~covered] = 0
    return warped, covered.astype(np.uint8)


def _soft(inside: np.ndarray, reach: float) -> np.ndarray:
    """0 on the region's edge pixels and outside it, rising to 1 ``reach`` px inside."""
    depth = np.maximum(cv2.distanceTransform(inside, cv2.DIST_L2, 5) - 1.0, 0.0)
    t = np.clip(depth / max(reach, 1.0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _below_brows(landmarks: np.ndarray, size: int, fade: float,
                 line: tuple[int, ...] = ()) -> np.ndarray:
    """1 below the brows (or the mean of the ``line`` points), fading to 0 ``fade`` px above
    them along the face's up axis."""
    eyes_mid = landmarks[[33, 263]].mean(axis=0)
    up = eyes_mid - landmarks[[61, 291]].mean(axis=0)
    up /= np.linalg.norm(up) or 1.0
    brow = landmarks[list(line or BROWS)].mean(axis=0)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    height = (xs - brow[0]) * up[0] + (ys - brow[1]) * up[1]
    t = np.clip(1.0 - height / max(fade, 1.0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _relight(warped: np.ndarray, target: np.ndarray, weight: np.ndarray,
             sigma: float) -> np.ndarray:
    """The photo's face with the target's colour and low-frequency shading."""
    w = weight[..., None].astype(np.float32)
    eps = 1e-3

    def blur(x):
        return cv2.GaussianBlur(x, (0, 0), sigma)

    wb = blur(weight.astype(np.float32))[..., None] + eps
    mean_w = blur(warped.astype(np.float32) * w) / wb
    mean_t = blur(target.astype(np.float32) * w) / wb
    gain = np.clip((mean_t + 4.0) / (mean_w + 4.0), 0.4, 2.5)
    return np.clip(warped.astype(np.float32) * gain + 0.5, 0, 255).astype(np.uint8)


def swap_crop(source: SourceFace, target_crop: np.ndarray, target_landmarks: np.ndarray,
              *, shape_transfer: float = SHAPE_TRANSFER) -> np.ndarray:
    """The target crop with the photo's face on it (same size, ``uint8``)."""
    size = target_crop.shape[0]
    if source.crop.shape[0] != size:
        raise ValueError(f"photo crop {source.crop.shape[0]} px, target crop {size} px")
    src = np.asarray(source.landmarks, np.float64)
    tgt = np.asarray(target_landmarks, np.float64)
    dst = destination_mesh(src, tgt, shape_transfer)
    tris = source.triangles
    both = np.concatenate([source.crop, source.skin[..., None]], axis=2)
    ids = _triangle_ids(dst[:MESH_POINTS], tris, size)
    moved, covered = piecewise_warp(both, src[:MESH_POINTS], dst[:MESH_POINTS], tris, size, ids)
    stretch = stretch_weight(src[:MESH_POINTS], dst[:MESH_POINTS], tris, ids)
    warped, skin = moved[..., :3].copy(), moved[..., 3].astype(np.float32) / 255.0
    eyes = float(np.linalg.norm(tgt[263] - tgt[33])) or size / 4
    mouth = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mouth, [np.round(tgt[list(INNER_LIPS)]).astype(np.int32)], 1)
    # the face outline bounds it (the triangles also fill the outline's hollows)
    face = polygon_inside(tgt[list(FACE_OVAL)], size) & covered
    weight = _soft(face, EDGE_FADE * eyes) * _soft(1 - mouth, MOUTH_FADE * eyes)
    # only the upper face drops what is not skin: a fringe or a hat brim hides the forehead
    # and brows there, while a beard or a moustache further down is part of who it is
    upper = 1.0 - _below_brows(tgt, size, 0.5 * eyes, line=UPPER_LINE)
    weight *= _below_brows(tgt, size, FOREHEAD_FADE * eyes) * (1.0 - upper * (1.0 - skin))
    weight *= stretch
    lit = _relight(warped, target_crop, (covered > 0).astype(np.float32) * skin,
                   LIGHT_SIGMA * size)
    w = weight[..., None]
    out = w * lit.astype(np.float32) + (1.0 - w) * target_crop.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
