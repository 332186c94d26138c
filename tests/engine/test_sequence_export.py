"""A sequence of clips exported to one MP4 (engine.sequence_export, media.concat)."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from render_helpers import decode_all

from swaptalk_desktop.core.cancel import NEVER
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions
from swaptalk_desktop.engine.jobs import run_payload
from swaptalk_desktop.engine.sequence_export import SequencePart, export_sequence
from swaptalk_desktop.eval.synthetic_clip import write_moving_face_clip
from swaptalk_desktop.media import EncodeSettings, probe_video

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")


def job_for(clip, start, stop, **kwargs) -> RangeJob:
    run = RunOptions(model_set="tint", chunk_frames=8, batch_size=4)
    return RangeJob(video=clip, start=start, stop=stop, edit=EditOptions(color_match=False),
                    run=run, **kwargs)


def changed(a, b) -> int:
    return int((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 6).sum())


@pytest.fixture(scope="module")
def silent_take(tmp_path_factory):
    folder = tmp_path_factory.mktemp("take")
    return write_moving_face_clip(folder / "silent_take.mp4", n=30, width=640, height=480,
                                  face_height=0.95, with_audio=False)


def test_three_clips_join_and_only_the_edited_ranges_differ(ctx, clip, silent_take,
                                                            dialogue, face_photo, tmp_path):
    parts = [SequencePart(clip, 2, 38, (job_for(clip, 4, 12, audio=dialogue),)),
             SequencePart(silent_take, 0, 30),  # untouched, no sound of its own
             SequencePart(clip, 5, 30, (job_for(clip, 10, 20, face=face_photo),
                                              job_for(clip, 32, 40, face=face_photo)))]
    out = tmp_path / "cut.mp4"
    result = export_sequence(parts, out, ctx=ctx, encode=LOSSLESS)

    a, b = decode_all(clip), decode_all(silent_take)
    expected = a[2:38] + b + a[5:30]
    edited = {i for i in range(4 - 2, 12 - 2)} | {66 + i - 5 for i in range(10, 20)}
    got = decode_all(out)
    assert len(got) == result.frames_total == 36 + 30 + 25
    for i, (x, y) in enumerate(zip(expected, got, strict=True)):
        if i in edited:
            assert changed(x, y) > 200, f"frame {i} of an edit is unchanged"
        else:
            assert np.array_equal(x, y), f"frame {i} outside the edits was altered"
    info = probe_video(out)
    assert info.frame_count == 91 and info.fps == 25 and info.audio is not None
    assert abs(info.audio.duration_s - 91 / 25) < 0.05  # one sound track as long as the cut
    assert not list(tmp_path.glob(".*")), "the parts' folder or a lock was left behind"

    sidecar = json.loads(result.sidecar.read_text())
    assert [c["file"] for c in sidecar["clips"]] == ["presenter.mp4", "silent_take.mp4",
                                                     "presenter.mp4"]
    assert [c["sequence_frames"] for c in sidecar["clips"]] == [[0, 36], [36, 66], [66, 91]]
    assert [[e["frames"] for e in c["edits"]] for c in sidecar["clips"]] == \
        [[[4, 12]], [], [[10, 20]]]  # the edit at 32-39 lies outside the third clip's trim
    assert result.clips_edited == 2 and sidecar["synthetic"] is True
    with av.open(str(out)) as container:
        assert json.loads(container.metadata["swaptalk_edits"])["clips"] == sidecar["clips"]
    assert "presenter.mp4 frames 4-11; presenter.mp4 frames 10-19" in sidecar["summary"]


def test_a_marked_range_of_the_sequence_through_the_job_payload(ctx, clip, silent_take,
                                                                face_photo, tmp_path):
    parts = [SequencePart(clip, 0, 40, (job_for(clip, 30, 38, face=face_photo),)),
             SequencePart(silent_take, 0, 30)]
    out = tmp_path / "part.mp4"
    payload = {"kind": "export", "sequence": [p.describe() for p in parts],
               "output": str(out), "encode": {"crf": 0, "preset": "ultrafast"},
               "span": [35, 50]}
    events = []
    result = run_payload(payload, ctx, events.append, NEVER)
    got, a, b = decode_all(out), decode_all(clip), decode_all(silent_take)
    assert len(got) == result.frames_total == 15
    for i, (x, y) in enumerate(zip(a[35:40] + b[:10], got, strict=True)):
        assert (changed(x, y) > 200) == (i < 3), i  # frames 35-37 are the edit's
    assert [c["source_frames"] for c in json.loads(result.sidecar.read_text())["clips"]] == \
        [[35, 40], [0, 10]]
    assert any(e.message.startswith("clip 2 of 2") for e in events)


def test_clips_of_another_size_are_refused_before_any_work(ctx, clip, tmp_path):
    small = write_moving_face_clip(tmp_path / "small.mp4", n=5, width=320, height=240)
    with pytest.raises(InputError, match=r"small.mp4 is 320×240 at 25 fps but presenter.mp4 "
                                         r"is 640×480 at 25 fps; a sequence exports clips of "
                                         r"one size and frame rate"):
        export_sequence([SequencePart(clip, 0, 40), SequencePart(small, 0, 5)],
                        tmp_path / "x.mp4", ctx=ctx)
    with pytest.raises(InputError, match="outside it"):
        export_sequence([SequencePart(clip, 0, 41)], tmp_path / "x.mp4", ctx=ctx)
    with pytest.raises(InputError, match="the sequence is empty"):
        export_sequence([], tmp_path / "x.mp4", ctx=ctx)
    assert not (tmp_path / "x.mp4").exists()
