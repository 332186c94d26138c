"""Picking and placing the actor's own mouth by lip shape (faces/mouth_library.py)."""

from __future__ import annotations

import numpy as np
import pytest

from swaptalk_desktop.faces import mouth_library as ml
from swaptalk_desktop.faces.masks import LIPS


def _marks(opening: float, shift=(0.0, 0.0)) -> np.ndarray:
    """478 crop-space points of a template face whose lower lip drops by ``opening`` px."""
    rng = np.random.default_rng(0)
    lm = rng.uniform(60, 200, (478, 2))
    lm[33], lm[263] = (94, 110), (162, 110)            # eyes 68 px apart, as the template
    lips = np.array(sorted(LIPS))
    angle = np.linspace(0, 2 * np.pi, len(lips), endpoint=False)
    lm[lips] = np.stack([128 + 24 * np.cos(angle), 180 + 6 * np.sin(angle)], 1)
    lower = lm[lips][:, 1] > 180
    lm[lips[lower], 1] += opening
    return (lm + np.array(shift)).astype(np.float32)


def _library(openings, frames=None) -> ml.MouthLibrary:
    frames = np.arange(len(openings)) if frames is None else np.asarray(frames)
    return ml.MouthLibrary.from_track(frames, np.stack([_marks(o) for o in openings]))


def test_consecutive_frames_follow_each_other_and_gaps_break_the_run():
    lib = _library([0, 1, 2, 3], frames=[10, 11, 13, 14])
    assert lib.follows.tolist() == [1, -1, 3, -1]


def test_choose_finds_the_library_frame_with_the_wanted_shape():
    lib = _library([0, 4, 8, 12, 16, 2, 6])
    wanted = ml.lip_shape(np.stack([_marks(o) for o in (12, 0, 6)]))
    assert ml.choose(lib, wanted, jump_cost=0.0).tolist() == [3, 0, 6]


def test_choose_prefers_a_run_of_footage_over_an_equally_good_jump():
    # frames 0..3 open steadily; frame 4 is a near-copy of frame 2 from elsewhere
    lib = _library([0, 2, 4, 6, 4.05], frames=[0, 1, 2, 3, 50])
    wanted = ml.lip_shape(np.stack([_marks(o) for o in (2, 4.04, 6)]))
    assert ml.choose(lib, wanted, jump_cost=0.0).tolist() == [1, 4, 3]
    assert ml.choose(lib, wanted, jump_cost=0.5).tolist() == [1, 2, 3]


def test_choose_refuses_an_empty_library():
    with pytest.raises(ValueError, match="empty"):
        ml.choose(ml.MouthLibrary.from_track(np.zeros(0, int), np.zeros((0, 478, 2))),
                  np.zeros((2, 40, 2)))


def test_blend_changes_the_mouth_and_leaves_the_eyes_and_jaw_line():
    target = np.full((256, 256, 3), 100, np.uint8)
    source = np.full((256, 256, 3), 200, np.uint8)
    t_marks, s_marks = _marks(2), _marks(10, shift=(3, -2))
    out = ml.blend_mouth(target, t_marks, source, s_marks).astype(int)
    assert out[182, 128].tolist() == [200, 200, 200]          # on the lips: the source's mouth
    assert (out[:140] == 100).all()                            # eyes and nose: the target's own
    assert (out[:, :80] == 100).all() and (out[:, 180:] == 100).all()  # the jaw's sides
    assert ((out > 100) & (out < 200)).any()                   # and a soft edge between


def test_place_lines_the_source_up_at_the_nose_and_cheeks():
    source = np.zeros((256, 256, 3), np.uint8)
    marks = _marks(0)
    x, y = np.round(marks[2]).astype(int)
    source[y - 2:y + 3, x - 2:x + 3] = 255
    moved = ml.place(source, marks, marks + np.float32([7, -5]))
    assert moved[y - 5, x + 7].min() == 255 and moved[y, x].max() == 0
