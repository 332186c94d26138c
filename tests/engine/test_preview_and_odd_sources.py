"""The single-frame preview path, and sources that are rotated or have odd sizes."""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import decode_all

from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions, preview_frame, render_range
from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
from swaptalk_desktop.media import EncodeSettings, make_test_clip, probe_video

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")


def tint_job(clip, audio, start=4, stop=12):
    return RangeJob(video=clip, start=start, stop=stop, audio=audio,
                    edit=EditOptions(color_match=False),
                    run=RunOptions(model_set="tint", chunk_frames=4, batch_size=4))


def test_preview_before_and_after_processing(ctx, clip, dialogue, tmp_path):
    job = tint_job(clip, dialogue)
    fresh = preview_frame(job, 8, ctx=ctx)
    assert fresh.face_found and not fresh.from_cache
    changed = np.abs(fresh.processed.astype(int) - fresh.original.astype(int)).max(-1) > 6
    assert 200 < changed.sum() < 0.1 * changed.size

    outside = preview_frame(job, 20, ctx=ctx)
    assert np.array_equal(outside.original, outside.processed)

    out = tmp_path / "r.mp4"
    render_range(job, out, ctx=ctx, encode=LOSSLESS)
    cached = preview_frame(job, 8, ctx=ctx)
    assert cached.from_cache
    rendered = decode_all(out)[8]
    # the export converts the changed pixels to YUV 4:2:0 and back; nothing else differs
    assert np.abs(cached.processed.astype(int) - rendered.astype(int)).mean() < 0.5
    assert np.array_equal(cached.original, decode_all(clip)[8])


@pytest.mark.parametrize("case", ["rotated 90", "odd size"])
def test_rotated_and_odd_sized_sources(case, ctx, dialogue, tmp_path):
    frames = moving_face_frames(16, 480, 360, face_height=0.95)
    if case == "rotated 90":
        # stored sideways with display rotation, as phones write portrait video
        stored = np.ascontiguousarray(np.rot90(frames, k=1, axes=(1, 2)))
        clip = make_test_clip(tmp_path / "phone.mp4", stored, crf=0, rotation=90)
        upright = (360, 480)
    else:
        clip = make_test_clip(tmp_path / "odd.mp4", frames[:, :359, :477], crf=0)
        upright = (359, 477)
    info = probe_video(clip)
    assert (info.height, info.width) == upright
    out = tmp_path / "out.mp4"
    render_range(tint_job(clip, dialogue), out, ctx=ctx, encode=LOSSLESS)
    result = probe_video(out)
    assert (result.height, result.width, result.rotation) == (*upright, 0)
    src, dst = decode_all(clip), decode_all(out)
    assert np.array_equal(src[0], dst[0]) and np.array_equal(src[15], dst[15])
    det = max(ctx.landmarker.detect(src[8]), key=lambda d: d.area)
    mouth = det.landmarks[[13, 14, 61, 291]].mean(axis=0).round().astype(int)
    diff = np.abs(src[8].astype(int) - dst[8].astype(int)).max(-1)
    assert diff[mouth[1] - 3:mouth[1] + 4, mouth[0] - 3:mouth[0] + 4].mean() > 20


def test_rotated_source_decodes_upright(tmp_path):
    frames = moving_face_frames(2, 480, 360, face_height=0.95)
    stored = np.ascontiguousarray(np.rot90(frames, k=1, axes=(1, 2)))
    clip = make_test_clip(tmp_path / "phone.mp4", stored, crf=0, rotation=90)
    first = decode_all(clip)[0]
    assert np.abs(first.astype(int) - frames[0].astype(int)).mean() < 3
