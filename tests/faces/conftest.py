"""Fixtures for faces/ tests: the MediaPipe landmarker, the astronaut, synthetic videos.

Real media comes from the ``shared_data`` fixture in tests/conftest.py (``<repo>/../shared/data``,
read only, never copied); tests that need it skip where it is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaptalk_desktop.faces import FaceDetection, MediaPipeLandmarker


@pytest.fixture(scope="session")
def landmarker() -> MediaPipeLandmarker:
    return MediaPipeLandmarker()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    skdata = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(skdata.astronaut())


@pytest.fixture(scope="session")
def astronaut_face(landmarker: MediaPipeLandmarker, astronaut: np.ndarray) -> FaceDetection:
    faces = landmarker.detect(astronaut)
    assert len(faces) == 1
    return faces[0]


@pytest.fixture(scope="session")
def embedder():
    """The dlib identity embedder (imported here: loading dlib takes a moment)."""
    from swaptalk_desktop.faces import IdentityEmbedder

    return IdentityEmbedder()
