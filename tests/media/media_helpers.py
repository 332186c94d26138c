"""Helpers for the media tests (importable from test modules, unlike conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from swaptalk_desktop.media import AudioClip

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


def _clips(pattern: str) -> list[Path]:
    return sorted(SHARED.glob(pattern)) if SHARED.is_dir() else []


ALL_CLIPS = _clips("videos/*/*.mp4")
TALKING_CLIPS = _clips("videos/talking/*.mp4")
AUDIO_FILES = _clips("audio/*")


def pattern_frames(n: int, height: int = 48, width: int = 64) -> np.ndarray:
    """Moving, colourful, mostly smooth frames: each frame differs and is easy to check."""
    yy, xx = np.mgrid[0:height, 0:width]
    frames = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i, ..., 0] = xx * 255 // max(width - 1, 1)
        frames[i, ..., 1] = yy * 255 // max(height - 1, 1)
        frames[i, ..., 2] = (i * 37) % 256
        x0 = (i * 3) % max(width - 8, 1)
        frames[i, 4:12, x0:x0 + 8] = (250, 250, 250)
    return frames


def tone(seconds: float, rate: int = 48_000, channels: int = 2, freq: float = 440.0,
         amplitude: float = 0.3) -> AudioClip:
    t = np.arange(int(round(seconds * rate))) / rate
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return AudioClip(np.repeat(wave[:, None], channels, axis=1), rate)


def one_line(message: str) -> bool:
    return bool(message) and "\n" not in message
