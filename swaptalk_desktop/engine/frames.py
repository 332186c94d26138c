"""The per-frame path shared by range renders and single-frame previews.

crop (aligned face) -> encode -> swap -> sync -> decode -> generated crop, then compose()
pastes the generated crop back into the frame through a feathered mask.
"""

from __future__ import annotations

import numpy as np

from ..faces import alignment_matrix, face_mask, paste_back, transform_points, warp_to_crop


class FaceProcessor:
    """Runs the latent stages on batches of aligned crops."""

    def __init__(self, runners, *, source_latent: np.ndarray | None, swap: bool, sync: bool):
        if swap and source_latent is None:
            raise ValueError("a swap needs the identity photo's latent")
        self.runners = runners
        self.source_latent = source_latent
        self.swap = swap
        self.sync = sync

    def process(self, crops: np.ndarray, mel: np.ndarray | None) -> np.ndarray:
        latent = self.runners.encode(crops)
        if self.swap:
            latent = self.runners.swap(latent, self.source_latent)
        if self.sync:
            if mel is None:
                raise ValueError("lip sync needs a mel window per frame")
            half = latent.shape[2] // 2
            # The target's own lower half is never shown to the sync stage: the mouth must
            # come from the audio and the reference, or the original lips would leak through.
            upper = np.ascontiguousarray(latent[:, :, :half])
            lower = self.runners.sync(upper, latent, mel)
            latent = np.concatenate([upper, lower], axis=2)
        return self.runners.decode(latent)


def crop_frame(rgb: np.ndarray, landmarks: np.ndarray, crop_size: int) -> np.ndarray:
    return warp_to_crop(rgb, alignment_matrix(landmarks, crop_size), crop_size)


def compose(rgb: np.ndarray, generated: np.ndarray, landmarks: np.ndarray, *, region: str,
            feather: float, strength: float, color_match: bool) -> np.ndarray:
    """Paste a generated crop back over the face it was made from."""
    size = generated.shape[0]
    matrix = alignment_matrix(landmarks, size)
    mask = face_mask(transform_points(landmarks, matrix), region, feather, crop_size=size)
    if strength < 1.0:
        mask = mask * float(np.clip(strength, 0.0, 1.0))
    return paste_back(rgb, generated, matrix, mask, color_match=color_match)
