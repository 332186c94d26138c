"""write_clip on small generated clips (fast; the real-media checks are in test_encode_real)."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import av
import numpy as np
import pytest
from media_helpers import one_line, pattern_frames, tone

import swaptalk_desktop.media.encode as encode_module
from swaptalk_desktop.core.cancel import CancelToken
from swaptalk_desktop.core.errors import Cancelled, OutputError
from swaptalk_desktop.media import (
    EncodeSettings,
    VideoReader,
    available_video_encoders,
    encoder_options,
    load_audio,
    make_test_clip,
    probe,
    probe_video,
    write_clip,
)

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")
FAST = EncodeSettings(preset="ultrafast")


def _frames(path: Path) -> list[np.ndarray]:
    with VideoReader(probe_video(path)) as reader:
        return list(reader.read())


def _paint_square(index: int, rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    out[9:21, 13:27] = (255, 0, 0)  # odd edges: shares chroma blocks with untouched pixels
    return out


def _chroma_footprint(changed: np.ndarray) -> np.ndarray:
    """Pixels sharing a 2x2 chroma block with a changed pixel (4:2:0 cannot separate them)."""
    h, w = changed.shape
    blocks = changed.reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))
    return np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)


def _no_partial_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".partial" in p.name]


def test_lossless_passthrough_and_replaced_range(small_clip, tmp_path: Path,
                                                 ffmpeg_decodes_cleanly) -> None:
    src = probe_video(small_clip(n=30))
    dst = tmp_path / "out.mp4"
    calls: list[int] = []

    def replace(index: int, rgb: np.ndarray) -> np.ndarray:
        calls.append(index)
        return _paint_square(index, rgb)

    write_clip(src, dst, replace_range=(10, 20), replace_frame=replace, audio=None,
               settings=LOSSLESS)
    assert calls == list(range(10, 20))
    out = probe_video(dst)
    assert out.frame_count == 30 and (out.width, out.height) == (64, 48)
    np.testing.assert_array_equal(out.frame_times, src.frame_times)
    before, after = _frames(src.path), _frames(dst)
    for i in range(30):
        if not 10 <= i < 20:
            np.testing.assert_array_equal(after[i], before[i])
            continue
        changed = np.any(_paint_square(i, before[i]) != before[i], axis=2)
        elsewhere = ~_chroma_footprint(changed)
        assert np.abs(after[i].astype(int) - before[i])[elsewhere].max() <= 2
        whole_blocks = ~_chroma_footprint(~changed)  # changed pixels not sharing chroma
        assert whole_blocks.sum() > 100
        assert np.abs(after[i][whole_blocks].astype(int) - (255, 0, 0)).max() <= 2
    ffmpeg_decodes_cleanly(dst)


def test_identity_callback_changes_nothing(small_clip, tmp_path: Path) -> None:
    src = probe_video(small_clip(n=12))
    write_clip(src, tmp_path / "same.mp4", replace_range=(0, 12),
               replace_frame=lambda i, rgb: rgb, audio=None, settings=LOSSLESS)
    for a, b in zip(_frames(src.path), _frames(tmp_path / "same.mp4"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_audio_modes(small_clip, tmp_path: Path) -> None:
    with_audio = probe_video(small_clip(n=25, name="a.mp4", audio=tone(1.0, 44100, 2)))
    silent = probe_video(small_clip(n=25, name="b.mp4"))
    assert silent.audio is None

    write_clip(silent, tmp_path / "added.mp4", audio=tone(1.0, 48000, 1, freq=500.0),
               settings=FAST)
    added = probe(tmp_path / "added.mp4")
    assert added.audio is not None and added.audio.codec == "aac"
    assert added.audio.sample_rate == 48000 and added.audio.channels == 1
    clip = load_audio(tmp_path / "added.mp4")
    assert clip.duration_s == pytest.approx(1.0, abs=0.03)
    spectrum = np.abs(np.fft.rfft(clip.samples[:, 0]))
    assert np.argmax(spectrum) * 48000 / len(clip.samples) == pytest.approx(500, abs=3)

    write_clip(with_audio, tmp_path / "copied.mp4", audio="copy", settings=FAST)
    assert _audio_packets(tmp_path / "copied.mp4") == _audio_packets(with_audio.path)

    write_clip(silent, tmp_path / "nothing.mp4", audio="copy", settings=FAST)
    write_clip(with_audio, tmp_path / "dropped.mp4", audio=None, settings=FAST)
    assert probe(tmp_path / "nothing.mp4").audio is None
    assert probe(tmp_path / "dropped.mp4").audio is None


def _audio_packets(path: Path) -> list[tuple[int, int, bytes]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(p.pts, p.dts, bytes(p)) for p in container.demux(stream) if p.size]


def test_metadata_is_readable(small_clip, tmp_path: Path) -> None:
    src = probe_video(small_clip(n=5))
    edits = '{"edits": [{"range": [1, 3], "identity": "photo.jpg"}]}'
    write_clip(src, tmp_path / "m.mp4", audio=None, settings=FAST,
               metadata={"swaptalk_edits": edits, "comment": "made with SwapTalk"})
    with av.open(str(tmp_path / "m.mp4")) as container:
        assert container.metadata["swaptalk_edits"] == edits
        assert container.metadata["comment"] == "made with SwapTalk"


def test_progress_is_reported(small_clip, tmp_path: Path) -> None:
    src = probe_video(small_clip(n=20))
    seen: list[tuple[int, int]] = []
    write_clip(src, tmp_path / "p.mp4", audio=None, settings=FAST,
               progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 20) for i in range(1, 21)]


def test_cancel_leaves_nothing_and_keeps_existing_output(small_clip, tmp_path: Path) -> None:
    src = probe_video(small_clip(n=30))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dst = out_dir / "result.mp4"
    dst.write_bytes(b"previous export")
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 12:
            token.cancel()

    with pytest.raises(Cancelled):
        write_clip(src, dst, audio=None, settings=FAST, progress=progress, cancel=token)
    assert dst.read_bytes() == b"previous export"
    assert sorted(p.name for p in out_dir.iterdir()) == ["result.mp4"]

    def interrupt(index: int, rgb: np.ndarray) -> np.ndarray:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_clip(src, out_dir / "new.mp4", replace_range=(5, 6), replace_frame=interrupt,
                   audio=None, settings=FAST)
    assert sorted(p.name for p in out_dir.iterdir()) == ["result.mp4"]


def test_disk_full_is_reported_and_cleaned_up(small_clip, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    src = probe_video(small_clip(n=30))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dst = out_dir / "result.mp4"
    dst.write_bytes(b"previous export")
    real_mux = encode_module.mux
    written = {"n": 0}

    def failing_mux(out, packets):
        written["n"] += 1
        if written["n"] > 5:
            raise av.error.OSError(errno.ENOSPC, "No space left on device")
        real_mux(out, packets)

    monkeypatch.setattr(encode_module, "mux", failing_mux)
    with pytest.raises(OutputError, match="disk full while writing") as err:
        write_clip(src, dst, audio=None, settings=FAST)
    assert one_line(str(err.value))
    assert dst.read_bytes() == b"previous export" and _no_partial_files(out_dir)


def test_unwritable_destination_fails_before_encoding(small_clip, tmp_path: Path) -> None:
    src = probe_video(small_clip(n=5))
    touched: list[int] = []

    def replace(index: int, rgb: np.ndarray) -> np.ndarray:
        touched.append(index)
        return rgb

    with pytest.raises(OutputError, match="does not exist"):
        write_clip(src, tmp_path / "no" / "such" / "dir.mp4", replace_range=(0, 5),
                   replace_frame=replace, audio=None, settings=FAST)
    with pytest.raises(OutputError, match="is a folder"):
        write_clip(src, tmp_path, audio=None, settings=FAST)
    if os.geteuid() != 0:  # root may write anywhere, so a read-only folder proves nothing
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            with pytest.raises(OutputError, match="permission"):
                write_clip(src, locked / "x.mp4", replace_range=(0, 5), replace_frame=replace,
                           audio=None, settings=FAST)
        finally:
            locked.chmod(0o755)
    assert touched == []


def test_source_is_never_overwritten(small_clip, tmp_path: Path) -> None:
    path = small_clip(n=5)
    src = probe_video(path)
    original = path.read_bytes()
    link = tmp_path / "hardlink.mp4"
    os.link(path, link)
    for dst in (path, tmp_path / "." / path.name, link):
        with pytest.raises(OutputError, match="is the source clip") as err:
            write_clip(src, dst, audio=None, settings=FAST)
        assert one_line(str(err.value))
    assert path.read_bytes() == original


def test_odd_size_keeps_its_size(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = make_test_clip(tmp_path / "odd.mp4", pattern_frames(8, 47, 63), crf=0)
    src = probe_video(path)
    assert (src.width, src.height) == (63, 47)
    with caplog.at_level(logging.WARNING):
        write_clip(src, tmp_path / "odd_out.mp4", replace_range=(2, 4),
                   replace_frame=_paint_square, audio=None, settings=LOSSLESS)
    assert "4:4:4" in caplog.text
    out = probe_video(tmp_path / "odd_out.mp4")
    assert (out.width, out.height, out.pix_fmt) == (63, 47, "yuv444p")
    before, after = _frames(path), _frames(tmp_path / "odd_out.mp4")
    np.testing.assert_array_equal(after[0], before[0])
    changed = np.any(_paint_square(2, before[2]) != before[2], axis=2)
    np.testing.assert_array_equal(after[2][~changed], before[2][~changed])


@pytest.mark.parametrize("rotation", [90, 270, 180])
def test_rotated_source_comes_out_upright(tmp_path: Path, rotation: int,
                                          ffmpeg_exe: str) -> None:
    stored = pattern_frames(6)
    stored[:, :8, :8] = (255, 0, 0)  # red in the stored top-left corner
    src = probe_video(make_test_clip(tmp_path / "r.mp4", stored, crf=0, rotation=rotation))
    write_clip(src, tmp_path / "upright.mp4", audio=None, settings=LOSSLESS)
    out = probe_video(tmp_path / "upright.mp4")
    assert out.rotation == 0
    assert (out.width, out.height) == (src.width, src.height)
    assert (out.width, out.height) == ((48, 64) if rotation != 180 else (64, 48))
    upright = _frames(tmp_path / "upright.mp4")
    for a, b in zip(_frames(src.path), upright, strict=True):
        np.testing.assert_array_equal(a, b)
    # Clockwise turns carry the stored top-left corner to top-right, bottom-right, bottom-left.
    corner = {90: (2, -3), 180: (-3, -3), 270: (-3, 2)}[rotation]
    assert upright[0][corner].tolist() == pytest.approx([255, 0, 0], abs=6)
    with av.open(str(tmp_path / "upright.mp4")) as container:
        assert next(container.decode(video=0)).rotation == 0


def test_variable_frame_rate_is_kept(tmp_path: Path) -> None:
    times = [0.0, 0.033, 0.1, 0.133, 0.2, 0.3, 0.333, 0.4]
    src = probe_video(make_test_clip(tmp_path / "vfr.mp4", pattern_frames(len(times)),
                                     frame_times=times))
    write_clip(src, tmp_path / "vfr_out.mp4", audio=None, settings=FAST)
    out = probe_video(tmp_path / "vfr_out.mp4")
    assert out.is_vfr and out.frame_count == len(times)
    np.testing.assert_allclose(out.frame_times, src.frame_times, atol=1e-6)


def test_bad_callback_and_arguments(small_clip, tmp_path: Path) -> None:
    src = probe_video(small_clip(n=5))
    with pytest.raises(ValueError, match="must return uint8"):
        write_clip(src, tmp_path / "bad.mp4", replace_range=(1, 2),
                   replace_frame=lambda i, rgb: rgb[:10], audio=None, settings=FAST)
    with pytest.raises(ValueError):
        write_clip(src, tmp_path / "bad.mp4", replace_range=(3, 9), replace_frame=lambda i, r: r)
    with pytest.raises(ValueError):
        write_clip(src, tmp_path / "bad.mp4", replace_range=(1, 2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_encoders_and_settings() -> None:
    encoders = available_video_encoders()
    assert "libx264" in encoders and set(encoders) <= {
        "libx264", "h264_nvenc", "h264_qsv", "h264_vaapi", "h264_videotoolbox"}
    assert available_video_encoders() == encoders  # cached
    assert encoder_options(EncodeSettings()) == {"preset": "medium", "crf": "18"}
    assert encoder_options(EncodeSettings(crf=0)) == {"preset": "medium", "qp": "0"}
    nvenc = encoder_options(EncodeSettings(video_codec="h264_nvenc", preset="ultrafast"))
    assert nvenc["preset"] == "p1" and nvenc["cq"] == "18"
    assert encoder_options(EncodeSettings(video_codec="h264_nvenc", crf=0))["tune"] == \
        "lossless"
    assert "global_quality" in encoder_options(EncodeSettings(video_codec="h264_qsv"))
    for bad in ({"crf": 60}, {"preset": "warp"}, {"video_codec": "libx265"},
                {"audio_bitrate": 1000}):
        with pytest.raises(ValueError):
            EncodeSettings(**bad)
