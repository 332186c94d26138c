"""MediaPipe face detection + face mesh, arranged so that small faces in large frames are found.

The face mesh's own detector is the short-range model, which misses faces that are small
relative to the frame (a seated person in a 1080x1920 phone video). So the face detectors run on
the whole frame and on tiles of it (see ``_detect_boxes``), and the mesh (with its refined iris
points) runs on a square crop around each detection, where the face is large again; landmarks
are mapped back to frame pixels. Same frame in, same landmarks out (no state between calls).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from ..core.errors import ModelError
from .types import N_LANDMARKS, FaceDetection, bbox_of, iou

# The C++ side logs through absl/glog straight to fd 2; these only quiet the parts that read them.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_STDERR_LOCK = threading.Lock()
_MIN_TILE = 256
LANDMARK_TO_BOX = 0.97
"""Detector box side over the mesh landmarks' extent, for :meth:`MediaPipeLandmarker.follow`."""
ROI_SLACK = 0.08
"""How far (share of the box side) a followed face may move or grow before its crop moves."""
"""Smallest tile worth a detector pass (the full-range model's input is 192 px)."""


def _is_protobuf_noise(exc: BaseException) -> bool:
    # mediapipe 0.10.21 calls a protobuf API removed in protobuf 5; the failure is harmless
    return isinstance(exc, AttributeError) and "GetPrototype" in str(exc)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence fd 2, mediapipe's deprecation warnings and its protobuf error reports.

    The protobuf error is raised inside a C++ callback and reported through ``sys.excepthook``
    (which test harnesses and GUI frameworks replace to catch real errors), so the hook is
    wrapped to drop only that error.
    """
    previous_hook = sys.excepthook

    def hook(exc_type, exc, tb):  # type: ignore[no-untyped-def]
        if not _is_protobuf_noise(exc):
            previous_hook(exc_type, exc, tb)

    with _STDERR_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sys.excepthook = hook
        try:
            with _redirect_fd2():
                yield
        finally:
            if sys.excepthook is hook:
                sys.excepthook = previous_hook


@contextlib.contextmanager
def _redirect_fd2() -> Iterator[None]:
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (some GUI launchers): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


MEDIAPIPE_FIX = ("from a checkout run bash scripts/setup.sh; otherwise install it into this "
                 "Python with: pip install --no-deps mediapipe==0.10.21 (installer/README.md "
                 "says why --no-deps)")


def _import_mediapipe() -> Any:
    try:
        with _quiet_stderr():
            import mediapipe as mp  # noqa: PLC0415 - heavy, and noisy on import
    except ImportError as err:
        raise ModelError(f"face tracking needs mediapipe 0.10.21 (its face detector and mesh), "
                         f"which does not import ({err}); {MEDIAPIPE_FIX}") from err
    return mp


def _square_crop_matrix(centre: np.ndarray, side: float, size: int) -> np.ndarray:
    """Frame -> crop affine for a square of ``side`` frame pixels centred on ``centre``."""
    s = size / side
    return np.array([[s, 0.0, (size - 1) / 2 - s * centre[0]],
                     [0.0, s, (size - 1) / 2 - s * centre[1]]], dtype=np.float64)


class MediaPipeLandmarker:
    """Face detectors on the frame (and on tiles of it), then the face mesh on a crop around
    each face found.

    ``crop_scale`` is the crop side relative to the detector's box (the box spans brows to chin,
    so 2x holds the whole head); ``mesh_size`` is the crop's pixel size fed to the mesh. Results
    are sorted by score, overlapping faces removed. Not thread-safe per instance; calls are
    serialised with a lock.
    """

    def __init__(self, min_score: float = 0.5, crop_scale: float = 2.0, mesh_size: int = 256,
                 max_faces: int = 8) -> None:
        self.min_score = float(min_score)
        self.crop_scale = float(crop_scale)
        self.mesh_size = int(mesh_size)
        self.max_faces = int(max_faces)
        self._lock = threading.Lock()
        # MediaPipe's graphs print chatter when they start (lazily, on first use) and a one-time
        # warning on the first mesh that finds a face. Silencing fd 2 is process-wide and would
        # hide other threads' messages too, so it is done only until that first face.
        self._noisy = True
        mp = _import_mediapipe()
        with _quiet_stderr():
            self._detectors = [
                mp.solutions.face_detection.FaceDetection(
                    model_selection=model, min_detection_confidence=self.min_score)
                for model in (1, 0)]
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, refine_landmarks=True, max_num_faces=1,
                min_detection_confidence=0.5)
            # graphs start on first use; start them here, where their chatter is silenced
            blank = np.zeros((64, 64, 3), np.uint8)
            for detector in self._detectors:
                detector.process(blank)
            self._mesh.process(blank)

    def close(self) -> None:
        with self._lock:
            for detector in self._detectors:
                detector.close()
            self._mesh.close()

    def __enter__(self) -> MediaPipeLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        rgb = _as_rgb_u8(rgb)
        with self._lock:
            if self._noisy:
                with _quiet_stderr():
                    return self._detect_locked(rgb)
            return self._detect_locked(rgb)

    def follow(self, rgb: np.ndarray, previous: list[FaceDetection]) -> list[FaceDetection] | None:
        """The faces of the previous frame found again by the mesh alone, on a crop around each
        one's landmarks (no detector pass: about a fifth of :meth:`detect`'s cost at 720p).
        None when one of them is lost, and the caller should :meth:`detect` instead."""
        rgb = _as_rgb_u8(rgb)
        with self._lock:
            if self._noisy:
                with _quiet_stderr():
                    return self._follow_locked(rgb, previous)
            return self._follow_locked(rgb, previous)

    def _follow_locked(self, rgb: np.ndarray,
                       previous: list[FaceDetection]) -> list[FaceDetection] | None:
        faces: list[FaceDetection] = []
        for det in previous:
            box = _follow_box(det)
            side = float(box[2] - box[0])
            lm = self._mesh_on_crop(rgb, box) if side >= 4 else None
            if lm is None:
                return None
            found = FaceDetection(bbox=bbox_of(lm), landmarks=lm, score=det.score, roi=box)
            if any(iou(found.bbox, f.bbox) > 0.4 for f in faces):
                return None  # two faces collapsed onto one: let the detector sort them out
            faces.append(found)
        return faces

    def _detect_locked(self, rgb: np.ndarray) -> list[FaceDetection]:
        boxes = self._detect_boxes(rgb)
        faces: list[FaceDetection] = []
        for box, score in boxes:
            lm = self._mesh_on_crop(rgb, box)
            if lm is None:
                continue
            det = FaceDetection(bbox=bbox_of(lm), landmarks=lm, score=score, roi=box)
            # two detector boxes on one face give two meshes of the same face
            if any(iou(det.bbox, f.bbox) > 0.4 for f in faces):
                continue
            faces.append(det)
            if len(faces) >= self.max_faces:
                break
        return faces

    def _detect_boxes(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Face boxes (frame pixels) with scores, best first, overlaps merged.

        The detectors see a 128/192 px letterboxed copy of what they are given, and the
        full-range model needs a face of ~12 px in that copy: a 90 px face in a whole 1920x1080
        frame is 9 px and is missed most of the time. So besides the whole frame (both models:
        the full-range one misses faces that fill the frame, the short-range one small faces),
        the full-range model also runs on overlapping square tiles, whose side is the frame's
        short side (no letterbox waste) and, only if nothing was found yet, half of it.
        """
        h, w = rgb.shape[:2]
        boxes: list[tuple[np.ndarray, float]] = []
        for detector in self._detectors:
            self._add_boxes(boxes, detector, rgb, 0, 0)
        full_range = self._detectors[0]
        side = min(h, w)
        if max(h, w) > 1.25 * side:
            for x0, y0 in _tile_origins(h, w, side):
                self._add_boxes(boxes, full_range, rgb[y0:y0 + side, x0:x0 + side], x0, y0)
        half = side // 2
        if not boxes and half >= _MIN_TILE:
            for x0, y0 in _tile_origins(h, w, half):
                self._add_boxes(boxes, full_range, rgb[y0:y0 + half, x0:x0 + half], x0, y0)
        boxes.sort(key=lambda b: -b[1])
        return boxes

    def _add_boxes(self, boxes: list[tuple[np.ndarray, float]], detector: Any, rgb: np.ndarray,
                   x0: int, y0: int) -> None:
        h, w = rgb.shape[:2]
        result = detector.process(np.ascontiguousarray(rgb))
        for d in result.detections or []:
            rb = d.location_data.relative_bounding_box
            box = np.array([x0 + rb.xmin * w, y0 + rb.ymin * h, x0 + (rb.xmin + rb.width) * w,
                            y0 + (rb.ymin + rb.height) * h], dtype=np.float32)
            if box[2] - box[0] < 4 or box[3] - box[1] < 4:
                continue
            if not any(iou(box, b) > 0.3 for b, _ in boxes):
                boxes.append((box, float(d.score[0])))

    def _mesh_on_crop(self, rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)
        size = max(box[2] - box[0], box[3] - box[1])
        # A crop that also holds a neighbour's face can lock the mesh onto the neighbour; the
        # tighter retry keeps only this face.
        for scale in (self.crop_scale, self.crop_scale * 0.7):
            lm = self._mesh_at(rgb, centre, size * scale)
            if lm is None:
                continue
            lm_centre = (lm.min(axis=0) + lm.max(axis=0)) / 2
            if np.linalg.norm(lm_centre - centre) <= 0.5 * size:
                return lm
        return None

    def _mesh_at(self, rgb: np.ndarray, centre: np.ndarray, side: float) -> np.ndarray | None:
        n = self.mesh_size
        m = _square_crop_matrix(centre, side, n)
        interp = cv2.INTER_AREA if side > n else cv2.INTER_LINEAR
        crop = cv2.warpAffine(rgb, m, (n, n), flags=interp, borderMode=cv2.BORDER_CONSTANT)
        result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        self._noisy = False
        pts = result.multi_face_landmarks[0].landmark
        if len(pts) != N_LANDMARKS:
            return None
        # mediapipe's normalised coordinates span pixel edges; ours put pixel centres on integers
        xy = np.array([(p.x, p.y) for p in pts], dtype=np.float64) * n - 0.5
        inv = cv2.invertAffineTransform(m)
        frame_xy = xy @ inv[:, :2].T + inv[:, 2]
        return frame_xy.astype(np.float32)


def _follow_box(det: FaceDetection) -> np.ndarray:
    """The crop box for following ``det`` into the next frame: its own box while the face
    stays inside it (a still crop keeps the mesh from chasing its own jitter), else a box
    around its landmarks, sized as the detector's is (~0.97x their extent, centred alike;
    measured on the shared talking clips)."""
    lb = bbox_of(det.landmarks)
    side = LANDMARK_TO_BOX * float(max(lb[2] - lb[0], lb[3] - lb[1]))
    centre = np.array([(lb[0] + lb[2]) / 2, (lb[1] + lb[3]) / 2], np.float32)
    if det.roi is not None:
        roi = np.asarray(det.roi, np.float32)
        roi_side = float(roi[2] - roi[0])
        roi_centre = (roi[:2] + roi[2:]) / 2
        if roi_side > 0 and abs(side / roi_side - 1) < ROI_SLACK and \
                float(np.abs(centre - roi_centre).max()) < ROI_SLACK * roi_side:
            return roi
    return np.array([*(centre - side / 2), *(centre + side / 2)], np.float32)


def _tile_origins(h: int, w: int, side: int) -> list[tuple[int, int]]:
    """Top-left corners of square tiles covering the frame, overlapping by at least a third so
    that a face up to a third of a tile wide lies whole inside one of them."""
    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        n = int(np.ceil((length - side) / (side * 2 / 3))) + 1
        return [int(round(v)) for v in np.linspace(0, length - side, n)]
    return [(x, y) for y in starts(h) for x in starts(w)]


def _as_rgb_u8(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


_DEFAULT: MediaPipeLandmarker | None = None
_DEFAULT_LOCK = threading.Lock()


def default_landmarker() -> MediaPipeLandmarker:
    """The shared MediaPipe landmarker (built on first use: it holds three MediaPipe graphs)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MediaPipeLandmarker()
        return _DEFAULT
