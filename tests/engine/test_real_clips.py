"""Acceptance on real footage: a 2-second range of every clip gets new dialogue.

The test graphs tint the lower face strongly, so a re-generated frame cannot pass for an
untouched one: frames outside the range must match the source decode within re-encoding
noise, and frames inside must change in the lower face and nowhere far from it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from render_helpers import decode_all

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.timebase import seconds_to_frame
from swaptalk_desktop.media import load_audio, probe_video, resample

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CLIPS = sorted((SHARED / "videos" / "talking").glob("*.mp4")) + \
    sorted((SHARED / "videos" / "no_audio").glob("*.mp4"))
DIALOGUE = ["en_obama_5s_M.wav", "en_anitalker_male.mp3", "en_dreamtalk_acknowledgement_M.m4a",
            "ru_sadtalker_eluosi_F.wav", "zh_sadtalker_chinese_news_F.wav"]


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    """Highest normalised correlation of two mono signals within ±max_lag samples (AAC
    encoders add a priming delay of about a thousand samples)."""
    best = 0.0
    n = min(len(a), len(b)) - 2 * max_lag
    core = a[max_lag:max_lag + n]
    for lag in range(0, 2 * max_lag + 1, 8):
        seg = b[lag:lag + n]
        denom = np.linalg.norm(core) * np.linalg.norm(seg)
        if denom > 0:
            best = max(best, float(core @ seg / denom))
    return best


def mono(clip, rate):
    return resample(clip, rate, 1).samples[:, 0]


@pytest.mark.slow
@pytest.mark.parametrize("video", CLIPS, ids=[c.stem for c in CLIPS])
def test_two_second_dub_of_a_real_clip(video, shared_data, models_dir, ctx, tmp_path,
                                       ffmpeg_decodes_cleanly):
    index = CLIPS.index(video)
    audio = shared_data / "audio" / DIALOGUE[index % len(DIALOGUE)]
    src_info = probe_video(video)
    start = seconds_to_frame(1.0, src_info.fps, src_info.frame_times)
    stop = seconds_to_frame(3.0, src_info.fps, src_info.frame_times)
    out = tmp_path / f"{video.stem}_dub.mp4"
    code = main(["render", "--video", str(video), "--start", "1s", "--end", "3s",
                 "--audio", str(audio), "-o", str(out), "--models-dir",
                 str(models_dir / "tint"), "--no-color-match", "--preset", "ultrafast",
                 "--quiet"])
    assert code == 0

    # plays: the independent ffmpeg decodes every frame without a complaint
    ffmpeg_decodes_cleanly(out)
    info = probe_video(out)
    assert (info.width, info.height) == (src_info.width, src_info.height)
    assert info.frame_count == src_info.frame_count
    assert info.fps == src_info.fps and info.is_vfr == src_info.is_vfr
    np.testing.assert_allclose(info.frame_times, src_info.frame_times, atol=1e-4)

    src, dst = decode_all(video), decode_all(out)
    assert len(dst) == len(src)
    landmarker = ctx.landmarker
    for i in sorted({0, start - 1, stop, len(src) - 1} - {-1}):
        err = np.abs(src[i].astype(np.int16) - dst[i].astype(np.int16)).mean()
        assert err < 3.0, f"frame {i} outside the range differs by {err:.2f} levels"
    for i in (start, (start + stop) // 2, stop - 1):
        det = max(landmarker.detect(src[i]), key=lambda d: d.area)
        diff = np.abs(src[i].astype(np.int16) - dst[i].astype(np.int16)).max(axis=-1)
        mouth = det.landmarks[[13, 14, 61, 291]].mean(axis=0).round().astype(int)
        r = max(2, int((det.bbox[2] - det.bbox[0]) * 0.06))
        assert diff[mouth[1] - r:mouth[1] + r, mouth[0] - r:mouth[0] + r].mean() > 20, \
            f"frame {i}: the mouth was not re-rendered"
        x0, y0, x1, y1 = det.bbox
        pad_x, pad_y = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
        far = np.ones(diff.shape, bool)
        far[max(0, int(y0 - pad_y)):int(y1 + pad_y), max(0, int(x0 - pad_x)):int(x1 + pad_x)] = 0
        assert diff[far].mean() < 3.0, f"frame {i}: pixels far from the face changed"

    # the new dialogue is heard inside the range, the original sound outside it
    got = load_audio(out)
    rate = got.sample_rate
    heard = mono(got, rate)
    line = mono(load_audio(audio), rate)
    t0, t1 = src_info.audio_time(start), src_info.audio_time(stop)
    a, b = int((t0 + 0.1) * rate), int((t1 - 0.1) * rate)
    skip = int(0.1 * rate)  # the dialogue's first 0.1 s sits under the crossfade
    assert best_correlation(line[skip:skip + b - a], heard[a - 2048:b + 2048], 2048) > 0.9
    if src_info.audio is None:
        assert np.abs(heard[: int((t0 - 0.1) * rate)]).max() < 1e-3
    else:
        before = mono(load_audio(video), rate)
        e = int((t0 - 0.1) * rate)
        if np.abs(before[:e]).max() > 1e-3:
            assert best_correlation(before[2048:e], heard[:e + 2048], 2048) > 0.9
        else:
            assert np.abs(heard[:e]).max() < 1e-2


def test_real_clip_list_is_complete(shared_data):
    names = {c.name for c in CLIPS}
    assert len(names) == 22 and "vr_man_suit.mp4" in names and "lp_d13_man_selfie.mp4" in names
    assert {probe_video(c).codec for c in CLIPS} >= {"h264", "hevc"}
    assert os.path.getsize(shared_data / "manifest.csv") > 0
