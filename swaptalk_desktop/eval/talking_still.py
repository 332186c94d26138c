"""A still portrait that talks: its jaw and lower lip moved down by a mesh warp, frame by frame.

The demo's sample clip is made from a public-domain still, whose mouth never moves; a lip sync
that picks the actor's own mouths from the clip (engine/mouth_sync.py) would find only one.
Opening the still's mouth by a few levels gives the clip a speaker's range of mouth shapes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..faces.masks import FACE_OVAL
from ..faces.warp_swap import INNER_LIPS, MESH_POINTS, piecewise_warp

LOWER_LIP = (14, 87, 178, 88, 95, 317, 402, 318, 324, 17, 84, 181, 91, 146, 314, 405, 321, 375)
MOUTH_INSIDE = (78, 30, 28)
"""RGB of the open mouth's shadow."""


def _weights(marks: np.ndarray) -> np.ndarray:
    """How much each point follows the jaw: 1 at the lower lip and chin, 0 above the mouth
    corners, fading out toward the ears."""
    corners = marks[[61, 291]].mean(axis=0)
    chin = marks[152]
    down = chin - corners
    depth = float(np.linalg.norm(down)) or 1.0
    down /= depth
    below = ((marks - corners) @ down) / depth
    w = np.clip(below * 1.4, 0.0, 1.0)
    w[list(LOWER_LIP)] = 1.0
    side = np.abs((marks - corners) @ np.array([down[1], -down[0]])) / depth
    return w * np.clip(1.6 - side, 0.0, 1.0)


def talking_faces(face: np.ndarray, levels: int = 6, widest: float = 0.13,
                  landmarker=None) -> list[np.ndarray]:
    """``levels`` copies of ``face`` with the mouth opened from 0 to ``widest`` of the
    mouth-to-chin distance (level 0 is the still itself)."""
    from ..faces import default_landmarker
    found = (landmarker or default_landmarker()).detect(face)
    if not found:
        raise ValueError("no face in the still")
    marks = max(found, key=lambda d: d.area).landmarks.astype(np.float64)[:MESH_POINTS]
    h, w = face.shape[:2]
    centre = marks.mean(axis=0)
    oval = marks[list(FACE_OVAL)]
    ring = centre + 1.35 * (oval - centre)
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], np.float64)
    src = np.concatenate([marks, ring, corners])
    from scipy.spatial import Delaunay
    tris = Delaunay(src).simplices.astype(np.int32)
    inner = np.zeros(len(src), bool)
    inner[list(INNER_LIPS)] = True
    tris = tris[~inner[tris].all(axis=1)]
    weights = np.concatenate([_weights(marks), np.zeros(len(ring) + 4)])
    drop = (marks[152] - marks[[61, 291]].mean(axis=0))
    out = [face.copy()]
    size = max(h, w)
    for k in range(1, levels):
        dst = src + weights[:, None] * drop * (widest * k / (levels - 1))
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[:h, :w] = face
        moved, covered = piecewise_warp(canvas, src, dst, tris, size)
        moved = moved[:h, :w]
        moved[covered[:h, :w] == 0] = face[covered[:h, :w] == 0]
        mouth = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mouth, [np.round(dst[list(INNER_LIPS)]).astype(np.int32)], 1)
        hole = mouth.astype(bool) & ~_closed_mouth(marks, h, w)
        moved[hole] = MOUTH_INSIDE
        out.append(moved)
    return out


def _closed_mouth(marks: np.ndarray, h: int, w: int) -> np.ndarray:
    """The still's own mouth opening (its teeth stay where they are)."""
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(marks[list(INNER_LIPS)]).astype(np.int32)], 1)
    return inside.astype(bool)


def speech_levels(n: int, fps: float, levels: int, seed: int = 0) -> np.ndarray:
    """A level per frame that rises and falls at a syllable rate (3-6 per second)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, np.int64)
    t, i = 0.0, 0
    while i < n:
        length = max(2, int(round(fps / rng.uniform(3.0, 6.0))))
        peak = rng.integers(1, levels)
        for j in range(length):
            if i >= n:
                break
            out[i] = int(round(peak * math.sin(math.pi * (j + 0.5) / length)))
            i += 1
        t += length / fps
    return out
