"""Who a face is: dlib's 128-D face embedding, and loading the user's identity photo."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError, ModelError
from .image_io import read_image
from .types import FaceDetection, FaceLandmarker

log = logging.getLogger(__name__)

EMBEDDING_SIZE = 128

RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
MODEL_SHA256 = {
    RECOGNITION_MODEL: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    SHAPE_MODEL: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
}
"""Pinned from face_recognition_models 0.3.0; dlib deserialises these files without checks."""


def _models_dir() -> Path:
    # the package's __init__ imports pkg_resources (gone from new setuptools), so only locate it
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("face_recognition_models is not installed; reinstall SwapTalk Desktop")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def verified_model_path(name: str, models_dir: Path | None = None) -> Path:
    """Path of a dlib model file after checking its sha256 against the pinned value."""
    path = (models_dir or _models_dir()) / name
    if not path.is_file():
        raise ModelError(f"model file {path} is missing; reinstall face_recognition_models")
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256[name]:
        raise ModelError(f"model file {path} does not match its pinned sha256; it may be damaged "
                         "or replaced, reinstall face_recognition_models")
    return path


def dlib_box(detection: FaceDetection) -> tuple[int, int, int, int]:
    """A square box placed the way dlib's own face detector places it, from the landmarks.

    The 5-point predictor and the embedding network were trained on dlib detector boxes, which
    sit lower and tighter than the mesh's extent (forehead to chin). Measured on the shared
    portraits: centre = eye midpoint + 0.47 x (eye-to-mouth vector), side = 2.35 x its length.
    """
    lm = detection.landmarks.astype(np.float64)
    eyes = ((lm[33] + lm[133]) / 2 + (lm[362] + lm[263]) / 2) / 2
    mouth = (lm[61] + lm[291]) / 2
    down = mouth - eyes
    length = float(np.hypot(*down))
    if not np.isfinite(length) or length < 1.0:
        b = detection.bbox
        return int(b[0]), int(b[1]), int(np.ceil(b[2])), int(np.ceil(b[3]))
    centre = eyes + 0.47 * down
    half = 1.175 * length
    return (int(round(centre[0] - half)), int(round(centre[1] - half)),
            int(round(centre[0] + half)), int(round(centre[1] + half)))


class IdentityEmbedder:
    """dlib ResNet face descriptor (128-D, trained so that one person's faces lie close)."""

    def __init__(self, models_dir: Path | None = None, jitter: int = 0) -> None:
        import dlib  # noqa: PLC0415 - loading takes a moment; only when identity is needed

        rec_path = verified_model_path(RECOGNITION_MODEL, models_dir)
        shape_path = verified_model_path(SHAPE_MODEL, models_dir)
        self._dlib: Any = dlib
        self._shape = dlib.shape_predictor(str(shape_path))
        self._net = dlib.face_recognition_model_v1(str(rec_path))
        self._jitter = int(jitter)
        self._lock = threading.Lock()

    def embed(self, rgb: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """``float32[128]`` descriptor of the face in ``rgb`` at ``detection``."""
        img = np.ascontiguousarray(rgb, dtype=np.uint8)
        x0, y0, x1, y1 = dlib_box(detection)
        rect = self._dlib.rectangle(x0, y0, x1, y1)
        with self._lock:  # dlib's network object is not safe to share between threads
            shape = self._shape(img, rect)
            desc = self._net.compute_face_descriptor(img, shape, self._jitter)
        return np.asarray(desc, dtype=np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (1 = same direction)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / denom) if denom > 0 else 0.0


def load_identity_photo(path: str | Path,
                        landmarker: FaceLandmarker) -> tuple[np.ndarray, FaceDetection]:
    """Read an identity photo and find its face; the largest one if there are several."""
    path = Path(path)
    rgb = read_image(path)
    faces = landmarker.detect(rgb)
    if not faces:
        raise InputError(f"no face found in {path}; "
                         "choose a photo where the face is clearly visible")
    face = max(faces, key=lambda f: f.area)
    if len(faces) > 1:
        log.warning("%d faces found in %s; using the largest", len(faces), path)
    return rgb, face
