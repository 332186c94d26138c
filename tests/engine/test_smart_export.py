"""Export and ``swaptalk render`` use smart render by default; ``--full-encode`` opts out."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from smart_helpers import encode_source, tone, video_packets

from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions, export_clip
from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
from swaptalk_desktop.media import EncodeSettings, probe_video

FAST = EncodeSettings(preset="ultrafast")


@pytest.fixture(scope="module")
def gop_clip(tmp_path_factory):
    """A presenter clip with 0.48 s GOPs (12 frames) and B-frames, like a camera file."""
    frames = moving_face_frames(48, 640, 480, face_height=0.95)
    return encode_source(tmp_path_factory.mktemp("gop") / "take.mp4", frames, gop=12,
                         bframes=3, audio=tone(48 / 25))


def job_for(clip, start, stop, **kwargs) -> RangeJob:
    return RangeJob(video=clip, start=start, stop=stop, edit=EditOptions(color_match=False),
                    run=RunOptions(model_set="tint", chunk_frames=8, batch_size=4), **kwargs)


def test_export_is_smart_by_default_and_says_so(gop_clip, ctx, face_photo, tmp_path,
                                                 ffmpeg_decodes_cleanly):
    out = tmp_path / "smart.mp4"
    job = job_for(gop_clip, 14, 20, face=face_photo)
    result = export_clip(gop_clip, [job], out, ctx=ctx, encode=FAST)
    assert result.write["mode"] == "smart" and result.write["reason"] is None
    assert result.write["reencoded_ranges"] == [[12, 24]] and result.write["audio"] == "copied"
    assert result.write["frames_copied"] == 36 and result.frames_total == 48
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["write"] == result.write
    src = {pts: h for pts, _, h in video_packets(gop_clip)}
    info = probe_video(gop_clip)
    copied = {pts: h for pts, _, h in video_packets(out)}
    for k in list(range(0, 12)) + list(range(24, 48)):
        assert copied[int(info.pts[k])] == src[int(info.pts[k])]
    ffmpeg_decodes_cleanly(out)
    import av
    with av.open(str(out)) as container:  # the MP4's tags are as before
        assert "swaptalk_edits" in container.metadata

    full = export_clip(gop_clip, [job], tmp_path / "full.mp4", ctx=ctx, encode=FAST,
                       full_encode=True)
    assert full.write["mode"] == "full" and full.write["reason"] is None
    assert full.write["frames_reencoded"] == 48


def test_dialogue_only_edit_copies_the_whole_picture(gop_clip, ctx, dialogue, tmp_path):
    job = RangeJob(video=gop_clip, start=10, stop=30, audio=dialogue,
                   edit=EditOptions(sync=False), run=RunOptions(model_set="tint"))
    out = tmp_path / "line.mp4"
    result = export_clip(gop_clip, [job], out, ctx=ctx, encode=FAST)
    assert result.write["mode"] == "smart" and result.write["frames_reencoded"] == 0
    assert video_packets(out) == video_packets(gop_clip)
    # the sound: the source's AAC packets except around the new line
    assert result.write["audio"] == "patched"
    import av
    with av.open(str(gop_clip)) as a, av.open(str(out)) as b:
        before = [bytes(p) for p in a.demux(a.streams.audio[0]) if p.size]
        after = [bytes(p) for p in b.demux(b.streams.audio[0]) if p.size]
    assert len(before) == len(after)
    same = sum(x == y for x, y in zip(before, after, strict=True))
    assert 0 < same < len(before)


def test_single_gop_clip_falls_back_with_the_reason(clip, ctx, face_photo, tmp_path):
    result = export_clip(clip, [job_for(clip, 4, 12, face=face_photo)], tmp_path / "one.mp4",
                         ctx=ctx, encode=FAST)
    assert result.write["mode"] == "full"
    assert "no whole GOP" in result.write["reason"]
    assert json.loads(result.sidecar.read_text())["write"]["reason"] == result.write["reason"]


def test_render_cli_reports_the_path_and_takes_full_encode(gop_clip, models_dir, face_photo,
                                                            tmp_path):
    base = [sys.executable, "-m", "swaptalk_desktop", "render", "--video", str(gop_clip),
            "--start", "14", "--end", "20", "--face", str(face_photo),
            "--models-dir", str(models_dir / "tint"),
            "--model-set", "tint", "--chunk-frames", "8", "--batch-size", "4",
            "--preset", "ultrafast"]
    smart = subprocess.run(base + ["-o", str(tmp_path / "a.mp4"), "--json-progress"],
                           capture_output=True, text=True, timeout=300)
    assert smart.returncode == 0, smart.stderr
    done = [json.loads(x) for x in smart.stdout.splitlines() if x.strip()][-1]
    assert done["event"] == "done" and done["write"]["mode"] == "smart"
    full = subprocess.run(base + ["-o", str(tmp_path / "b.mp4"), "--full-encode"],
                          capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr
    assert "full encode" in full.stdout + full.stderr
    assert np.array_equal(probe_video(tmp_path / "b.mp4").pts, probe_video(gop_clip).pts)
