from fractions import Fraction

import numpy as np
import pytest

from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.timebase import frame_to_timecode, parse_position, timecode_to_frame


@pytest.mark.parametrize("text,frame", [
    ("0", 0), ("120", 120), ("120f", 120), ("00:00:04:20", 120), ("4.8s", 120), ("4.8", 120),
    ("00:04.800", 120), ("0:00:04.8", 120), ("00:01:00:00", 1500)])
def test_positions_at_25fps(text, frame):
    assert parse_position(text, Fraction(25)) == frame


def test_seconds_use_real_frame_times_for_vfr():
    times = np.array([0.0, 1 / 30, 3 / 30, 4 / 30, 6 / 30])  # frames 2 and 4 are held longer
    assert parse_position("0.1s", Fraction(25), times) == 2
    assert parse_position("0.15s", Fraction(25), times) == 4


def test_drop_frame_round_trip():
    fps = Fraction(30000, 1001)
    for frame in [0, 1, 1799, 1800, 1801, 17982, 17983, 107892]:
        tc = frame_to_timecode(frame, fps)
        assert ";" in tc
        hh, mm, ss, ff = (int(x) for x in tc.replace(";", ":").split(":"))
        assert timecode_to_frame(hh, mm, ss, ff, fps, drop=True) == frame
    assert frame_to_timecode(1800, fps) == "00:01:00;02"


def test_non_drop_timecode():
    assert frame_to_timecode(1501, Fraction(25)) == "00:01:00:01"


@pytest.mark.parametrize("bad", ["", "abc", "1:2:3:4:5", "00:00:01:30", "-5"])
def test_bad_positions_say_what_is_accepted(bad):
    with pytest.raises(InputError, match="frame|timecode"):
        parse_position(bad, Fraction(25))


def test_format_range_is_inclusive_timecode_and_count():
    from swaptalk_desktop.core.timebase import format_range
    # [30, 100) at 25 fps: frames 30..99, the last one is 00:00:03:24
    assert format_range(30, 100, Fraction(25)) == "00:00:01:05\u201300:00:03:24 \u00b7 70 frames"
    assert format_range(5, 6, Fraction(25)) == "00:00:00:05\u201300:00:00:05 \u00b7 1 frame"
    # the out timecode is the frame a mark-out at the playhead was set on
    assert format_range(0, 311, Fraction(25)).split("\u2013")[1].startswith("00:00:12:10")
