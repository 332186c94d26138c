"""write_clip on the real clips in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from swaptalk_desktop.media import (
    EncodeSettings,
    VideoReader,
    load_audio,
    probe,
    probe_video,
    write_clip,
)

FAST = EncodeSettings(preset="ultrafast")


def _audio_packets(path: Path) -> list[tuple[int, int, bytes]]:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        stream = container.streams.audio[0]
        return [(p.pts, p.dts, bytes(p)) for p in container.demux(stream) if p.size]


@pytest.mark.slow
def test_output_matches_source_timing(talking_clip: Path, tmp_path: Path,
                                      ffmpeg_decodes_cleanly) -> None:
    src = probe_video(talking_clip)
    dst = tmp_path / "out.mp4"
    write_clip(src, dst, audio="copy", settings=FAST)
    out = probe_video(dst)
    assert out.frame_count == src.frame_count
    assert (out.width, out.height, out.rotation) == (src.width, src.height, 0)
    assert out.fps == src.fps and out.is_vfr == src.is_vfr
    np.testing.assert_allclose(out.frame_times, src.frame_times, atol=1e-6)
    assert out.start_s == pytest.approx(src.start_s, abs=1e-6)
    assert out.colour == src.colour
    assert out.pix_fmt in ("yuv420p", "yuvj420p")
    assert _audio_packets(dst) == _audio_packets(talking_clip)
    ffmpeg_decodes_cleanly(dst)


def test_full_range_source_stays_full_range(shared_data: Path, tmp_path: Path) -> None:
    src = probe_video(shared_data / "videos/talking/hdtf_tedlieu_60s.mp4")
    write_clip(src, tmp_path / "ted.mp4", replace_range=(0, 0), audio=None, settings=FAST)
    out = probe_video(tmp_path / "ted.mp4")
    assert out.colour.full_range and out.color_range == 2
    with VideoReader(src) as a, VideoReader(out) as b:
        for i in (0, 700, 1498):
            # crf 18: close to the source everywhere, not shifted by a range mix-up (which
            # would move every level by about 16).
            diff = np.abs(a.frame(i).astype(int) - b.frame(i))
            assert diff.mean() < 2.5


def test_lossless_edit_of_a_real_clip(shared_data: Path, tmp_path: Path) -> None:
    src = probe_video(shared_data / "videos/talking/vox_00015.mp4")
    dst = tmp_path / "edit.mp4"

    def darken_mouth(index: int, rgb: np.ndarray) -> np.ndarray:
        out = rgb.copy()
        out[140:180, 80:150] //= 2
        return out

    write_clip(src, dst, replace_range=(50, 80), replace_frame=darken_mouth, audio="copy",
               settings=EncodeSettings(crf=0, preset="ultrafast"))
    with VideoReader(src) as a, VideoReader(probe_video(dst)) as b:
        for i, (x, y) in enumerate(zip(a.read(), b.read(), strict=True)):
            if not 50 <= i < 80:
                np.testing.assert_array_equal(x, y)
                continue
            outside = np.ones(x.shape[:2], bool)
            outside[140:180, 80:150] = False
            np.testing.assert_array_equal(x[outside], y[outside])
            inside = y[142:178, 82:148].astype(int) - (x[142:178, 82:148] // 2)
            assert np.abs(inside).max() <= 6


def test_audio_added_to_a_clip_without_audio(shared_data: Path, tmp_path: Path) -> None:
    src = probe_video(shared_data / "videos/no_audio/lp_d13_man_selfie.mp4")
    assert src.audio is None
    dialogue = load_audio(shared_data / "audio/en_latentsync_demo1_F.wav")
    write_clip(src, tmp_path / "dub.mp4", audio=dialogue, settings=FAST)
    info = probe(tmp_path / "dub.mp4")
    assert info.audio is not None and info.audio.sample_rate == 16000
    assert info.video is not None and info.video.frame_count == src.frame_count
    assert load_audio(tmp_path / "dub.mp4").duration_s == pytest.approx(dialogue.duration_s,
                                                                        abs=0.1)


def test_silent_track_is_copied(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "videos/no_audio/lp_d3_woman_expressions.mp4"
    write_clip(probe_video(path), tmp_path / "silent.mp4", audio="copy", settings=FAST)
    assert _audio_packets(tmp_path / "silent.mp4") == _audio_packets(path)
