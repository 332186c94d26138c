"""ScrubReader gives VideoReader's exact frames in any request order, seeking only when it pays."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_helpers import SHARED, pattern_frames

from swaptalk_desktop.media import VideoReader, probe_video
from swaptalk_desktop.media.scrub import ScrubReader


def gop_clip(path: Path, n: int = 96, gop: int = 16) -> Path:
    """An H.264 clip with a keyframe every ``gop`` frames and B-frames (reordered output)."""
    frames = pattern_frames(n, 96, 128)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        stream.options = {"x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=2",
                          "preset": "veryfast", "crf": "20"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture
def gop(tmp_path):
    info = probe_video(gop_clip(tmp_path / "gop.mp4"))
    assert list(info.keyframes) == list(range(0, 96, 16))
    with VideoReader(info) as reader:
        reference = list(reader.read(0, info.frame_count))
    return info, reference


def test_any_request_order_gives_the_reference_frames(gop):
    info, reference = gop
    rng = np.random.default_rng(1)
    order = list(rng.integers(0, info.frame_count, 40))           # random jumps
    order += list(range(70, 50, -1)) + list(range(20, 40))        # steps back, then forward
    order += [95, 0, 47, 48, 15, 16, 17, 80, 79]                  # around keyframes and ends
    with ScrubReader(info, cache_bytes=40 * 96 * 128 * 3) as scrub:
        for i in order:
            assert np.array_equal(scrub.frame(int(i)), reference[i]), f"frame {i}"


def test_forward_steps_do_not_seek_and_backward_steps_hit_the_cache(gop):
    info, reference = gop
    with ScrubReader(info) as scrub:
        scrub.frame(40)
        seeks = scrub.seek_count
        for i in (41, 42, 50, 51):  # 42 -> 50 passes the keyframe at 48: decoding 7 frames
            assert np.array_equal(scrub.frame(i), reference[i])  # beats seeking to it
        assert scrub.seek_count == seeks
        assert np.array_equal(scrub.frame(75), reference[75])  # 23 frames vs keyframe 64 + 11
        assert scrub.seek_count == seeks + 1
        seeks = scrub.seek_count
        hits = scrub.hits
        for i in range(39, 31, -1):  # decoded on the way to 40 after the first seek, to 32
            assert np.array_equal(scrub.frame(i), reference[i])
        assert scrub.seek_count == seeks and scrub.hits == hits + 8


def test_cache_stays_within_its_byte_budget_and_frames_are_read_only(gop):
    info, reference = gop
    one = 96 * 128 * 3
    with ScrubReader(info, cache_bytes=5 * one) as scrub:
        for i in range(0, 60):
            scrub.frame(i)
        assert scrub._bytes <= 5 * one
        assert not scrub.cached(0) and scrub.cached(59)
        picture = scrub.frame(59)
        with pytest.raises(ValueError):
            picture[0, 0, 0] = 1
        with pytest.raises(IndexError):
            scrub.frame(info.frame_count)


HEVC = SHARED / "videos" / "talking" / "latentsync_demo3_youngman.mp4"


def test_shared_hevc_clip_frames_match_the_reader_across_its_keyframes():
    if not HEVC.exists():
        pytest.skip(f"{HEVC.name} not found in the shared data")
    info = probe_video(HEVC)
    assert info.codec == "hevc" and 250 in info.keyframes
    picks = [270, 5, 255, 249, 251, 250, 262, 248]
    with VideoReader(info) as reader:  # ascending: one forward pass, no seeks
        expected = {i: reader.frame(i) for i in sorted(picks)}
    with ScrubReader(info) as scrub:
        for i in picks:
            assert np.array_equal(scrub.frame(i), expected[i]), f"frame {i}"
