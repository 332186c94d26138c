"""Smart render: untouched GOPs are the source's packets, edited GOPs are re-encoded and join
cleanly (ffmpeg and PyAV decode every frame), timestamps and sound follow the source."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from smart_helpers import encode_source, tone, video_packets

from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
from swaptalk_desktop.media import EncodeSettings, VideoReader, probe_video, write_clip
from swaptalk_desktop.media.smart_render import plan, static_reason

N = 60


def paint(index: int, rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    out[40:90, 60:120] = (250, 30, 30)
    return out


def decode(path: Path) -> list[np.ndarray]:
    info = probe_video(path)
    with VideoReader(info) as reader:
        return list(reader.read(0, info.frame_count))


def ffmpeg_frame_md5s(ffmpeg: str, path: Path) -> list[str]:
    """The md5 of every decoded picture as the independent ffmpeg decodes it, in order."""
    result = subprocess.run([ffmpeg, "-v", "error", "-noautorotate", "-i", str(path),
                             "-map", "0:v", "-fps_mode", "passthrough", "-f", "framemd5", "-"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [line.rsplit(",", 1)[1].strip() for line in result.stdout.splitlines()
            if line and not line.startswith("#")]


def check_ffmpeg_frames(ffmpeg: str, src: Path, out: Path, report) -> None:
    """ffmpeg decodes every frame of the output; copied frames are the source's exactly."""
    want, got = ffmpeg_frame_md5s(ffmpeg, src), ffmpeg_frame_md5s(ffmpeg, out)
    assert len(got) == len(want)
    encoded = {k for s, e in report.segments for k in range(s, e)}
    for k in range(len(want)):
        assert (got[k] == want[k]) == (k not in encoded), k


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return moving_face_frames(N, 320, 240)


def check_smart(src: Path, out: Path, report, edit: tuple[int, int], full_ok: bool = True,
                span: tuple[int, int] | None = None) -> None:
    """Packets outside the re-encoded GOPs equal the source's; the rest matches a full encode."""
    info, result = probe_video(src), probe_video(out)
    a, b = span or (0, info.frame_count)
    assert report.mode == "smart", report.reason
    assert result.frame_count == b - a == report.frames_copied + report.frames_encoded
    # the source's timestamps, VFR included (shifted to 0 for a span)
    assert np.array_equal(result.pts - result.pts[0], info.pts[a:b] - info.pts[a])
    encoded = set()
    for s, e in report.segments:
        encoded.update(range(s, e))
    assert set(range(*edit)) <= encoded
    source_packets = {pts: digest for pts, _, digest in video_packets(src)}
    shift = int(info.pts[a]) if span else 0
    out_packets = {pts + shift: digest for pts, _, digest in video_packets(out)}
    for k in range(a, b):
        pts = int(info.pts[k])
        if k in encoded:
            assert out_packets[pts] != source_packets[pts]
        else:
            assert out_packets[pts] == source_packets[pts], f"frame {k} was not copied"
    # frame by frame through PyAV: copied frames are the source's pixels exactly, the
    # re-encoded ones are close to the source (edited ones to the edit)
    got, want = decode(out), decode(src)
    assert len(got) == b - a
    for k in range(a, b):
        expected = paint(k, want[k]) if edit[0] <= k < edit[1] else want[k]
        diff = np.abs(got[k - a].astype(int) - expected)
        if k in encoded:
            assert diff.mean() < 3.0, (k, diff.mean())
        else:
            assert diff.max() == 0, k


def test_h264_with_b_frames_copies_untouched_gops(tmp_path, frames, ffmpeg_decodes_cleanly,
                                                  ffmpeg_exe):
    src = encode_source(tmp_path / "src.mp4", frames, gop=12, bframes=3)
    info = probe_video(src)
    assert list(info.keyframes) == [0, 12, 24, 36, 48]
    out = tmp_path / "smart.mp4"
    report = write_clip(info, out, replace_range=(20, 26), replace_frame=paint, smart=True)
    assert report.segments == ((12, 36),) and report.frames_copied == 36
    check_smart(src, out, report, (20, 26))
    ffmpeg_decodes_cleanly(out)
    check_ffmpeg_frames(ffmpeg_exe, src, out, report)

    # within the tolerance of the full encode, which re-encodes the same frames
    full = tmp_path / "full.mp4"
    full_report = write_clip(info, full, replace_range=(20, 26), replace_frame=paint)
    assert full_report.mode == "full" and full_report.reason is None
    want = decode(src)
    smart_frames, full_frames = decode(out), decode(full)
    for k in range(12, 36):
        expected = paint(k, want[k]) if 20 <= k < 26 else want[k]
        err_smart = np.abs(smart_frames[k].astype(int) - expected).mean()
        err_full = np.abs(full_frames[k].astype(int) - expected).mean()
        assert err_smart <= 1.5 * err_full + 0.5, (k, err_smart, err_full)


def test_two_edits_re_encode_only_their_gops(tmp_path, frames, ffmpeg_decodes_cleanly):
    src = encode_source(tmp_path / "src.mp4", frames, gop=12, bframes=2)
    out = tmp_path / "two.mp4"
    report = write_clip(probe_video(src), out, replace_range=(3, 50), replace_frame=paint,
                        edit_ranges=[(3, 5), (49, 50)], smart=True)
    assert report.segments == ((0, 12), (48, 60))
    ffmpeg_decodes_cleanly(out)
    got, want = decode(out), decode(src)
    for k in range(12, 48):
        assert np.array_equal(got[k], want[k])


def test_vfr_source_with_sound_keeps_times_and_copies_audio(tmp_path, frames,
                                                           ffmpeg_decodes_cleanly, ffmpeg_exe):
    times = list(np.cumsum([0] + [0.06 if k % 3 == 0 else 0.03 for k in range(N - 1)]))
    src = encode_source(tmp_path / "vfr.mp4", frames, gop=10, frame_times=times,
                        audio=tone(times[-1] + 0.1))
    info = probe_video(src)
    assert info.is_vfr
    out = tmp_path / "smart.mp4"
    report = write_clip(info, out, replace_range=(31, 33), replace_frame=paint, smart=True,
                        audio="copy")
    assert report.segments == ((30, 40),)
    check_smart(src, out, report, (31, 33))
    check_ffmpeg_frames(ffmpeg_exe, src, out, report)
    result = probe_video(out)
    assert result.is_vfr and np.allclose(result.frame_times, info.frame_times)
    ffmpeg_decodes_cleanly(out)
    import av
    with av.open(str(src)) as a, av.open(str(out)) as b:
        assert [bytes(p) for p in a.demux(a.streams.audio[0]) if p.size] == \
            [bytes(p) for p in b.demux(b.streams.audio[0]) if p.size]


def test_rotated_source_keeps_its_orientation(tmp_path, frames, ffmpeg_decodes_cleanly,
                                              ffmpeg_exe):
    src = encode_source(tmp_path / "rot.mp4", frames, gop=12, rotation=90)
    info = probe_video(src)
    assert info.rotation == 90 and (info.width, info.height) == (240, 320)
    out = tmp_path / "smart.mp4"
    report = write_clip(info, out, replace_range=(14, 16), replace_frame=paint, smart=True)
    result = probe_video(out)
    assert result.rotation == 90 and (result.width, result.height) == (240, 320)
    check_smart(src, out, report, (14, 16))  # the edit lands upright where it was drawn
    ffmpeg_decodes_cleanly(out)
    check_ffmpeg_frames(ffmpeg_exe, src, out, report)


def test_span_starting_and_ending_inside_gops(tmp_path, frames, ffmpeg_decodes_cleanly):
    src = encode_source(tmp_path / "src.mp4", frames, gop=12, bframes=3)
    info = probe_video(src)
    out = tmp_path / "span.mp4"
    report = write_clip(info, out, replace_range=(20, 22), replace_frame=paint, smart=True,
                        span=(5, 50))
    assert report.segments == ((5, 24), (48, 50))
    check_smart(src, out, report, (20, 22), span=(5, 50))
    ffmpeg_decodes_cleanly(out)


def test_dialogue_only_export_copies_every_video_packet(tmp_path, frames):
    src = encode_source(tmp_path / "src.mp4", frames, gop=12)
    out = tmp_path / "sound.mp4"
    report = write_clip(probe_video(src), out, audio=tone(2.4), smart=True, edit_ranges=[])
    assert report.mode == "smart" and report.frames_encoded == 0
    assert video_packets(out) == video_packets(src)
    assert probe_video(out).audio is not None


def test_hevc_closed_gops_are_joined(tmp_path, frames, ffmpeg_decodes_cleanly, ffmpeg_exe):
    src = encode_source(tmp_path / "hevc.mp4", frames, codec="libx265", gop=12, bframes=None)
    info = probe_video(src)
    assert info.codec == "hevc"
    out = tmp_path / "smart.mp4"
    report = write_clip(info, out, replace_range=(26, 30), replace_frame=paint, smart=True)
    assert report.segments == ((24, 36),)
    assert probe_video(out).codec == "hevc"
    check_smart(src, out, report, (26, 30))
    ffmpeg_decodes_cleanly(out)
    check_ffmpeg_frames(ffmpeg_exe, src, out, report)


def test_open_gop_hevc_falls_back_with_the_reason(tmp_path, frames, ffmpeg_decodes_cleanly):
    src = encode_source(tmp_path / "open.mp4", frames, codec="libx265", gop=12, bframes=None,
                        open_gop=True)
    out = tmp_path / "full.mp4"
    report = write_clip(probe_video(src), out, replace_range=(26, 30), replace_frame=paint,
                        smart=True)
    assert report.mode == "full" and "clean cut" in report.reason
    result = probe_video(out)
    assert result.codec == "h264" and result.frame_count == N
    ffmpeg_decodes_cleanly(out)


def test_settings_that_rule_smart_render_out(tmp_path, frames):
    src = encode_source(tmp_path / "src.mp4", frames, gop=12)
    info = probe_video(src)
    assert static_reason(info, EncodeSettings()) is None
    assert "CRF 0" in static_reason(info, EncodeSettings(crf=0))
    assert "h264_nvenc" in static_reason(info, EncodeSettings(video_codec="h264_nvenc"))
    report = write_clip(info, tmp_path / "lossless.mp4", replace_range=(20, 22),
                        replace_frame=paint, settings=EncodeSettings(crf=0), smart=True)
    assert report.mode == "full" and "CRF 0" in report.reason
    # one GOP only: nothing to copy
    single = encode_source(tmp_path / "one.mp4", frames, gop=250)
    from swaptalk_desktop.media.smart_render import SmartFallback
    with pytest.raises(SmartFallback, match="no whole GOP"):
        plan(probe_video(single), EncodeSettings(), [(20, 22)], None)


def test_new_dialogue_replaces_only_the_aac_packets_around_it(tmp_path):
    import av

    from swaptalk_desktop.media import load_audio, splice_audio
    n = 250  # 10 s
    rgb = moving_face_frames(n, 160, 120)
    src = encode_source(tmp_path / "src.mp4", rgb, gop=25, audio=tone(n / 25))
    info = probe_video(src)
    source_sound = load_audio(src)
    t = np.arange(48_000) / 48_000
    voice = 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    line = type(source_sound)(np.repeat(voice.astype(np.float32)[:, None], 2, axis=1),
                              48_000, None)
    spliced = splice_audio(source_sound, line, t0=4.0, t1=5.0, crossfade=0.02,
                           total_duration=source_sound.duration_s)
    out = tmp_path / "dub.mp4"
    report = write_clip(info, out, audio=spliced, smart=True, edit_ranges=[],
                        audio_changes=[(3.99, 5.01)])
    assert report.mode == "smart"
    with av.open(str(src)) as a, av.open(str(out)) as b:
        before = {p.pts: bytes(p) for p in a.demux(a.streams.audio[0]) if p.size}
        after = {p.pts: bytes(p) for p in b.demux(b.streams.audio[0]) if p.size}
    assert sorted(before) == sorted(after)
    changed = [pts for pts in before if before[pts] != after[pts]]
    # the changed second, two AAC frames either side, nothing else
    assert min(changed) >= 3.99 * 48_000 - 3 * 1024 and max(changed) <= 5.01 * 48_000 + 3 * 1024
    assert len(changed) < 60
    # decoded: the splice, within the coding noise of a full encode of it
    full = tmp_path / "full.mp4"
    write_clip(info, full, audio=spliced)
    want = spliced.samples
    got_smart = load_audio(out).samples[: len(want)]
    got_full = load_audio(full).samples[: len(want)]
    seg = slice(int(3.9 * 48_000), int(5.1 * 48_000))
    err_smart = np.sqrt(np.mean((got_smart[seg] - want[seg]) ** 2))
    err_full = np.sqrt(np.mean((got_full[seg] - want[seg]) ** 2))
    assert err_smart <= 1.5 * err_full + 2e-3, (err_smart, err_full)
    # away from the splice the sound is the source's decoded samples exactly
    far = slice(0, int(3.5 * 48_000))
    assert np.array_equal(got_smart[far], load_audio(src).samples[far])
