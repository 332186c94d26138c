from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media_helpers import one_line, pattern_frames, tone

from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.media import (
    VideoReader,
    make_test_clip,
    probe,
    probe_audio,
    probe_video,
)


def _decoded_pts(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return [frame.pts for frame in container.decode(stream)]


def test_packet_table_equals_full_decode(any_clip: Path) -> None:
    info = probe_video(any_clip)
    assert info.indexed_by == "packets"  # the fast path is the one being verified
    assert not info.truncated
    decoded = _decoded_pts(any_clip)
    assert info.frame_count == len(decoded)
    assert info.pts.tolist() == decoded
    assert info.frame_times[0] == 0.0
    assert np.all(np.diff(info.frame_times) > 0)
    assert info.keyframes[0] == 0
    assert info.duration_s == pytest.approx(info.frame_count / float(info.fps), rel=0.02)
    assert info.width > 0 and info.height > 0 and info.rotation == 0


def test_vfr_clip(shared_data: Path) -> None:
    info = probe_video(shared_data / "videos/talking/vr_man_suit.mp4")
    assert info.is_vfr
    assert info.fps == Fraction(1350, 61)
    assert info.nominal_fps == 22  # timecode counts at the average rate, as editors conform it
    assert info.time_base == Fraction(1, 15360)
    assert info.pts[0] == 507 and info.start_s == pytest.approx(507 / 15360)
    steps = set(np.round(np.diff(info.frame_times) * 15360).astype(int).tolist())
    assert steps == {512, 1024}
    assert info.frame_count == 135
    # Frame 0 is shown 33 ms after the audio track starts; the engine places dialogue by this.
    assert info.audio is not None and info.audio.start_s == 0.0
    assert info.audio_time(0) == pytest.approx(507 / 15360)
    assert info.audio_time(134) == pytest.approx(info.frame_times[134] + 507 / 15360)


def test_constant_rate_clips_are_not_vfr(shared_data: Path) -> None:
    for name in ("may_5s.mp4", "latentsync_demo3_youngman.mp4", "styletalk_reagan_muxed.mp4"):
        info = probe_video(shared_data / "videos/talking" / name)
        assert not info.is_vfr
        assert info.fps == info.nominal_fps


def test_full_range_and_hevc_details(shared_data: Path) -> None:
    ted = probe_video(shared_data / "videos/talking/hdtf_tedlieu_60s.mp4")
    assert ted.pix_fmt == "yuvj420p" and ted.colour.full_range
    hevc = probe_video(shared_data / "videos/talking/latentsync_demo1_woman.mp4")
    assert (hevc.codec, hevc.width, hevc.height) == ("hevc", 1080, 1920)
    assert hevc.colorspace == 1 and not hevc.colour.full_range
    assert hevc.frame_count == 250


def test_audio_streams(shared_data: Path) -> None:
    none = probe(shared_data / "videos/no_audio/lp_d13_man_selfie.mp4")
    assert none.audio is None and none.video is not None and none.video.audio is None
    silent = probe_video(shared_data / "videos/no_audio/lp_d3_woman_expressions.mp4")
    assert silent.audio is not None and silent.audio.sample_rate == 44100
    wav = probe(shared_data / "audio/en_obama_5s_M.wav")
    assert wav.video is None and wav.audio is not None
    assert (wav.audio.sample_rate, wav.audio.channels) == (16000, 2)
    assert wav.duration_s == pytest.approx(5.01, abs=0.01)
    assert probe_audio(shared_data / "audio/en_anitalker_male.mp3").sample_rate == 24000
    with pytest.raises(InputError, match="no video stream") as err:
        probe_video(shared_data / "audio/en_obama_5s_M.wav")
    assert one_line(str(err.value))
    with pytest.raises(InputError, match="lp_d13_man_selfie.mp4 has no audio stream"):
        probe_audio(shared_data / "videos/no_audio/lp_d13_man_selfie.mp4")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_image_is_not_a_video(tmp_path: Path, suffix: str) -> None:
    image = tmp_path / f"still{suffix}"
    cv2.imwrite(str(image), pattern_frames(1)[0])
    renamed = tmp_path / "still_renamed.mp4"
    renamed.write_bytes(image.read_bytes())
    for path in (image, renamed):
        with pytest.raises(InputError, match=f"{path.name} is an image, not a video") as err:
            probe_video(path)
        assert one_line(str(err.value))
        assert probe(path).is_image


def test_unusable_paths(tmp_path: Path) -> None:
    cases = {
        tmp_path / "missing.mp4": "does not exist",
        tmp_path: "is a folder",
        tmp_path / "empty.mp4": "is empty",
        tmp_path / "notes.mp4": "not a media file we can read",
    }
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("these are my notes, not a video\n" * 50)
    for path, message in cases.items():
        with pytest.raises(InputError, match=message) as err:
            probe_video(path)
        assert path.name in str(err.value) and one_line(str(err.value))


def test_rotation_written_by_ffmpeg(tmp_path: Path, ffmpeg_exe: str) -> None:
    stored = pattern_frames(6)
    stored[:, :8, :8] = (255, 0, 0)  # red mark in the stored top-left corner
    plain = make_test_clip(tmp_path / "plain.mp4", stored, crf=0)
    rotated = tmp_path / "rotated.mp4"
    # -display_rotation is counter-clockwise, so players turn the picture 90 degrees left.
    subprocess.run([ffmpeg_exe, "-v", "error", "-display_rotation", "90", "-i", str(plain),
                    "-c", "copy", str(rotated)], check=True, timeout=60)
    with av.open(str(rotated)) as container:  # the tool did write the display matrix
        assert next(container.decode(video=0)).rotation == 90
    info = probe_video(rotated)
    assert info.rotation == 270
    assert (info.width, info.height) == (48, 64)
    assert (info.coded_width, info.coded_height) == (64, 48)
    with VideoReader(info) as reader, VideoReader(probe_video(plain)) as plain_reader:
        upright = reader.frame(0)
        np.testing.assert_array_equal(upright, np.rot90(plain_reader.frame(0), 1))
    assert upright[-4, 4].tolist() == pytest.approx([255, 0, 0], abs=6)  # now bottom-left


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_written_by_make_test_clip(small_clip, rotation: int) -> None:
    info = probe_video(small_clip(n=3, rotation=rotation))
    assert info.rotation == rotation
    expected = (48, 64) if rotation in (90, 270) else (64, 48)
    assert (info.width, info.height) == expected


def test_synthetic_vfr(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.08, 0.16, 0.2, 0.3, 0.34]
    path = make_test_clip(tmp_path / "vfr.mp4", pattern_frames(len(times)), crf=0,
                          frame_times=times)
    info = probe_video(path)
    assert info.is_vfr
    np.testing.assert_allclose(info.frame_times, times, atol=1e-4)


@pytest.mark.timeout(120)
def test_truncated_real_clips(shared_data: Path, tmp_path: Path) -> None:
    # One clip keeps its index at the end (cutting it loses the index), one at the front
    # (cutting it loses frames): both must give a clear error or a smaller, readable clip.
    for name in ("vr_man_suit.mp4", "lp_d20_young_man.mp4"):
        source = shared_data / "videos/talking" / name
        full = probe_video(source)
        cut = tmp_path / f"cut_{name}"
        data = source.read_bytes()
        cut.write_bytes(data[: len(data) // 2])
        _assert_clear_error_or_consistent_prefix(cut, full)


@pytest.mark.timeout(120)
def test_truncated_synthetic_clip(tmp_path: Path) -> None:
    path = make_test_clip(tmp_path / "whole.mp4", pattern_frames(40), audio=tone(1.6))
    full = probe_video(path)
    data = path.read_bytes()
    for fraction in (0.02, 0.3, 0.5, 0.8):
        cut = tmp_path / f"cut_{fraction}.mp4"
        cut.write_bytes(data[: int(len(data) * fraction)])
        _assert_clear_error_or_consistent_prefix(cut, full)


def _assert_clear_error_or_consistent_prefix(cut: Path, full) -> None:
    try:
        info = probe_video(cut)
    except InputError as err:
        assert cut.name in str(err) and one_line(str(err))
        return
    assert info.truncated
    assert 0 < info.frame_count < full.frame_count
    assert info.pts.tolist() == full.pts[: info.frame_count].tolist()
    with VideoReader(info) as reader:
        assert sum(1 for _ in reader.read()) == info.frame_count
