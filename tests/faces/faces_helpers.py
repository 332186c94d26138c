"""Synthetic frames and scripted landmarkers shared by the faces/ tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from swaptalk_desktop.faces import FaceDetection


def place(image: np.ndarray, dx: float, dy: float, scale: float = 1.0,
          size: tuple[int, int] = (480, 640),
          background: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """``image`` scaled and moved onto a ``size`` (h, w) canvas; returns (frame, affine)."""
    m = np.array([[scale, 0.0, dx], [0.0, scale, dy]])
    frame = cv2.warpAffine(image, m, (size[1], size[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(background,) * 3)
    return frame, m


def first_frames(path: Path, count: int = 1) -> list[np.ndarray]:
    """The first ``count`` frames of a clip as RGB, decoded with PyAV."""
    av = pytest.importorskip("av")
    out: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) >= count:
                break
    return out


class ScriptedLandmarker:
    """Wraps a landmarker and drops detections on chosen frames (``skip``, by call order)."""

    def __init__(self, inner, skip: set[int] | None = None) -> None:
        self.inner = inner
        self.skip = skip or set()
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        k = self.calls
        self.calls += 1
        return [] if k in self.skip else self.inner.detect(rgb)


class ReplayLandmarker:
    """Returns prepared detections per call, ignoring the image (for exact trajectories)."""

    def __init__(self, per_frame: list[list[FaceDetection]]) -> None:
        self.per_frame = per_frame
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        out = self.per_frame[self.calls]
        self.calls += 1
        return out
