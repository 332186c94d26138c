"""The lips stage refitted to one actor from the library's own sound (engine/mouth_sync.py)."""

from __future__ import annotations

import numpy as np

from swaptalk_desktop.engine import mouth_sync
from swaptalk_desktop.faces.mouth_library import LIP_POINTS, lip_shape


class FakeLips:
    """A lips stage that predicts half the real movement; its features carry the opening."""

    def __init__(self, openings: np.ndarray, informative: bool):
        self.openings = openings
        self.informative = informative

    def lips_with_features(self, mel):
        k = mel[:, 0, 0].astype(int)                     # the frame index, smuggled in the mel
        o = self.openings[k]
        base = np.zeros((len(k), 40, 2), np.float32)
        base[:, 20:, 1] = 0.5 * o[:, None]
        rng = np.random.default_rng(len(k))
        feats = rng.normal(size=(len(k), 8)).astype(np.float32)
        if self.informative:
            feats[:, 0] = o
        return base, feats


def _marks(openings: np.ndarray) -> np.ndarray:
    marks = np.zeros((len(openings), 478, 2), np.float32)
    marks[:, 33], marks[:, 263] = (94, 110), (162, 110)
    marks[:, 13], marks[:, 14] = (128, 180), (128, 180)
    marks[:, 14, 1] += openings                         # inner lips: mouth_opening reads them
    lips = np.zeros((len(openings), 40, 2), np.float32)
    lips[:, 20:, 1] = openings[:, None]
    marks[:, LIP_POINTS] = lips - lips.mean(1, keepdims=True) + 150
    return marks


def _mel(n: int) -> np.ndarray:
    return np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None], (n, 80, 32)).copy()


def test_a_refit_learns_how_far_this_actor_opens():
    rng = np.random.default_rng(0)
    openings = np.abs(rng.normal(4, 2, 200)).astype(np.float32)
    openings[0] = 0.0                                   # the closed-mouth reference
    runners, marks = FakeLips(openings, informative=True), _marks(openings)
    actor = mouth_sync.fit_actor(runners, _mel(200), marks)
    assert actor is not None
    truth = lip_shape(marks) - lip_shape(marks[0])[None]
    fitted = mouth_sync.wanted_shapes(runners, _mel(200), marks[0], actor) - lip_shape(marks[0])
    plain = mouth_sync.wanted_shapes(runners, _mel(200), marks[0]) - lip_shape(marks[0])
    err = lambda s: np.linalg.norm(s - truth, axis=-1).mean()  # noqa: E731
    assert err(fitted) < 0.5 * err(plain)


def test_no_refit_when_it_does_not_help_or_the_library_is_short():
    rng = np.random.default_rng(1)
    openings = np.abs(rng.normal(4, 2, 200)).astype(np.float32)
    openings[0] = 0.0
    marks = _marks(openings)
    truth = lip_shape(marks) - lip_shape(marks[0])[None]

    class Exact:
        """Already right once scaled by EXPRESSIVENESS; its features know nothing."""

        def lips_with_features(self, mel):
            k = mel[:, 0, 0].astype(int)
            noise = np.random.default_rng(len(k)).normal(size=(len(k), 8)).astype(np.float32)
            return truth[k] / np.float32(mouth_sync.EXPRESSIVENESS), noise

    assert mouth_sync.fit_actor(Exact(), _mel(200), marks) is None
    short = FakeLips(openings, informative=True)
    n = mouth_sync.ACTOR_FIT_MIN - 1
    assert mouth_sync.fit_actor(short, _mel(n), marks[:n]) is None
