"""Build an output soundtrack: the source audio with one range replaced by new dialogue."""

from __future__ import annotations

import logging
import math

import numpy as np

from ..core.errors import InputError
from .audio import AudioClip, remix, resample_samples

log = logging.getLogger(__name__)

# Dialogue and range lengths that differ by less than this differ by the rounding of the range
# to whole frames (a frame is 0.04 s at 25 fps), which is not worth a warning.
COVERAGE_TOLERANCE_S = 0.05


def dialogue_coverage(dialogue_s: float, *, t0: float, t1: float,
                      offset: float) -> tuple[float, float]:
    """Seconds of the range ``[t0, t1)`` left silent before and after the dialogue file."""
    start = t0 + offset
    end = start + dialogue_s
    lead = min(max(0.0, start - t0), t1 - t0)
    tail = min(max(0.0, t1 - end), t1 - t0)
    return lead, tail


def splice_audio(source: AudioClip | None, dialogue: AudioClip | None, *, t0: float, t1: float,
                 offset: float = 0.0, total_duration: float, crossfade: float = 0.02,
                 rate: int | None = None, channels: int | None = None) -> AudioClip:
    """The track ``[0, total_duration)``: ``source`` outside ``[t0, t1)``, ``dialogue`` inside.

    Dialogue time ``u = t - t0 - offset`` (a negative ``offset`` skips the file's beginning);
    where ``u`` falls outside the file the range is silent, which is logged, not an error.
    Equal-power crossfades of ``crossfade`` seconds are centred on ``t0`` and ``t1``. Samples
    further than ``crossfade / 2`` from the range are the source's samples unchanged (when no
    resampling is asked for). Output rate and channels default to the source's, or to the
    dialogue's when there is no source.
    """
    if not t1 > t0:
        raise InputError(f"the range {t0:.3f}s to {t1:.3f}s is empty; set the out point after "
                         "the in point")
    if total_duration <= 0:
        raise ValueError("total_duration must be positive")
    if crossfade < 0:
        raise ValueError("crossfade must not be negative")
    reference = source if source is not None else dialogue
    out_rate = int(rate or (reference.sample_rate if reference is not None else 48_000))
    out_channels = int(channels or (reference.channels if reference is not None else 2))
    n_total = int(round(total_duration * out_rate))

    if source is not None:
        base = resample_samples(remix(source.samples, out_channels), source.sample_rate,
                                out_rate)
        if len(base) >= n_total:
            out = base[:n_total].copy()
        else:
            out = np.zeros((n_total, out_channels), np.float32)
            out[: len(base)] = base
    else:
        out = np.zeros((n_total, out_channels), np.float32)

    if dialogue is not None:
        lines = resample_samples(remix(dialogue.samples, out_channels), dialogue.sample_rate,
                                 out_rate)
        lead, tail = dialogue_coverage(dialogue.duration_s, t0=t0, t1=t1, offset=offset)
        if lead > COVERAGE_TOLERANCE_S or tail > COVERAGE_TOLERANCE_S:
            log.warning("%s covers only part of the range %.2f-%.2f s: %.2f s silent before "
                        "and %.2f s after it", dialogue.name, t0, t1, lead, tail)
    else:
        lines = np.zeros((0, out_channels), np.float32)

    half = crossfade / 2
    a = max(0, int(math.floor((t0 - half) * out_rate)))
    b = min(n_total, int(math.ceil((t1 + half) * out_rate)) + 1)
    if a >= b:
        return AudioClip(out, out_rate, None)

    # The dialogue over output samples [a, b), shifted by a whole number of samples.
    shift = int(round((t0 + offset) * out_rate))
    region = np.zeros((b - a, out_channels), np.float32)
    lo = max(a, shift)
    hi = min(b, shift + len(lines))
    if hi > lo:
        region[lo - a: hi - a] = lines[lo - shift: hi - shift]

    t = np.arange(a, b, dtype=np.float64) / out_rate
    if crossfade > 0:
        x = np.minimum((t - (t0 - half)) / crossfade, ((t1 + half) - t) / crossfade)
        x = np.clip(x, 0.0, 1.0)
    else:
        x = ((t >= t0) & (t < t1)).astype(np.float64)
    w_dialogue = np.sin(0.5 * np.pi * x)
    w_source = np.cos(0.5 * np.pi * x)
    w_dialogue[x <= 0] = 0.0
    w_source[x >= 1] = 0.0
    mixed = w_source[:, None] * out[a:b] + w_dialogue[:, None] * region
    # Keep untouched samples bit-exact rather than round-tripping them through float64.
    keep = x <= 0
    out[a:b] = np.where(keep[:, None], out[a:b], mixed.astype(np.float32))
    return AudioClip(out, out_rate, None)
