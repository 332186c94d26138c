"""Data shared by every part of faces/: one detected face and the detector protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

N_LANDMARKS = 478
"""MediaPipe face-mesh topology with the refined iris points 468-477."""


@dataclass(eq=False)
class FaceDetection:
    """One face in one frame, in frame pixels (pixel centres at integer coordinates).

    ``bbox`` is ``(x0, y0, x1, y1)``; ``landmarks`` is ``float32[478, 2]`` (x, y);
    ``score`` is the detector's confidence in 0..1.
    """

    bbox: np.ndarray
    landmarks: np.ndarray
    score: float
    roi: np.ndarray | None = None
    """The box (frame pixels) whose crop the landmarks were found in, when known."""

    def __post_init__(self) -> None:
        self.bbox = np.asarray(self.bbox, dtype=np.float32).reshape(4)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        if self.landmarks.shape != (N_LANDMARKS, 2):
            raise ValueError(f"landmarks must be ({N_LANDMARKS}, 2), got {self.landmarks.shape}")
        self.score = float(self.score)

    @property
    def area(self) -> float:
        return float(max(0.0, self.bbox[2] - self.bbox[0]) * max(0.0, self.bbox[3] - self.bbox[1]))

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2],
                        dtype=np.float32)


@runtime_checkable
class FaceLandmarker(Protocol):
    """Finds every face in an RGB ``uint8[H, W, 3]`` frame; same frame in, same result out."""

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]: ...


def bbox_of(landmarks: np.ndarray) -> np.ndarray:
    """Axis-aligned extent of a landmark set, ``float32[4]``."""
    pts = np.asarray(landmarks, dtype=np.float32)
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)]).astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes."""
    ix = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    iy = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    inter = ix * iy
    area_a = max(0.0, float(a[2] - a[0])) * max(0.0, float(a[3] - a[1]))
    area_b = max(0.0, float(b[2] - b[0])) * max(0.0, float(b[3] - b[1]))
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0
