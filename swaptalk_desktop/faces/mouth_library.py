"""A mouth for each frame from the actor's own footage, picked by a predicted lip shape.

The lip-sync stage predicts, from the audio, how the lips should move relative to the range's
closed-mouth reference (a speaker-independent shape, not pixels). This module turns that shape
into pixels without a generator: among the actor's tracked frames outside the edit (the
*library*) it picks, for each output frame, one whose lips have that shape, favouring runs of
consecutive library frames so the mouth moves like footage rather than flickering between
takes, and lines its lower face up with the target frame at the nose and cheeks, where the
lip-sync mask begins. The pixels are the actor's own, so nothing is smeared and teeth and
tongue are real; what the audio decides is which of them are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .masks import LIPS

LIP_POINTS = np.array(sorted(LIPS))
"""The 40 MediaPipe lip landmarks (the same the LMD metric uses)."""
ANCHOR_POINTS = np.array([2, 98, 327, 164, 129, 358, 205, 425, 50, 280, 1, 4])
"""Nose base, nostrils and upper cheeks: still while the mouth moves, next to the mask's top
edge, so a library crop fitted on them meets the target's own pixels without a step."""
CANDIDATES = 24
JUMP_COST = 0.6
"""Cost (in LMD pixels) of showing a library frame that does not follow the previous one."""


def lip_shape(landmarks: np.ndarray) -> np.ndarray:
    """``float32[..., 40, 2]``: the lip landmarks of ``[..., 478, 2]``, mean-centred."""
    lips = np.asarray(landmarks, np.float32)[..., LIP_POINTS, :]
    return lips - lips.mean(axis=-2, keepdims=True)


def shape_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean point distance between lip shapes (the LMD metric), broadcasting."""
    return np.linalg.norm(a - b, axis=-1).mean(axis=-1)


@dataclass(frozen=True)
class MouthLibrary:
    """Tracked frames of the actor: their crop-space landmarks and which frame follows which.

    ``follows[i]`` is the library index of the frame shown right after frame ``i`` in the
    footage (``-1`` at a cut, at the end, or next to a gap), so a run of them plays as shot.
    """

    frames: np.ndarray
    landmarks: np.ndarray
    follows: np.ndarray

    @classmethod
    def from_track(cls, frames: np.ndarray, landmarks: np.ndarray) -> MouthLibrary:
        frames = np.asarray(frames, np.int64)
        order = np.argsort(frames, kind="stable")
        frames, landmarks = frames[order], np.asarray(landmarks, np.float32)[order]
        follows = np.full(len(frames), -1, np.int64)
        if len(frames) > 1:
            step = np.flatnonzero(np.diff(frames) == 1)
            follows[step] = step + 1
        return cls(frames, landmarks, follows)

    def __len__(self) -> int:
        return len(self.frames)

    def shapes(self) -> np.ndarray:
        return lip_shape(self.landmarks)


def choose(library: MouthLibrary, wanted: np.ndarray, *, candidates: int = CANDIDATES,
           jump_cost: float = JUMP_COST) -> np.ndarray:
    """Library indices, one per wanted lip shape ``[T, 40, 2]``: the path that minimises shape
    error plus ``jump_cost`` for each cut between non-consecutive library frames (Viterbi over
    each frame's ``candidates`` nearest shapes)."""
    if len(library) == 0:
        raise ValueError("the mouth library is empty")
    wanted = np.asarray(wanted, np.float32)
    shapes = library.shapes()
    dist = shape_distance(wanted[:, None], shapes[None])            # [T, N]
    k = min(candidates, len(library))
    cand = np.argpartition(dist, k - 1, axis=1)[:, :k]               # [T, k]
    cost = np.take_along_axis(dist, cand, axis=1)
    total = cost[0].copy()
    back = np.zeros(cand.shape, np.int64)
    for t in range(1, len(wanted)):
        follows = library.follows[cand[t - 1]]                       # [k]
        jump = np.where(follows[:, None] == cand[t][None, :], 0.0, jump_cost)
        # staying on the same frame is a freeze, not a cut, but it is not motion either
        jump = np.where(cand[t - 1][:, None] == cand[t][None, :], jump_cost * 0.5, jump)
        step = total[:, None] + jump                                 # [k_prev, k]
        back[t] = np.argmin(step, axis=0)
        total = step[back[t], np.arange(k)] + cost[t]
    path = np.zeros(len(wanted), np.int64)
    j = int(np.argmin(total))
    for t in range(len(wanted) - 1, -1, -1):
        path[t] = cand[t, j]
        j = back[t, j]
    return path


def anchor_fit(source_landmarks: np.ndarray, target_landmarks: np.ndarray) -> np.ndarray:
    """``float64[2, 3]`` similarity taking the source crop onto the target crop at the anchors."""
    src = np.asarray(source_landmarks, np.float64)[ANCHOR_POINTS]
    dst = np.asarray(target_landmarks, np.float64)[ANCHOR_POINTS]
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None:
        m = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        m[:, 2] = (dst - src).mean(axis=0)
    return m


def place(source_crop: np.ndarray, source_landmarks: np.ndarray,
          target_landmarks: np.ndarray) -> np.ndarray:
    """The library crop moved onto the target crop's nose and cheeks (same size, uint8)."""
    size = source_crop.shape[0]
    m = anchor_fit(source_landmarks, target_landmarks)
    return cv2.warpAffine(source_crop, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


MOUTH_MARGIN = 0.18
"""How far the blend reaches past the lips (share of the crop's eye distance): the skin round
the mouth moves with it, the jaw line further out does not have to."""


def mouth_blend_mask(target_landmarks: np.ndarray, source_landmarks: np.ndarray,
                     size: int) -> np.ndarray:
    """``float32[S, S]``: 1 over both frames' lips and the skin round them, fading to 0."""
    t = np.asarray(target_landmarks, np.float64)
    s = np.asarray(source_landmarks, np.float64)
    eyes = float(np.linalg.norm(t[263] - t[33])) or size / 4
    hull = cv2.convexHull(np.concatenate([t[LIP_POINTS], s[LIP_POINTS]]).astype(np.float32))
    inside = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(inside, np.round(hull).astype(np.int32), 1)
    reach = max(2.0, MOUTH_MARGIN * eyes)
    outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    t01 = np.clip(1.0 - outside / reach, 0.0, 1.0)
    return (t01 * t01 * (3.0 - 2.0 * t01)).astype(np.float32)


def blend_mouth(target_crop: np.ndarray, target_landmarks: np.ndarray, source_crop: np.ndarray,
                source_landmarks: np.ndarray) -> np.ndarray:
    """The target crop with the source's mouth placed on it and blended in round the lips."""
    size = target_crop.shape[0]
    m = anchor_fit(source_landmarks, target_landmarks)
    placed = cv2.warpAffine(source_crop, m, (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    moved = cv2.transform(np.asarray(source_landmarks, np.float64)[None], m)[0]
    w = mouth_blend_mask(target_landmarks, moved, size)[..., None]
    out = w * placed.astype(np.float32) + (1.0 - w) * target_crop.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def blended_landmarks(target_landmarks: np.ndarray, source_landmarks: np.ndarray,
                      size: int) -> np.ndarray:
    """The landmarks of :func:`blend_mouth`'s result: the source's placed points where the
    blend shows the source (its lips), the target's where it keeps the target, mixed between."""
    t = np.asarray(target_landmarks, np.float64)
    m = anchor_fit(source_landmarks, target_landmarks)
    moved = cv2.transform(np.asarray(source_landmarks, np.float64)[None], m)[0]
    w = mouth_blend_mask(t, moved, size)
    xy = np.clip(np.round(t).astype(np.int64), 0, size - 1)
    weight = w[xy[:, 1], xy[:, 0]].astype(np.float64)[:, None]
    return (weight * moved + (1.0 - weight) * t).astype(np.float32)
