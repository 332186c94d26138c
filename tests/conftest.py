"""Fixtures shared by every test package."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

# Real media lives beside the repository and is never copied into it (see its README.md).
SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``<repo>/../shared/data``, or skip the test where that folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture
def ffmpeg_decodes_cleanly(ffmpeg_exe: str) -> Callable[[Path], None]:
    """Assert that the independent ffmpeg decodes a file completely without a message."""

    def check(path: Path) -> None:
        result = subprocess.run([ffmpeg_exe, "-v", "error", "-i", str(path), "-f", "null", "-"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip() == ""

    return check
