"""Helpers shared by the engine, CLI and GUI tests (plain functions, not fixtures)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import soundfile as sf

from swaptalk_desktop.eval.synthetic_clip import public_domain_face
from swaptalk_desktop.media import VideoReader, probe_video


def write_speech_like(path: Path, seconds: float, loud: bool = True, rate: int = 16000) -> Path:
    """Syllable-like bursts of broadband sound (3 per second), or digital silence."""
    t = np.arange(int(rate * seconds)) / rate
    bursts = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(t.size).astype(np.float32)
    level = 0.3 if loud else 0.0
    sf.write(path, np.clip(level * bursts * noise, -1, 1), rate)
    return path


def decode_all(path: Path) -> list[np.ndarray]:
    info = probe_video(path)
    with VideoReader(info) as reader:
        return list(reader.read(0, info.frame_count))


def save_png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))


def flipped_face(path: Path) -> Path:
    save_png(path, public_domain_face()[:, ::-1])
    return path
