"""Fixtures for the media tests: real clips by name, the independent ffmpeg, small clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from media_helpers import ALL_CLIPS, TALKING_CLIPS, pattern_frames

from swaptalk_desktop.media import make_test_clip


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One test id per real clip; without the shared data the parameter set is empty and
    # pytest reports the test as skipped.
    for name, clips in (("any_clip", ALL_CLIPS), ("talking_clip", TALKING_CLIPS)):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, clips, ids=[p.stem for p in clips])


@pytest.fixture
def small_clip(tmp_path: Path) -> Callable[..., Path]:
    """Factory for small lossless synthetic clips of :func:`pattern_frames`."""

    def make(n: int = 30, name: str = "clip.mp4", height: int = 48, width: int = 64,
             **kwargs: object) -> Path:
        kwargs.setdefault("crf", 0)
        return make_test_clip(tmp_path / name, pattern_frames(n, height, width), **kwargs)

    return make
