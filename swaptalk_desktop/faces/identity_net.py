"""Who a face is, measured by a pretrained MobileFaceNet (128-D, ONNX) instead of dlib.

The network (``mobilefacenet_128d.onnx``: MIT, luisabreu99/Facegate, trained on MS1M) is not
shipped with the application; it lives in ``../shared/weights`` beside the repository (an
installed app looks in its user data folder instead), or where ``SWAPTALK_IDENTITY_WEIGHTS`` or
an explicit path says. Its file is read once, checked against the pinned sha256 and handed to
ONNX Runtime as bytes, so what runs is what was checked.

Faces are aligned to the standard ArcFace 5-point 112x112 template from the MediaPipe mesh.
Training builds a differentiable torch copy of the same graph (``training/identity_teacher.py``)
and shares the pin, the template and the normalisation defined here.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import platformdirs

from ..core.errors import ModelError
from ..inference.providers import create_session, one_line, plan_providers
from .align import similarity_fit
from .types import FaceDetection

EMBEDDING_SIZE = 128
INPUT_SIZE = 112
WEIGHTS_FILE = "mobilefacenet_128d.onnx"
WEIGHTS_SHA256 = "8cba0c9041fefd5a8bcc74b5756856a4fdc7fd4a4b3b330a1adb436ca39c7c8e"
WEIGHTS_ENV = "SWAPTALK_IDENTITY_WEIGHTS"
NAME = "mobilefacenet_128d"

ARCFACE_TEMPLATE_112 = np.array([
    [38.2946, 51.6963],  # eye, image left (the subject's right)
    [73.5318, 51.5014],  # eye, image right
    [56.0252, 71.7366],  # nose tip
    [41.5493, 92.3655],  # mouth corner, image left
    [70.7299, 92.2041],  # mouth corner, image right
], dtype=np.float64)
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# ArcFace templates come from detectors whose eye point is the pupil; the mean of the 16-point
# eye contour sits there too but, unlike the iris landmark, does not follow the gaze.
_EYE_IMAGE_LEFT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
_EYE_IMAGE_RIGHT = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384,
                    398)
_NOSE_TIP = 1
_MOUTH = (61, 291)


def default_weights_path() -> Path:
    """Where the weights are looked for when no path is given (present or not).

    From a checkout (the package two folders below a pyproject.toml):
    ``<repository>/../shared/weights/mobilefacenet_128d.onnx``. Installed (a wheel, the bundle),
    where that folder means nothing: ``weights/`` in the user data folder, where a user may put
    the file."""
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "swaptalk_desktop").is_dir():
        return repo.parent / "shared" / "weights" / WEIGHTS_FILE
    data = platformdirs.user_data_dir("swaptalk-desktop", appauthor=False)
    return Path(data) / "weights" / WEIGHTS_FILE


def find_weights(path: str | Path | None = None) -> Path | None:
    """The weights file to use: ``path``, else ``$SWAPTALK_IDENTITY_WEIGHTS``, else the default.

    None when only the default was consulted and it is absent (callers fall back to dlib or
    ask for a path); a path given explicitly or through the variable must exist.
    """
    for given, origin in ((path, "the given path"), (os.environ.get(WEIGHTS_ENV), WEIGHTS_ENV)):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise ModelError(f"identity network {p} (from {origin}) does not exist; give "
                                 f"the path of {WEIGHTS_FILE}")
            return p
    default = default_weights_path()
    return default if default.is_file() else None


def require_weights(path: str | Path | None = None) -> Path:
    """Like :func:`find_weights`, but a missing file is an error that says where it looked."""
    found = find_weights(path)
    if found is None:
        raise ModelError(f"identity network {WEIGHTS_FILE} not found at "
                         f"{default_weights_path()}; pass its path or set {WEIGHTS_ENV}")
    return found


def read_verified(path: str | Path) -> bytes:
    """The file's bytes after checking them against the pinned sha256."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read identity network {p}: {err.strerror or err}") from err
    actual = hashlib.sha256(data).hexdigest()
    if actual != WEIGHTS_SHA256:
        raise ModelError(f"identity network {p} does not match the pinned sha256 of "
                         f"{WEIGHTS_FILE} (expected {WEIGHTS_SHA256[:12]}…, got "
                         f"{actual[:12]}…); it is another or a damaged file")
    return data


def arcface_points(landmarks: np.ndarray) -> np.ndarray:
    """The template's five points from 478 mesh landmarks, ``float64[5, 2]``."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return np.stack([lm[list(_EYE_IMAGE_LEFT)].mean(axis=0),
                     lm[list(_EYE_IMAGE_RIGHT)].mean(axis=0),
                     lm[_NOSE_TIP], lm[_MOUTH[0]], lm[_MOUTH[1]]])


def arcface_matrix(landmarks: np.ndarray) -> np.ndarray:
    """Frame -> 112 px ArcFace crop similarity transform, ``float64[2, 3]``."""
    pts = arcface_points(landmarks)
    if not np.all(np.isfinite(pts)):
        raise ValueError("landmarks contain NaN (the face is absent in this frame)")
    return similarity_fit(pts, ARCFACE_TEMPLATE_112)


def arcface_crop(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The aligned ``uint8[112, 112, 3]`` crop; black outside the frame, as ArcFace pipelines
    (insightface's ``norm_crop``) fill it."""
    return cv2.warpAffine(np.ascontiguousarray(rgb), arcface_matrix(landmarks),
                          (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def to_input(crops: np.ndarray) -> np.ndarray:
    """``uint8[N, 112, 112, 3]`` RGB crops -> the network's ``float32[N, 3, 112, 112]``."""
    x = np.asarray(crops, dtype=np.float32).reshape(-1, INPUT_SIZE, INPUT_SIZE, 3) / 255.0
    return np.ascontiguousarray(((x - MEAN) / STD).transpose(0, 3, 1, 2))


class MobileFaceNetEmbedder:
    """MobileFaceNet face descriptor with ``FaceEmbedder``'s interface; embeddings are
    L2-normalised ``float32[128]`` (same person ~.94 cosine, different ~.04)."""

    name = NAME

    def __init__(self, weights: str | Path | None = None, provider: str = "cpu") -> None:
        self.path = require_weights(weights)
        data = read_verified(self.path)
        self.sha256 = WEIGHTS_SHA256
        try:
            self._session, _ = create_session(data, plan_providers(provider).providers)
        except Exception as err:  # ORT raises pybind exception types with no common base
            raise ModelError(f"cannot load identity network {self.path}: "
                             f"{one_line(str(err), 300)}") from err
        self._input = self._session.get_inputs()[0].name

    def info(self) -> dict:
        """What measured: recorded beside metrics and in training runs."""
        return {"embedder": self.name, "file": str(self.path), "sha256": self.sha256}

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """``float32[N, 128]`` embeddings of aligned 112 px crops (``arcface_crop``)."""
        x = to_input(crops)
        # the exported graph fixes the batch at 1
        out = np.concatenate([self._session.run(None, {self._input: x[i:i + 1]})[0]
                              for i in range(len(x))]) if len(x) else \
            np.zeros((0, EMBEDDING_SIZE), np.float32)
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norm, 1e-12)).astype(np.float32)

    def embed(self, rgb: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """``float32[128]`` descriptor of the face in ``rgb`` at ``detection``."""
        return self.embed_crops(arcface_crop(rgb, detection.landmarks)[None])[0]


def embedder_info(embedder: object) -> dict:
    """Which embedder a metric came from (dlib's has no ``info``)."""
    info = getattr(embedder, "info", None)
    return info() if callable(info) else {"embedder": "dlib_resnet_v1"}


def best_embedder(weights: str | Path | None = None, provider: str = "cpu"):
    """MobileFaceNet when its weights are found, else dlib's ``IdentityEmbedder``."""
    if find_weights(weights) is not None:
        return MobileFaceNetEmbedder(weights, provider)
    from .identity import IdentityEmbedder  # noqa: PLC0415 - dlib loads slowly; only as fallback
    return IdentityEmbedder()
