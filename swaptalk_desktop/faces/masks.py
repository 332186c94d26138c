"""Blend masks in crop space: the whole face (swap), the lower face, or the mouth (lip sync only).

Masks are feathered inward: exactly 0 on and outside the boundary, rising to 1 over ``feather``
pixels inside it, so pasting back never touches anything outside the face (hair, background,
a neighbour's face) however soft the edge is.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from .align import TEMPLATE_SIZE

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109)
"""MediaPipe's FACEMESH_FACE_OVAL as an ordered polygon (a test checks it against the edges)."""

LIPS = (0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185,
        191, 267, 269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405,
        409, 415)
"""MediaPipe's FACEMESH_LIPS points (outer and inner lip contours)."""

LOWER_LINE = 0.25
"""Where the "lower" region starts, as a fraction of the way from the eye centres down to the
mouth corners' midpoint. On the shared portraits and clips the lower eyelids sit at 0.03 of the
way (0.17 at most) and the top of the upper lip at 0.88 (0.77 at least), so the line passes
under the eyes through the upper nose, and at the 256 template scale a feather of up to ~35 px
still reaches full strength above the lips."""

MOUTH_LINE = 0.3
"""Where the "mouth" region starts, as a fraction of the way from the base of the nose
(subnasale, landmark 2) down to the top of the upper lip (landmark 0). On the shared portraits
the eye-to-mouth fraction of those two points varies too much (0.58-0.86 and 0.79-1.06) for one
line on that scale, so this one follows the face's own nose and lip: a lip-sync edit leaves the
eyes, cheeks and nose as the source's own pixels and replaces the lips, chin and jaw."""

Region = Literal["face", "lower", "mouth"]

_SHIFT = 4  # fillPoly sub-pixel bits: the polygon keeps the landmarks' fractional positions


def polygon_inside(points: np.ndarray, crop_size: int) -> np.ndarray:
    """``uint8[S, S]``: 1 inside the polygon (its edge pixels included), 0 elsewhere."""
    pts = np.round(np.asarray(points, dtype=np.float64) * (1 << _SHIFT))
    inside = np.zeros((crop_size, crop_size), dtype=np.uint8)
    cv2.fillPoly(inside, [pts.astype(np.int32)], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return inside


def _depth_inside(polygon: np.ndarray, crop_size: int, cap: float | None = None) -> np.ndarray:
    """Distance (px) from each pixel centre inside the polygon to the polygon's edge, less one
    pixel, floored at 0: so every pixel the edge passes through, and everything outside, is 0.

    With ``cap``, pixels certainly deeper than it read ``cap`` and only the band near the edge
    is measured exactly (the feathered mask needs no more, and the band is a small share)."""
    depth = np.zeros((crop_size, crop_size), dtype=np.float32)
    inside = polygon_inside(polygon, crop_size)
    if cap is not None:
        # distance to the nearest outside pixel centre is within ~1.5 px of the distance to
        # the polygon's edge, so 3 px of margin keeps every capped pixel truly deeper
        grid = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        deep = grid >= cap + 3.0
        depth[deep] = cap
        inside = inside & ~deep
    ys, xs = np.nonzero(inside)
    if len(xs) == 0:
        return depth
    px = xs.astype(np.float64)
    py = ys.astype(np.float64)
    nearest2 = np.full(len(xs), np.inf)
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        rx, ry = px - ax, py - ay
        if length2 >= 1e-12:
            t = np.clip((rx * dx + ry * dy) * (1.0 / length2), 0.0, 1.0)
            rx -= t * dx
            ry -= t * dy
        np.minimum(nearest2, rx * rx + ry * ry, out=nearest2)
    nearest = np.sqrt(nearest2)
    depth[ys, xs] = np.maximum(nearest - 1.0, 0.0)
    return depth


def _lower_depth(landmarks: np.ndarray, crop_size: int, region: str = "lower") -> np.ndarray:
    """Signed distance (px) below the line that starts the lower face (or the mouth region),
    less one pixel (as for the polygon edge); <= 0 on and above it."""
    lm = np.asarray(landmarks, dtype=np.float64)
    eye_a = lm[[33, 133]].mean(axis=0)
    eye_b = lm[[362, 263]].mean(axis=0)
    eyes = (eye_a + eye_b) / 2
    mouth = lm[[61, 291]].mean(axis=0)
    if region == "mouth":
        origin = lm[2] + MOUTH_LINE * (lm[0] - lm[2])
    else:
        origin = eyes + LOWER_LINE * (mouth - eyes)
    # the line runs along the eye axis, so a tilted head gets a tilted line
    along = eye_b - eye_a
    normal = np.array([-along[1], along[0]])
    norm = np.hypot(*normal)
    if norm < 1e-6:
        normal, norm = np.array([0.0, 1.0]), 1.0
    normal /= norm
    if normal @ (mouth - eyes) < 0:
        normal = -normal
    ys, xs = np.mgrid[0:crop_size, 0:crop_size].astype(np.float64)
    return ((xs - origin[0]) * normal[0] + (ys - origin[1]) * normal[1] - 1.0).astype(np.float32)


def _ramp(depth: np.ndarray, feather: float) -> np.ndarray:
    if feather <= 0:
        return (depth > 0).astype(np.float32)
    t = np.clip(depth / float(feather), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)  # smoothstep: no visible seam at 0 or 1


def face_mask(landmarks_crop: np.ndarray, region: Region = "face", feather: float = 12.0,
              crop_size: int = TEMPLATE_SIZE) -> np.ndarray:
    """``float32[S, S]`` in 0..1 from the face's landmarks in crop pixels.

    ``"face"``: inside the face oval. ``"lower"``: the part of the face oval below a line just
    under the eyes (parallel to the eye axis), holding the nose tip, mouth, chin and jaw.
    ``"mouth"``: the same below a line between the nose and the upper lip (``MOUTH_LINE``),
    what a lip-sync edit replaces. All are 0 on and outside their boundary and reach 1 at
    ``feather`` px inside it.
    """
    lm = np.asarray(landmarks_crop, dtype=np.float64)
    if lm.shape != (478, 2):
        raise ValueError(f"landmarks_crop must be (478, 2), got {lm.shape}")
    if not np.all(np.isfinite(lm)):
        raise ValueError("landmarks contain NaN (the face is absent in this frame)")
    depth = _depth_inside(lm[list(FACE_OVAL)], crop_size, cap=max(float(feather), 1.0))
    if region == "lower":
        depth = np.minimum(depth, _lower_depth(lm, crop_size))
    elif region == "mouth":
        depth = np.minimum(depth, _lower_depth(lm, crop_size, "mouth"))
    elif region != "face":
        raise ValueError(f"region must be 'face', 'lower' or 'mouth', got {region!r}")
    return _ramp(depth, feather)
