"""Temporal smoothing: removes jitter, keeps motion (no lag), keeps the mouth lively."""

from __future__ import annotations

import numpy as np
import pytest
from faces_helpers import ReplayLandmarker

from swaptalk_desktop.faces import FaceDetection, TargetSpec, track_faces
from swaptalk_desktop.faces.masks import LIPS
from swaptalk_desktop.faces.smoothing import eye_distance, fill_gaps, runs, smooth_landmarks
from swaptalk_desktop.faces.types import bbox_of

T = 150
EYE = 80.0  # eye distance of the synthetic face, px


@pytest.fixture(scope="module")
def face(astronaut_face: FaceDetection) -> np.ndarray:
    lm = astronaut_face.landmarks.astype(np.float64)
    return (lm - lm.mean(axis=0)) / eye_distance(lm) * EYE + 300.0


def _noisy(truth: np.ndarray, seed: int) -> np.ndarray:
    # detector-like noise: a per-frame shift of the whole face plus per-point noise, of the size
    # measured on the shared clips (frame-to-frame jitter 2-3 % of the eye distance)
    rng = np.random.default_rng(seed)
    return (truth + rng.normal(0, 0.007 * EYE, (len(truth), 1, 2))
            + rng.normal(0, 0.01 * EYE, truth.shape))


def _lower_lip(face: np.ndarray) -> list[int]:
    return [i for i in LIPS if face[i, 1] > face[[13, 14], 1].mean()]


def _err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1)[10:-10].mean())


def test_still_face_jitter_is_removed(face: np.ndarray) -> None:
    truth = np.repeat(face[None], T, axis=0)
    noisy = _noisy(truth, 0)
    smooth = smooth_landmarks(noisy)
    assert smooth.dtype == np.float32 and smooth.shape == noisy.shape
    assert _err(smooth, truth) < 0.5 * _err(noisy, truth)


def test_steady_motion_has_no_lag(face: np.ndarray) -> None:
    t = np.arange(T)[:, None, None]
    truth = face[None] + t * np.array([0.08 * EYE, 0.02 * EYE])  # 6.4 px per frame
    smooth = smooth_landmarks(_noisy(truth, 1))
    signed = (smooth - truth)[10:-10, :, 0].mean()
    assert abs(signed) < 0.02 * EYE  # a causal filter would trail by several pixels
    assert _err(smooth, truth) < 0.7 * _err(_noisy(truth, 1), truth)


def test_head_shake_keeps_its_amplitude(face: np.ndarray) -> None:
    t = np.arange(T)
    shift = 0.5 * EYE * np.sin(2 * np.pi * t / 25)  # 1 Hz at 25 fps, +-40 px
    truth = face[None].repeat(T, 0)
    truth[:, :, 0] += shift[:, None]
    smooth = smooth_landmarks(_noisy(truth, 2))
    got = smooth[:, :, 0].mean(axis=1) - face[:, 0].mean()
    assert np.std(got[10:-10]) / np.std(shift[10:-10]) > 0.95


@pytest.mark.parametrize(("period", "min_ratio"), [(10.0, 0.88), (6.25, 0.78)])
def test_mouth_is_not_lagged_or_flattened(face: np.ndarray, period: float,
                                          min_ratio: float) -> None:
    # lips open and close at 2.5 and 4 Hz (25 fps) while the head drifts slowly
    t = np.arange(T)
    lower = _lower_lip(face)
    opening = 0.12 * EYE * (1 + np.sin(2 * np.pi * t / period))
    truth = face[None].repeat(T, 0)
    truth[:, lower, 1] += opening[:, None]
    truth[:, :, 0] += (0.3 * EYE * np.sin(2 * np.pi * t / 60))[:, None]
    smooth = smooth_landmarks(_noisy(truth, 3))
    got = smooth[:, lower, 1].mean(axis=1) - smooth[:, [1, 4], 1].mean(axis=1)
    want = truth[:, lower, 1].mean(axis=1) - truth[:, [1, 4], 1].mean(axis=1)
    g, w = got[10:-10] - got[10:-10].mean(), want[10:-10] - want[10:-10].mean()
    assert np.std(g) / np.std(w) > min_ratio
    lags = [np.corrcoef(np.roll(g, k), w)[0, 1] for k in range(-3, 4)]
    assert int(np.argmax(lags)) - 3 == 0


def test_short_runs_pass_through(face: np.ndarray) -> None:
    two = np.stack([face, face + 3.0]).astype(np.float32)
    assert np.array_equal(smooth_landmarks(two), two)


def test_fill_gaps() -> None:
    values = np.array([[[0.0, 0.0]], [[10.0, 20.0]], [[50.0, 50.0]]])
    out, present = fill_gaps(np.array([12, 16, 30]), values, first=10, stop=33, max_gap=10,
                             hold=2)
    assert present.tolist() == [True] * 7 + [False] * 13 + [True] * 3
    assert np.allclose(out[3:6, 0], [[2.5, 5.0], [5.0, 10.0], [7.5, 15.0]])
    assert np.allclose(out[:2, 0], [0.0, 0.0])  # held back to the shot's start
    assert np.allclose(out[21:, 0], [50.0, 50.0])  # held to the shot's end
    assert np.isnan(out[10]).all()
    out, present = fill_gaps(np.array([15]), values[:1], first=10, stop=25, max_gap=10, hold=2)
    assert present.sum() == 1  # 5 frames to either edge: too far to hold
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert runs(np.zeros(3, bool)) == []


def test_tracking_smooths_but_not_across_a_cut(face: np.ndarray) -> None:
    n = 60
    truth = np.repeat(face[None], n, axis=0).astype(np.float32)
    truth[30:] += np.array([150.0, 40.0], np.float32)  # the face jumps at the cut
    noisy = _noisy(truth, 4).astype(np.float32)
    dets = [[FaceDetection(bbox_of(lm), lm, 0.9)] for lm in noisy]
    # the cut is visible in the pictures: dark first shot, bright second shot
    frames = [(k, np.full((48, 64, 3), 20 if k < 30 else 230, np.uint8)) for k in range(n)]
    track = track_faces(frames, ReplayLandmarker(dets), TargetSpec("largest"))
    assert list(track.cuts) == [30] and track.present.all()
    err = np.linalg.norm(track.landmarks - truth, axis=2).mean(axis=1)
    raw = np.linalg.norm(noisy - truth, axis=2).mean(axis=1)
    assert err[5:25].mean() < 0.6 * raw[5:25].mean()
    # frames next to the cut are not pulled towards the other shot
    assert err[29] < 2.0 and err[30] < 2.0
