"""track_faces on synthetic videos made from the astronaut (and real clips where available)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from faces_helpers import ReplayLandmarker, ScriptedLandmarker, first_frames, place

from swaptalk_desktop.core.cancel import CancelToken
from swaptalk_desktop.core.errors import Cancelled
from swaptalk_desktop.faces import (
    FaceDetection,
    FaceTrack,
    MediaPipeLandmarker,
    TargetSpec,
    load_identity_photo,
    read_image,
    track_faces,
    transform_points,
)


def _moving_astronaut(n: int, start: int = 0):
    """Frames of the astronaut drifting right and down while growing; returns (frames, affines)."""
    frames, affines = [], []
    for k in range(n):
        frame, m = place(_ASTRONAUT, 40 + 4.0 * k, 20 + 1.5 * k, 0.8 + 0.006 * k)
        frames.append((start + k, frame))
        affines.append(m)
    return frames, affines


_ASTRONAUT: np.ndarray = np.zeros(0)


@pytest.fixture(autouse=True)
def _astronaut_global(astronaut: np.ndarray) -> None:
    global _ASTRONAUT
    _ASTRONAUT = astronaut


def _truth(face: FaceDetection, affines: list[np.ndarray]) -> np.ndarray:
    return np.stack([transform_points(face.landmarks, m) for m in affines])


def test_follows_a_moving_face(landmarker: MediaPipeLandmarker,
                               astronaut_face: FaceDetection) -> None:
    frames, affines = _moving_astronaut(24, start=100)
    seen = []
    track = track_faces(frames, landmarker, TargetSpec("largest"),
                        progress=lambda done, total: seen.append((done, total)))
    assert track.start == 100 and len(track) == 24 and track.stop == 124
    assert track.present.all() and len(track.cuts) == 0
    assert track.landmarks.dtype == np.float32 and track.landmarks.shape == (24, 478, 2)
    err = np.linalg.norm(track.landmarks - _truth(astronaut_face, affines), axis=2)
    assert np.median(err) < 2.0 and err.mean(axis=1).max() < 3.0
    assert seen == [(k, 24) for k in range(1, 25)]
    box = track.bbox(110)
    assert box is not None and box[0] < track.landmarks[10, 1, 0] < box[2]


def test_fills_short_gaps_and_drops_long_ones(landmarker: MediaPipeLandmarker,
                                              astronaut_face: FaceDetection) -> None:
    frames, affines = _moving_astronaut(40)
    skip = {5, 6, 7} | set(range(15, 30))  # 3 missed frames, then 15 (> max_gap)
    track = track_faces(iter(frames), ScriptedLandmarker(landmarker, skip),
                        TargetSpec("largest"), max_gap=10)
    assert track.present[5:8].all()
    assert not track.present[15:30].any() and track.present[30:].all()
    truth = _truth(astronaut_face, affines)
    # interpolated frames sit on the (linear) motion path
    assert np.median(np.linalg.norm(track.landmarks[5:8] - truth[5:8], axis=2)) < 2.5
    assert np.isnan(track.landmarks[20]).all() and track.landmarks_at(20) is None


def test_holds_at_most_two_frames_at_range_edges(landmarker: MediaPipeLandmarker) -> None:
    frames, _ = _moving_astronaut(20)
    track = track_faces(frames, ScriptedLandmarker(landmarker, {0, 1, 17, 18, 19}),
                        TargetSpec("largest"), hold=2)
    assert track.present[:2].all()
    assert np.allclose(track.landmarks[0], track.landmarks[2], atol=1.0)
    assert not track.present[17:].any()  # three missed frames at the end: too long to hold


def _other_scene(k: int) -> np.ndarray:
    """A different shot: the astronaut, smaller, elsewhere, on a saturated orange backdrop."""
    frame, _ = place(_ASTRONAUT, 300 + 2 * k, 150, 0.55, background=0)
    backdrop = np.zeros_like(frame)
    backdrop[:] = (230, 120, 20)
    empty = np.all(frame == 0, axis=2)
    frame[empty] = backdrop[empty]
    return frame


def test_shot_cut(landmarker: MediaPipeLandmarker) -> None:
    frames, _ = _moving_astronaut(12)
    frames += [(12 + k, _other_scene(k)) for k in range(12)]
    track = track_faces(frames, landmarker, TargetSpec("largest"))
    assert list(track.cuts) == [12]
    assert track.shot_of(5) == (0, 12) and track.shot_of(12) == (12, 24)
    assert track.present.all()  # re-acquired in the new shot
    # nothing smoothed or interpolated across the cut: each side keeps its own position
    raw_a = landmarker.detect(frames[11][1])[0].landmarks
    raw_b = landmarker.detect(frames[12][1])[0].landmarks
    assert np.median(np.linalg.norm(track.landmarks[11] - raw_a, axis=1)) < 1.5
    assert np.median(np.linalg.norm(track.landmarks[12] - raw_b, axis=1)) < 1.5


def test_no_gap_filling_across_a_cut(landmarker: MediaPipeLandmarker) -> None:
    frames, _ = _moving_astronaut(12)
    frames += [(12 + k, _other_scene(k)) for k in range(12)]
    # missed on the 2 frames before and the 2 after the cut: each side is held from its own
    # shot, not interpolated across the cut
    track = track_faces(frames, ScriptedLandmarker(landmarker, {10, 11, 12, 13}),
                        TargetSpec("largest"), hold=2)
    assert list(track.cuts) == [12] and track.present.all()
    assert np.allclose(track.landmarks[11], track.landmarks[9], atol=1.0)
    assert np.allclose(track.landmarks[12], track.landmarks[14], atol=1.0)
    # four missed frames after the cut are more than a hold: absent
    track = track_faces(frames, ScriptedLandmarker(landmarker, {12, 13, 14, 15}),
                        TargetSpec("largest"), hold=2)
    assert not track.present[12:16].any() and track.present[16:].all()


def _pair_frame(k: int, left_scale: float, right_scale: float) -> np.ndarray:
    left, _ = place(_ASTRONAUT, 10 + k, 20, left_scale, size=(480, 960))
    right, _ = place(_ASTRONAUT, 500 - k, 40, right_scale, size=(480, 960))
    return np.where(np.arange(960)[None, :, None] < 480, left, right).astype(np.uint8)


@pytest.mark.parametrize(("target", "side"), [
    (TargetSpec("largest"), "right"),
    (TargetSpec("index", index=0), "left"),
    (TargetSpec("index", index=1), "right"),
])
def test_selection_rules(landmarker: MediaPipeLandmarker, target: TargetSpec,
                         side: str) -> None:
    frames = [(k, _pair_frame(k, 0.6, 0.85)) for k in range(8)]
    track = track_faces(frames, landmarker, target)
    assert track.present.all()
    x = track.landmarks[:, 1, 0].mean()  # nose tip
    assert (x < 480) == (side == "left")


def test_index_beyond_the_faces_is_absent(landmarker: MediaPipeLandmarker) -> None:
    frames = [(k, _pair_frame(k, 0.6, 0.85)) for k in range(4)]
    track = track_faces(frames, landmarker, TargetSpec("index", index=2))
    assert not track.present.any()


class _SideEmbedder:
    """Fake identity: faces on the left are person A, on the right person B."""

    def embed(self, rgb: np.ndarray, detection: FaceDetection) -> np.ndarray:
        e = np.zeros(128, np.float32)
        e[0 if detection.centre[0] < 480 else 1] = 1.0
        return e


def test_reference_selection_with_a_fake_embedder(landmarker: MediaPipeLandmarker) -> None:
    frames = [(k, _pair_frame(k, 0.6, 0.85)) for k in range(6)]
    ref = np.zeros(128, np.float32)
    ref[0] = 1.0
    track = track_faces(frames, landmarker, TargetSpec("reference", reference=ref),
                        embedder=_SideEmbedder())
    assert track.present.all() and track.landmarks[:, 1, 0].max() < 480
    stranger = np.zeros(128, np.float32)
    stranger[5] = 1.0
    track = track_faces(frames, landmarker, TargetSpec("reference", reference=stranger),
                        embedder=_SideEmbedder())
    assert not track.present.any()  # nobody matches: better nothing than the wrong face
    with pytest.raises(ValueError, match="embedder"):
        track_faces(frames, landmarker, TargetSpec("reference", reference=ref))


def test_reference_selection_with_real_people(shared_data: Path,
                                              landmarker: MediaPipeLandmarker,
                                              embedder) -> None:
    photo = read_image(shared_data / "portraits" / "multi_face" / "facerec_two_people.jpg")
    h, w = photo.shape[:2]
    frames = []
    for k in range(6):  # a slow pan over the photo
        m = np.array([[1.0, 0.0, -2.0 * k], [0.0, 1.0, -1.0 * k]])
        frames.append((k, cv2.warpAffine(photo, m, (w, h), borderMode=cv2.BORDER_REPLICATE)))
    for person, expect_left in (("obama_obama2.jpg", True), ("biden_biden2.jpg", False)):
        rgb, face = load_identity_photo(shared_data / "id_pairs" / person, landmarker)
        target = TargetSpec("reference", reference=embedder.embed(rgb, face))
        track = track_faces(frames, landmarker, target, embedder=embedder)
        assert track.present.all(), person
        assert (track.landmarks[:, 1, 0].mean() < w / 2) == expect_left, person


def test_cancel(landmarker: MediaPipeLandmarker) -> None:
    frames, _ = _moving_astronaut(10)
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        track_faces(frames, landmarker, TargetSpec("largest"), progress=progress, cancel=token)


def test_rejects_non_contiguous_frames(landmarker: MediaPipeLandmarker) -> None:
    frames, _ = _moving_astronaut(3)
    with pytest.raises(ValueError, match="contiguous"):
        track_faces([frames[0], frames[2]], landmarker, TargetSpec("largest"))
    with pytest.raises(ValueError):
        track_faces([], landmarker, TargetSpec("largest"))


def test_save_and_load(tmp_path: Path, astronaut_face: FaceDetection) -> None:
    n = 6
    landmarks = np.repeat(astronaut_face.landmarks[None], n, axis=0)
    present = np.array([True, True, False, True, True, True])
    landmarks[~present] = np.nan
    track = FaceTrack(start=42, landmarks=landmarks, present=present, cuts=np.array([45]))
    path = tmp_path / "track.npz"
    track.save(path)
    loaded = FaceTrack.load(path)
    assert loaded.start == 42 and np.array_equal(loaded.present, present)
    assert np.array_equal(loaded.landmarks, landmarks, equal_nan=True)
    assert list(loaded.cuts) == [45] and loaded.shot_of(46) == (45, 48)
    assert loaded.bbox(44) is None and loaded.bbox(43) is not None
    with pytest.raises(IndexError):
        loaded.bbox(48)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    from swaptalk_desktop.core.errors import InputError

    with pytest.raises(InputError, match="junk.npz"):
        FaceTrack.load(junk)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.array([object()], dtype=object))
    with pytest.raises(InputError):
        FaceTrack.load(pickled)


def test_replay_landmarker_sanity(astronaut_face: FaceDetection) -> None:
    # association keeps two crossing-free faces apart frame after frame
    a = astronaut_face
    b = FaceDetection(a.bbox + [300, 0, 300, 0], a.landmarks + [300, 0], 0.9)
    per_frame = [[a, b] if k % 2 else [b, a] for k in range(6)]
    frames = [(k, np.zeros((8, 8, 3), np.uint8)) for k in range(6)]
    track = track_faces(frames, ReplayLandmarker(per_frame), TargetSpec("index", index=1),
                        smooth=False)
    assert np.allclose(track.landmarks, b.landmarks)


def test_real_clips_and_a_spliced_cut(shared_data: Path, landmarker: MediaPipeLandmarker) -> None:
    talking = shared_data / "videos" / "talking"
    a = first_frames(talking / "vr_man_suit.mp4", 20)
    b = first_frames(talking / "may_5s.mp4", 15)
    frames = list(enumerate(a + b))
    track = track_faces(frames, landmarker, TargetSpec("largest"))
    assert list(track.cuts) == [20]
    assert track.present.all()
    # the smoothed track stays on the raw landmarks (no lag, no drift)
    raw = track_faces(frames, landmarker, TargetSpec("largest"), smooth=False).landmarks
    dev = np.linalg.norm(track.landmarks - raw, axis=2).mean(axis=1)
    assert dev.max() < 3.0


class _CountingLandmarker:
    def __init__(self, inner: MediaPipeLandmarker) -> None:
        self.inner, self.detects, self.follows = inner, 0, 0

    def detect(self, rgb):
        self.detects += 1
        return self.inner.detect(rgb)

    def follow(self, rgb, previous):
        self.follows += 1
        return self.inner.follow(rgb, previous)


def test_following_faces_skips_most_detector_passes_and_stays_on_them(
        shared_data: Path, landmarker: MediaPipeLandmarker) -> None:
    talking = shared_data / "videos" / "talking"
    a = first_frames(talking / "vr_man_suit.mp4", 30)
    b = first_frames(talking / "may_5s.mp4", 20)
    frames = list(enumerate(a + b))
    counting = _CountingLandmarker(landmarker)
    followed = track_faces(frames, counting, TargetSpec("largest"), smooth=False)
    # one pass per 8 frames in each shot, and one right at the cut
    assert counting.detects <= 4 + 3 and counting.follows == len(frames) - counting.detects
    assert list(followed.cuts) == [30] and followed.present.all()
    every = track_faces(frames, landmarker, TargetSpec("largest"), smooth=False,
                        redetect_every=1)
    eye = np.linalg.norm(every.landmarks[:, 33] - every.landmarks[:, 263], axis=1)
    dev = np.linalg.norm(followed.landmarks - every.landmarks, axis=2).mean(axis=1) / eye * 256
    # about the mesh's own frame-to-frame noise (which reaches 10 px at eye distance 256 in
    # may_5s's fast moves, detected or followed): no drift away from the face
    assert dev.mean() < 1.6 and dev.max() < 8.0


class _ScoreEmbedder:
    """Fake identity read from the detection's score: 0.91 is person A, anything else B."""

    def embed(self, rgb: np.ndarray, detection: FaceDetection) -> np.ndarray:
        e = np.zeros(128, np.float32)
        e[0 if abs(detection.score - 0.91) < 1e-6 else 1] = 1.0
        return e


def test_face_coming_back_elsewhere_in_the_shot(astronaut_face: FaceDetection) -> None:
    # A is on the left for 10 frames, gone for 15, then back 500 px further right; B stays
    def det(dx: float, score: float) -> FaceDetection:
        return FaceDetection(astronaut_face.bbox + [dx, 0, dx, 0],
                             astronaut_face.landmarks + [dx, 0], score)

    per_frame = ([[det(0, 0.91), det(250, 0.95)] for _ in range(10)]
                 + [[det(250, 0.95)] for _ in range(15)]
                 + [[det(500, 0.91), det(250, 0.95)] for _ in range(10)])
    frames = [(k, np.full((8, 8, 3), 40, np.uint8)) for k in range(35)]
    ref = np.zeros(128, np.float32)
    ref[0] = 1.0
    # by identity, A is followed wherever it comes back
    track = track_faces(frames, ReplayLandmarker(per_frame),
                        TargetSpec("reference", reference=ref), embedder=_ScoreEmbedder(),
                        smooth=False)
    assert track.present.tolist() == [True] * 10 + [False] * 15 + [True] * 10
    assert np.allclose(track.landmarks[30], astronaut_face.landmarks + [500, 0])
    # by position alone, a face far from where A was lost is not assumed to be A
    track = track_faces(frames, ReplayLandmarker(per_frame), TargetSpec("index", index=0),
                        smooth=False)
    assert track.present.tolist() == [True] * 10 + [False] * 25


def test_span_of_a_track_keeps_its_frames_and_inner_cuts() -> None:
    lm = np.random.default_rng(0).random((10, 478, 2)).astype(np.float32)
    present = np.ones(10, bool)
    present[6] = False
    track = FaceTrack(start=20, landmarks=lm, present=present, cuts=np.array([23, 27]))
    part = track.span(22, 28)
    assert (part.start, part.stop) == (22, 28) and list(part.cuts) == [23, 27]
    assert np.array_equal(part.landmarks, lm[2:8]) and not part.present[4]
    assert list(track.span(24, 27).cuts) == []  # a cut at the span's first frame is its start
    with pytest.raises(IndexError):
        track.span(19, 25)
