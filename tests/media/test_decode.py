from __future__ import annotations

import hashlib
import random
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from media_helpers import pattern_frames

from swaptalk_desktop.media import VideoReader, probe_video


def _digest(rgb: np.ndarray) -> bytes:
    return hashlib.blake2b(rgb.tobytes(), digest_size=16).digest()


@pytest.mark.slow
def test_random_ranges_equal_sequential_decode(any_clip: Path) -> None:
    info = probe_video(any_clip)
    with VideoReader(info) as reader:
        sequential = [_digest(frame) for frame in reader.read()]
        assert len(sequential) == info.frame_count
        assert reader.seek_count == 0
        first = reader.frame(0)
        assert first.shape == (info.height, info.width, 3) and first.dtype == np.uint8

    rng = random.Random(any_clip.name)
    n = info.frame_count
    with VideoReader(info) as reader:
        # Backwards and forwards jumps, single frames, the last frame.
        starts = [rng.randrange(n // 2, n), rng.randrange(0, n // 2), n - 1,
                  rng.randrange(0, n)]
        for start in starts:
            stop = min(n, start + rng.randint(1, 6))
            got = [_digest(frame) for frame in reader.read(start, stop)]
            assert got == sequential[start:stop], f"frames {start}..{stop} differ"


def test_sequential_frame_calls_do_not_seek(small_clip) -> None:
    info = probe_video(small_clip(n=40))
    with VideoReader(info) as reader:
        reader.frame(25)
        seeks = reader.seek_count
        for i in range(26, 40):
            reader.frame(i)
        list(reader.read(10, 12))  # jumping back has to seek once...
        list(reader.read(12, 20))  # ...and carrying on from there does not
        assert reader.seek_count == seeks + 1


def test_frames_match_what_was_encoded(small_clip) -> None:
    frames = pattern_frames(12)
    info = probe_video(small_clip(n=12))
    with VideoReader(info) as reader:
        for i in (0, 5, 11, 3):
            # Lossless H.264, but 4:2:0 chroma smooths the one-pixel colour steps a little.
            errors = [np.abs(reader.frame(i).astype(int) - f).mean() for f in frames]
            assert errors[i] < 3 and int(np.argmin(errors)) == i


def test_reader_guards(small_clip) -> None:
    info = probe_video(small_clip(n=5))
    with VideoReader(info) as reader:
        with pytest.raises(IndexError):
            reader.frame(5)
        with pytest.raises(IndexError):
            list(reader.read(3, 9))
        assert list(reader.read(2, 2)) == []
        old = reader.read(0, 5)
        next(old)
        new = reader.read(0, 2)
        with pytest.raises(RuntimeError):
            next(old)
        assert len(list(new)) == 2


_RECIPES = {
    # An MP4 cut with -c copy away from a keyframe: an edit list hides the first packets.
    "edit_list_mp4": (["-c:v", "libx264", "-g", "50", "-bf", "2"], ["-ss", "1.3"], "mp4"),
    # Open GOPs with B-frames (leading pictures reference the previous GOP), in Matroska.
    "open_gop_mkv": (["-c:v", "libx264", "-g", "12", "-bf", "3", "-x264-params", "open-gop=1"],
                     [], "mkv"),
    "open_gop_hevc_cut": (["-c:v", "libx265", "-x265-params",
                           "keyint=12:open-gop=1:bframes=3:log-level=error"],
                          ["-ss", "1.1"], "mkv"),
    "mpeg4_avi": (["-c:v", "mpeg4", "-bf", "2", "-g", "12"], [], "avi"),
}


@pytest.mark.parametrize("recipe", sorted(_RECIPES))
def test_gop_structures_and_containers(recipe: str, tmp_path: Path, ffmpeg_exe: str) -> None:
    encode_args, cut_args, container = _RECIPES[recipe]
    made = tmp_path / "made.mp4"
    subprocess.run([ffmpeg_exe, "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=128x96:rate=25", "-t", "3", "-pix_fmt", "yuv420p",
                    *encode_args, str(made)], check=True, timeout=120)
    clip = tmp_path / f"clip.{container}"
    subprocess.run([ffmpeg_exe, "-v", "error", *cut_args, "-i", str(made), "-c", "copy",
                    str(clip)], check=True, timeout=120)
    info = probe_video(clip)
    with av.open(str(clip)) as source:
        decoded = [f.pts if f.pts is not None else f.dts for f in source.decode(video=0)]
    assert info.pts.tolist() == decoded and not info.truncated
    with VideoReader(info) as reader:
        sequential = [_digest(frame) for frame in reader.read()]
        rng = random.Random(recipe)
        for i in [rng.randrange(info.frame_count) for _ in range(12)]:
            assert _digest(reader.frame(i)) == sequential[i], f"frame {i}"
