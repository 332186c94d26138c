from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from faces_helpers import first_frames, place

from swaptalk_desktop.faces import FaceDetection, FaceLandmarker, MediaPipeLandmarker, read_image


def test_astronaut_face_found(landmarker: MediaPipeLandmarker, astronaut: np.ndarray) -> None:
    faces = landmarker.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (478, 2) and face.landmarks.dtype == np.float32
    assert face.bbox.shape == (4,) and face.bbox.dtype == np.float32
    assert 0.5 < face.score <= 1.0
    # the astronaut's face sits around x 180-270, y 70-180 in the 512x512 image
    x0, y0, x1, y1 = face.bbox
    assert 160 < x0 < 200 and 250 < x1 < 290 and 50 < y0 < 90 and 160 < y1 < 200
    # iris centres (refined points) lie between their eye's corners
    for iris, corners in ((468, (33, 133)), (473, (362, 263))):
        lo, hi = sorted(face.landmarks[list(corners), 0])
        assert lo < face.landmarks[iris, 0] < hi


def test_deterministic(landmarker: MediaPipeLandmarker, astronaut: np.ndarray) -> None:
    a = landmarker.detect(astronaut)
    b = landmarker.detect(astronaut.copy())
    assert np.array_equal(a[0].landmarks, b[0].landmarks) and a[0].score == b[0].score


def test_protocol_and_empty(landmarker: MediaPipeLandmarker) -> None:
    assert isinstance(landmarker, FaceLandmarker)
    assert landmarker.detect(np.full((240, 320, 3), 128, np.uint8)) == []
    with pytest.raises(ValueError):
        landmarker.detect(np.zeros((10, 10), np.uint8))


def test_landmarks_follow_the_face(landmarker: MediaPipeLandmarker, astronaut: np.ndarray,
                                   astronaut_face: FaceDetection) -> None:
    # landmarks are in frame pixels: moving and shrinking the image moves them with it
    frame, m = place(astronaut, 300.0, 150.0, 0.6, size=(720, 1280))
    faces = landmarker.detect(frame)
    assert len(faces) == 1
    expected = astronaut_face.landmarks @ m[:, :2].T + m[:, 2]
    err = np.linalg.norm(faces[0].landmarks - expected, axis=1)
    assert np.median(err) < 2.0


def test_small_face_in_large_frame(landmarker: MediaPipeLandmarker,
                                   astronaut: np.ndarray) -> None:
    # the face is ~35 px wide in a 1920x1080 frame: the mesh's own detector would miss it
    frame, _ = place(astronaut, 1300.0, 400.0, 0.4, size=(1080, 1920))
    faces = landmarker.detect(frame)
    assert len(faces) == 1
    cx, cy = faces[0].centre
    assert 1300 + 0.4 * 180 < cx < 1300 + 0.4 * 270 and 400 + 0.4 * 70 < cy < 400 + 0.4 * 180


def test_two_faces_side_by_side(landmarker: MediaPipeLandmarker, astronaut: np.ndarray) -> None:
    left, _ = place(astronaut, 0, 0, 1.0, size=(512, 1024))
    right, _ = place(astronaut, 560, 100, 0.7, size=(512, 1024))
    frame = np.where(np.arange(1024)[None, :, None] < 512, left, right).astype(np.uint8)
    faces = landmarker.detect(frame)
    assert len(faces) == 2
    xs = sorted(float(f.centre[0]) for f in faces)
    assert xs[0] < 512 < xs[1]


def test_two_people_photo(landmarker: MediaPipeLandmarker, shared_data) -> None:
    rgb = read_image(shared_data / "portraits" / "multi_face" / "facerec_two_people.jpg")
    faces = landmarker.detect(rgb)
    assert len(faces) == 2
    xs = sorted(float(f.centre[0]) for f in faces)
    assert xs[0] < rgb.shape[1] / 2 < xs[1]


def test_first_frame_of_every_talking_clip(landmarker: MediaPipeLandmarker, shared_data) -> None:
    clips = sorted((shared_data / "videos" / "talking").glob("*.mp4"))
    assert clips
    missed = []
    for clip in clips:
        frame = first_frames(clip)[0]
        faces = landmarker.detect(frame)
        if len(faces) != 1:
            missed.append(f"{clip.name}: {len(faces)} faces")
            continue
        # a sane face: several tens of pixels at least, inside the frame
        w = faces[0].bbox[2] - faces[0].bbox[0]
        if not 60 < w < max(frame.shape[:2]):
            missed.append(f"{clip.name}: face width {w}")
    assert not missed, missed


def test_import_is_quiet_and_free_of_qt_and_torch() -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import swaptalk_desktop.faces as f\n"
        "lm = f.default_landmarker()\n"
        "lm.detect(np.zeros((64, 64, 3), np.uint8))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'shiboken6')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
