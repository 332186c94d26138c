"""Frame/time conversions. Positions are integer frame indices; seconds only at the edges.

Accepted position syntax (CLI, GUI fields):
  ``120`` or ``120f``          frame index (0-based)
  ``00:00:04:20``              SMPTE timecode HH:MM:SS:FF at the clip's nominal rate
  ``00:00:04;20``              drop-frame timecode (29.97 / 59.94 material)
  ``4.8s``, ``4.8``            seconds
  ``00:04.800``, ``0:00:04.8`` clock time with a decimal point
A time in seconds maps to the first frame shown at or after it, which is exact for variable
frame rate clips because it uses the clip's real frame timestamps.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from .errors import InputError

_TIMECODE = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})([:;])(\d{1,3})$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")
_SECONDS = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)s?$")
_FRAMES = re.compile(r"^(\d+)f?$")


def nominal_rate(fps: Fraction | float) -> int:
    """Integer frames-per-second counted by timecode (30 for 29.97, 25 for 25)."""
    return max(1, round(float(fps)))


def is_drop_frame_rate(fps: Fraction | float) -> bool:
    f = float(fps)
    return abs(f - 30000 / 1001) < 0.01 or abs(f - 60000 / 1001) < 0.01


def seconds_to_frame(seconds: float, fps: Fraction | float,
                     frame_times: np.ndarray | None = None) -> int:
    """First frame shown at or after ``seconds`` (tolerating float noise of a microsecond)."""
    if frame_times is not None and len(frame_times):
        return int(np.searchsorted(frame_times, seconds - 1e-6, side="left"))
    return int(math.ceil(seconds * float(fps) - 1e-6))


def timecode_to_frame(hh: int, mm: int, ss: int, ff: int, fps: Fraction | float,
                      drop: bool) -> int:
    rate = nominal_rate(fps)
    if ff >= rate:
        raise InputError(f"timecode frame field {ff} must be below the clip's {rate} fps")
    frames = ((hh * 60 + mm) * 60 + ss) * rate + ff
    if drop:
        dropped = 2 if rate == 30 else 4
        total_minutes = hh * 60 + mm
        frames -= dropped * (total_minutes - total_minutes // 10)
    return frames


def frame_to_timecode(frame: int, fps: Fraction | float, drop: bool | None = None) -> str:
    """SMPTE timecode of a frame index; drop-frame (``;``) for 29.97/59.94 unless told."""
    rate = nominal_rate(fps)
    drop = is_drop_frame_rate(fps) if drop is None else drop
    sep = ";" if drop else ":"
    if drop:
        dropped = 2 if rate == 30 else 4
        per_10min = rate * 600 - dropped * 9
        per_min = rate * 60 - dropped
        tens, rem = divmod(frame, per_10min)
        extra = 0 if rem < dropped else dropped * ((rem - dropped) // per_min)
        frame = frame + dropped * 9 * tens + extra
    ff = frame % rate
    total_s = frame // rate
    return f"{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


def parse_position(text: str, fps: Fraction | float,
                   frame_times: np.ndarray | None = None) -> int:
    """Parse a position in any accepted syntax into a frame index (see module doc)."""
    s = str(text).strip()
    if m := _FRAMES.match(s):
        return int(m.group(1))
    if m := _TIMECODE.match(s):
        hh, mm, ss, sep, ff = m.groups()
        return timecode_to_frame(int(hh), int(mm), int(ss), int(ff), fps, sep == ";")
    if m := _CLOCK.match(s):
        hh, mm, ss = m.groups()
        seconds = int(hh or 0) * 3600 + int(mm) * 60 + float(ss)
        return seconds_to_frame(seconds, fps, frame_times)
    if m := _SECONDS.match(s):
        return seconds_to_frame(float(m.group(1)), fps, frame_times)
    raise InputError(
        f"cannot read position {text!r}; use a frame number (120), timecode (00:00:04:20) "
        "or seconds (4.8s)")


RANGE_DASH = "\u2013"


def format_range(start: int, stop: int, fps: Fraction | float) -> str:
    """How every view writes a range ``[start, stop)``: the in and out timecodes, both
    inclusive (the out timecode is the range's last frame), and the frame count, e.g.
    ``00:00:01:05–00:00:03:24 · 70 frames``."""
    count = max(0, stop - start)
    last = max(start, stop - 1)
    unit = "frame" if count == 1 else "frames"
    return (f"{frame_to_timecode(start, fps)}{RANGE_DASH}{frame_to_timecode(last, fps)}"
            f" · {count} {unit}")
