"""The demo's talking still: the astronaut's mouth opens level by level, and nothing above her
mouth moves."""

from __future__ import annotations

import numpy as np

from swaptalk_desktop.engine.frames import mouth_opening
from swaptalk_desktop.eval.synthetic_clip import public_domain_face
from swaptalk_desktop.eval.talking_still import speech_levels, talking_faces
from swaptalk_desktop.faces import default_landmarker


def test_the_mouth_opens_with_the_level_and_only_below_the_nose():
    face = public_domain_face()
    landmarker = default_landmarker()
    poses = talking_faces(face, landmarker=landmarker)
    assert np.array_equal(poses[0], face)
    nose_y = int(landmarker.detect(face)[0].landmarks[2, 1])
    openings = []
    for pose in poses:
        openings.append(mouth_opening(landmarker.detect(pose)[0].landmarks))
        assert np.abs(pose[:nose_y - 5].astype(int) - face[:nose_y - 5].astype(int)).max() <= 1
    # the detector reads the widest levels a little short (the fake mouth is one dark colour)
    assert all(b > a for a, b in zip(openings[:5], openings[1:5], strict=False)), openings
    assert min(openings[1:]) > openings[0] and max(openings) > 1.5 * openings[0], openings


def test_speech_levels_rise_and_fall_at_a_syllable_rate():
    levels = speech_levels(250, 25.0, 6, seed=3)
    assert levels.min() == 0 and 3 <= levels.max() <= 5
    closings = np.sum((levels[1:] == 0) & (levels[:-1] > 0))
    assert 20 <= closings <= 65, closings  # 3-6 syllables a second over 10 s
