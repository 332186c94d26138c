"""The work done off the GUI thread for the lanes: placing waveform peaks and making pictures."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtGui import QImage

from ...app.timeline_model import FrameClock
from .media_items import Envelope

log = logging.getLogger(__name__)

Thumbs = Callable[[list[int], int], Sequence[np.ndarray]]
"""``thumbs(frames, height) -> RGB uint8 pictures`` (e.g. media.thumbnail_strip bound to a clip)."""


def envelope_window(pyramid, t0: float, t1: float, pixels: int, origin_s: float,
                    clock: FrameClock) -> Envelope:
    """Peaks of ``[t0, t1)`` seconds of ``pyramid`` placed in frames, its time 0 being
    ``origin_s`` on the clip's clock."""
    times, mins, maxs = pyramid.window(t0, t1, pixels)
    times = np.asarray(times, np.float64)
    if len(times) == 0:
        empty = np.zeros(0, np.float32)
        return Envelope(np.zeros(1), empty, empty, float(clock.frames(origin_s)))
    span = times[1] - times[0] if len(times) > 1 else max(t1 - t0, 1e-3)
    ends = np.append(times, times[-1] + span) + origin_s
    return Envelope(np.asarray(clock.frames(ends), np.float64),
                    np.clip(np.asarray(mins, np.float32), -1, 1),
                    np.clip(np.asarray(maxs, np.float32), -1, 1),
                    float(clock.frames(origin_s)))


def to_qimage(picture: np.ndarray) -> QImage:
    """A QImage that owns a copy of an RGB, RGBA or grey uint8 array."""
    a = np.ascontiguousarray(picture)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif a.shape[2] == 4:
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        a = np.ascontiguousarray(a[..., :3])
        fmt, channels = QImage.Format.Format_RGB888, 3
    h, w = a.shape[:2]
    return QImage(a.data, w, h, w * channels, fmt).copy()


def thumbnail_images(thumbs: Thumbs, frames: list[int],
                     height: int) -> tuple[list[int], list[QImage], list[int]]:
    """``(frames, images, failed frames)``; a failing batch is reported, never raised, so the
    lane stops asking for pictures it cannot get."""
    try:
        pictures = list(thumbs(list(frames), height))
        return list(frames), [to_qimage(p) for p in pictures], []
    except Exception as exc:  # any decoder error: show placeholders instead
        log.warning("thumbnails for frames %s failed: %s", frames[:3], exc)
        return [], [], list(frames)
