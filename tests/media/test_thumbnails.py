"""Timeline thumbnails: the right frames, upright, small, and read from disk the second time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from media_helpers import pattern_frames

from swaptalk_desktop.media import make_test_clip, probe_video
from swaptalk_desktop.media import thumbnails as thumbs_module
from swaptalk_desktop.media.thumbnails import thumbnail_folder, thumbnail_strip


def shrink(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(int)


@pytest.fixture
def clip(tmp_path):
    frames = pattern_frames(60, 180, 320)
    return frames, probe_video(make_test_clip(tmp_path / "c.mp4", frames, crf=0))


def test_each_thumbnail_is_its_frame_scaled_down(clip):
    frames, info = clip
    wanted = [50, 3, 3, 27, 59, 0]
    strip = thumbnail_strip(info, wanted, 36)
    assert [t.shape for t in strip] == [(36, 64, 3)] * len(wanted)
    for index, picture in zip(wanted, strip, strict=True):
        errors = [np.abs(picture.astype(int) - shrink(f, (64, 36))).mean() for f in frames]
        assert int(np.argmin(errors)) == index  # the moving box tells the frames apart
        assert errors[index] < 4, errors[index]


def test_second_strip_comes_from_the_disk_cache_without_decoding(clip, monkeypatch):
    _, info = clip
    first = thumbnail_strip(info, [5, 40], 36)
    assert sorted(p.name for p in thumbnail_folder(info, 36).iterdir()) == [
        "00000005.jpg", "00000040.jpg"]

    class NoDecoding:
        def __init__(self, *args):
            raise AssertionError("decoded although every thumbnail was cached")

    monkeypatch.setattr(thumbs_module, "ThumbnailReader", NoDecoding)
    again = thumbnail_strip(info, [40, 5], 36)
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    with pytest.raises(AssertionError, match="decoded although"):
        thumbnail_strip(info, [6], 36)  # a new frame does decode
    assert thumbnail_folder(info, 48) != thumbnail_folder(info, 36)


def test_rotated_clip_gives_upright_thumbnails(tmp_path):
    frames = pattern_frames(6, 64, 96)
    info = probe_video(make_test_clip(tmp_path / "r.mp4", frames, crf=0, rotation=90))
    assert (info.width, info.height) == (64, 96)
    (picture,) = thumbnail_strip(info, [2], 48)
    assert picture.shape == (48, 32, 3)
    upright = np.rot90(frames[2], -1)  # 90 degrees clockwise, as a player shows it
    assert np.abs(picture.astype(int) - shrink(upright, (32, 48))).mean() < 6
    sideways = shrink(np.ascontiguousarray(np.rot90(frames[2], 1)), (32, 48))
    assert np.abs(picture.astype(int) - sideways).mean() > 20


def test_out_of_range_frame_is_refused(clip):
    _, info = clip
    with pytest.raises(IndexError, match="outside 0..59"):
        thumbnail_strip(info, [60], 36)


def test_real_clip_thumbnails_have_the_viewers_colours():
    from media_helpers import SHARED

    from swaptalk_desktop.media import VideoReader
    path = SHARED / "videos" / "talking" / "vr_aoc.mp4"  # untagged matrix: picked by size
    if not path.exists():
        pytest.skip(f"{path.name} not found in the shared data")
    info = probe_video(path)
    (picture,) = thumbnail_strip(info, [100], 96)
    with VideoReader(info) as reader:
        expected = shrink(reader.frame(100), (picture.shape[1], picture.shape[0]))
    diff = picture.astype(int) - expected
    assert np.abs(diff.reshape(-1, 3).mean(axis=0)).max() < 1.0  # no colour cast
    assert np.abs(diff).mean() < 4.5  # JPEG and scaler differences only
