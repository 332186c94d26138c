"""engine/adapt_plan.py: ranges as the CLI takes them, the footage an adaptation learns from,
the estimate from the measured table, and the whole job's progress (all without torch)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.progress import ProgressEvent
from swaptalk_desktop.engine.adapt_job import adapt_command
from swaptalk_desktop.engine.adapt_plan import (
    COSTS,
    AdaptProgress,
    estimate,
    footage_clock,
    merge_ranges,
    parse_range,
    plan_footage,
    usable_mask,
)

FPS = Fraction(25)
TIMES = np.arange(1500) / 25.0  # one minute at 25 fps


@pytest.mark.parametrize("text, expected", [
    ("120:240", (120, 240)), ("120..240", (120, 240)), ("4.8s:9.6s", (120, 240)),
    ("00:00:04:20..00:00:09:00", (120, 225)), ("00:00:04:20:00:00:09:00", (120, 225)),
    ("4.8s..240", (120, 240)),
])
def test_ranges_take_the_render_positions(text, expected):
    assert parse_range(text, FPS, TIMES) == expected


@pytest.mark.parametrize("text", ["240:120", "12", "a:b", "1:2:3"])
def test_bad_ranges_are_one_line_errors(text):
    with pytest.raises(InputError) as err:
        parse_range(text, FPS, TIMES)
    assert "\n" not in str(err.value)


def test_ranges_merge_and_clip():
    assert merge_ranges([(50, 60), (0, 10), (8, 20), (1490, 1600), (20, 25)], 1500) == \
        [(0, 25), (50, 60), (1490, 1500)]


def test_the_sound_margin_leaves_out_frames_beside_a_range():
    keep = usable_mask(TIMES, 60.0, [(100, 200)])
    # 0.1 s = 2.5 frames of sound either side: frames 98..202 hear the range
    assert keep[97] and not keep[98] and not keep[202] and keep[203]
    assert keep.sum() == 1500 - 105


def test_minutes_count_usable_footage_from_the_start():
    footage = plan_footage(TIMES, 60.0, 25.0, [(0, 750)], minutes=0.2)  # 12 s = 300 frames
    assert footage.usable == 300 and footage.cutoff == 753 + 300
    assert footage.left_out == 753
    assert footage.max_seconds(TIMES) == pytest.approx(TIMES[footage.cutoff])
    everything = plan_footage(TIMES, 60.0, 25.0, [], minutes=None)
    assert everything.usable == 1500 and everything.max_seconds(TIMES) is None
    assert footage_clock(everything.usable_s) == "1:00"


def test_the_estimate_grows_with_footage_and_steps():
    short = estimate("small", plan_footage(TIMES[:750], 30.0, 25.0, [], None), None)
    long = estimate("small", plan_footage(TIMES, 60.0, 25.0, [], None), None)
    more = estimate("small", plan_footage(TIMES, 60.0, 25.0, [], None), 3000)
    assert short.total_s < long.total_s < more.total_s
    # per minute of footage: preparing + encoding it
    per_min = long.per_footage_minute_s(25.0)
    assert long.total_s - short.total_s == pytest.approx(per_min / 2, rel=0.01)
    assert set(long.seconds) == {"prepare", "decoder", "encode", "sync", "export"}
    assert estimate("huge", plan_footage(TIMES, 60.0, 25.0, [], None), None) is None
    assert set(COSTS) >= {"tiny", "small"}


def test_whole_job_progress_is_monotonic_with_time_left():
    plan = estimate("small", plan_footage(TIMES, 60.0, 25.0, [], None), 100)
    seen: list[ProgressEvent] = []
    clock = iter(range(1000))
    progress = AdaptProgress(plan, seen.append, clock_fn=lambda: float(next(clock)))
    for stage, total in (("take3", 1500), ("dataset", 1500), ("train vqgan", 100),
                         ("encode", 1500), ("train sync", 100), ("export", 1)):
        for done in range(0, total + 1, max(1, total // 4)):
            progress(ProgressEvent(stage, done, total, 1.0, None))
    fractions = [e.fraction for e in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(e.job_eta_s is not None for e in seen) and seen[-1].job_eta_s == 0
    assert seen[0].as_dict()["fraction"] == 0.0
    assert "fraction" not in ProgressEvent("render", 1, 2, 1.0, None).as_dict()


def test_the_job_payload_is_the_command_line():
    argv = adapt_command({"video": "/clips/take 3.mp4", "set_id": "s-take3", "work": "/w",
                          "exclude": [[10, 20], [30, 40]], "minutes": 0, "steps": 50,
                          "base_set": "s", "models_dirs": ["/m"]})
    assert argv[1:4] == ["-m", "swaptalk_desktop", "adapt"]
    joined = " ".join(argv[4:])
    assert "--video /clips/take 3.mp4" in joined and "--json-progress" in joined
    assert "--exclude 10:20 --exclude 30:40" in joined and "--minutes 0" in joined
    assert "--steps 50" in joined and "--base-set s" in joined and "--models-dir /m" in joined
