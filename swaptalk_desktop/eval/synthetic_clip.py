"""Talking-head-like test clips built from a public-domain still (no real footage needed).

The face moves on a slow elliptical path with a little zoom, the way a presenter's head
drifts, so tracking, alignment and paste-back are exercised on every frame.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np


def public_domain_face() -> np.ndarray:
    """NASA's astronaut portrait (public domain), as shipped in scikit-image."""
    from skimage import data
    return data.astronaut()


def moving_face_frames(n: int, width: int, height: int, face: np.ndarray | None = None,
                       face_height: float = 0.6, seed: int = 0, talking: bool = False,
                       fps: float = 25.0) -> np.ndarray:
    """n RGB frames of ``face`` drifting over a soft gradient background; with ``talking``,
    its mouth opens and closes at a syllable rate (eval/talking_still.py)."""
    face = public_domain_face() if face is None else face
    poses, levels = [face], np.zeros(n, np.int64)
    if talking:
        from .talking_still import speech_levels, talking_faces
        poses = talking_faces(face)
        levels = speech_levels(n, fps, len(poses), seed)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([40 + 60 * xx / width, 50 + 40 * yy / height,
                     90 + 30 * (xx + yy) / (width + height)], axis=-1)
    frames = np.empty((n, height, width, 3), np.uint8)
    fh = int(height * face_height)
    fw = int(face.shape[1] * fh / face.shape[0])
    phase = rng.uniform(0, 2 * math.pi)
    for i in range(n):
        t = i / max(n - 1, 1)
        scale = 1.0 + 0.05 * math.sin(2 * math.pi * t + phase)
        w, h = int(fw * scale), int(fh * scale)
        cx = width / 2 + 0.06 * width * math.sin(2 * math.pi * t)
        cy = height / 2 + 0.04 * height * math.cos(2 * math.pi * t)
        patch = cv2.resize(poses[levels[i]], (w, h), interpolation=cv2.INTER_AREA)
        canvas = base.copy()
        x0, y0 = int(cx - w / 2), int(cy - h / 2)
        xs, ys = max(x0, 0), max(y0, 0)
        xe, ye = min(x0 + w, width), min(y0 + h, height)
        canvas[ys:ye, xs:xe] = patch[ys - y0:ye - y0, xs - x0:xe - x0]
        frames[i] = np.clip(canvas, 0, 255).astype(np.uint8)
    return frames


def write_moving_face_clip(path: Path, n: int = 50, width: int = 640, height: int = 360,
                           fps: int = 25, with_audio: bool = True, tone: bool = True,
                           **kwargs) -> Path:
    """An H.264/AAC clip of the moving face; audio is a quiet tone so the clip has a track
    (silence with ``tone=False``: a talking still's tone says nothing about its mouth, and the
    lip sync would learn the actor's voice from it)."""
    from ..media import AudioClip, make_test_clip
    frames = moving_face_frames(n, width, height, fps=fps, **kwargs)
    audio = None
    if with_audio:
        rate = 48000
        t = np.arange(int(rate * n / fps)) / rate
        wave = (0.1 * np.sin(2 * np.pi * 220 * t) if tone else 0 * t).astype(np.float32)
        audio = AudioClip(samples=np.repeat(wave[:, None], 2, axis=1), sample_rate=rate,
                          path=None)
    make_test_clip(path, frames, fps=fps, audio=audio)
    return path
