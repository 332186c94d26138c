"""The per-frame path shared by range renders and single-frame previews.

crop (aligned face) -> encode -> swap -> sync -> decode -> generated crop, then compose()
pastes the generated crop back into the frame through a feathered mask. A mesh-warp swap
(faces/warp_swap.py) replaces encode -> swap -> decode when the edit asks for it and there is
no latent sync to run after it.
"""

from __future__ import annotations

import numpy as np

from ..faces import alignment_matrix, face_mask, paste_back, transform_points, warp_to_crop
from ..faces.warp_swap import SourceFace, swap_crop


class FaceProcessor:
    """Runs the latent stages (or the mesh-warp swap) on batches of aligned crops."""

    def __init__(self, runners, *, source_latent: np.ndarray | None, swap: bool, sync: bool,
                 source_face: SourceFace | None = None):
        self.warp = swap and not sync and source_face is not None
        if swap and not self.warp and source_latent is None:
            raise ValueError("a swap needs the identity photo's latent")
        self.runners = runners
        self.source_latent = source_latent
        self.source_face = source_face
        self.swap = swap
        self.sync = sync
        self.reference: np.ndarray | None = None

    def latent(self, crops: np.ndarray) -> np.ndarray:
        latent = self.runners.encode(crops)
        if self.swap:
            latent = self.runners.swap(latent, self.source_latent)
        return latent

    def set_reference(self, crop: np.ndarray) -> None:
        """The frame whose (swapped) face the sync stage takes texture and identity from."""
        self.reference = self.latent(crop[None])

    def process(self, crops: np.ndarray, mel: np.ndarray | None,
                marks: np.ndarray | None = None) -> np.ndarray:
        """Generated crops; ``marks`` (crop-space landmarks per crop) drive a mesh-warp swap."""
        if self.warp:
            if marks is None:
                raise ValueError("a mesh-warp swap needs each crop's landmarks")
            return np.stack([swap_crop(self.source_face, c, m)
                             for c, m in zip(crops, marks, strict=True)])
        latent = self.latent(crops)
        if self.sync:
            if mel is None:
                raise ValueError("lip sync needs a mel window per frame")
            half = latent.shape[2] // 2
            # The target's own lower half is never shown to the sync stage, and the reference
            # is another frame (see reference_frame): the mouth must come from the audio, or the
            # original lip motion would leak into the new line.
            upper = np.ascontiguousarray(latent[:, :, :half])
            reference = latent if self.reference is None else np.repeat(
                self.reference, len(latent), axis=0)
            lower = self.runners.sync(upper, reference, mel)
            latent = np.concatenate([upper, lower], axis=2)
        return self.runners.decode(latent)


def mouth_opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap relative to the eye distance (MediaPipe points 13/14 and 33/263)."""
    eyes = float(np.linalg.norm(landmarks[263] - landmarks[33])) or 1.0
    return float(np.linalg.norm(landmarks[14] - landmarks[13])) / eyes


def reference_frame(landmarks: np.ndarray, present: np.ndarray, start: int) -> int | None:
    """The frame of a range whose mouth is most closed: the sync stage's reference, so that
    every generated mouth is built from the same neutral face (earliest on a tie)."""
    rows = np.flatnonzero(present)
    if len(rows) == 0:
        return None
    openings = [mouth_opening(landmarks[k]) for k in rows]
    return start + int(rows[int(np.argmin(openings))])


def crop_frame(rgb: np.ndarray, landmarks: np.ndarray, crop_size: int) -> np.ndarray:
    return warp_to_crop(rgb, alignment_matrix(landmarks, crop_size), crop_size)


def crop_marks(landmarks: np.ndarray, crop_size: int) -> np.ndarray:
    """Frame landmarks in the pixels of :func:`crop_frame`'s crop."""
    return transform_points(landmarks, alignment_matrix(landmarks, crop_size))


def compose(rgb: np.ndarray, generated: np.ndarray, landmarks: np.ndarray, *, region: str,
            feather: float, strength: float, color_match: bool) -> np.ndarray:
    """Paste a generated crop back over the face it was made from."""
    size = generated.shape[0]
    matrix = alignment_matrix(landmarks, size)
    mask = face_mask(transform_points(landmarks, matrix), region, feather, crop_size=size)
    if strength < 1.0:
        mask = mask * float(np.clip(strength, 0.0, 1.0))
    return paste_back(rgb, generated, matrix, mask, color_match=color_match)
