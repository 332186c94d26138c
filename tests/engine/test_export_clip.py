"""Several edits of one clip exported in one pass; processing ahead of the export; status."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from render_helpers import decode_all, save_png

from swaptalk_desktop.core.cancel import CancelToken
from swaptalk_desktop.core.errors import Cancelled, InputError
from swaptalk_desktop.engine import (
    EditOptions,
    RangeJob,
    RunOptions,
    export_clip,
    process_range,
    range_status,
)
from swaptalk_desktop.engine import process as process_module
from swaptalk_desktop.engine.workdir import JobFolder
from swaptalk_desktop.media import EncodeSettings, load_audio, probe_video

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")


def job_for(clip, start, stop, **kwargs) -> RangeJob:
    run = RunOptions(model_set="tint", chunk_frames=8, batch_size=4)
    return RangeJob(video=clip, start=start, stop=stop, edit=EditOptions(color_match=False),
                    run=run, **kwargs)


def changed_pixels(a, b) -> int:
    return int((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 6).sum())


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_two_edits_in_one_export_change_exactly_their_ranges(ctx, clip, dialogue, tmp_path):
    first = job_for(clip, 4, 12, audio=dialogue)
    # -0.5 s: the range plays the dialogue from 0.5 s in (a burst, a pause, a burst).
    second = job_for(clip, 24, 34, audio=dialogue, audio_offset=-0.5)
    out = tmp_path / "two.mp4"
    result = export_clip(clip, [second, first], out, ctx=ctx, encode=LOSSLESS)

    src, dst = decode_all(clip), decode_all(out)
    assert len(dst) == len(src) == result.frames_total == 40
    for i in range(40):
        if 4 <= i < 12 or 24 <= i < 34:
            assert changed_pixels(src[i], dst[i]) > 200, f"frame {i} of an edit is unchanged"
        else:
            assert np.array_equal(src[i], dst[i]), f"frame {i} outside the edits was altered"
    assert result.frames_edited + result.frames_without_face == 18
    assert result.chunks_reused + result.chunks_rendered == 3  # 1 + 2 chunks of 8 frames

    sidecar = json.loads(result.sidecar.read_text())
    assert [e["frames"] for e in sidecar["edits"]] == [[4, 12], [24, 34]]
    assert [e["dialogue"]["offset_s"] for e in sidecar["edits"]] == [0.0, -0.5]
    assert all(e["audio_replaced"] and e["sync"] for e in sidecar["edits"])
    assert sidecar["audio_mode"] == "replace"
    with av.open(str(out)) as container:
        tags = container.metadata
    assert "frames 4-11 and 24-33 of presenter.mp4" in tags["comment"]
    assert json.loads(tags["swaptalk_edits"])["edits"] == sidecar["edits"]

    # Sound: the source's tone outside the edits; in each edit the dialogue, whose pauses
    # are silent (the tone is gone) and whose bursts are loud noise.
    source, edited = load_audio(clip), load_audio(out)
    rate = source.sample_rate
    a, b = source.samples.mean(axis=1), edited.samples.mean(axis=1)

    def part(x, t0, t1):
        return x[int(t0 * rate):int(t1 * rate)]

    for t0, t1 in [(0.0, 0.13), (0.52, 0.92), (1.4, 1.6)]:
        assert rms(part(b, t0, t1) - part(a, t0, t1)) < 0.01, (t0, t1)
    assert rms(part(a, 0.35, 0.46)) > 0.06  # the tone the edits remove
    for burst, pause in [((0.19, 0.3), (0.36, 0.46)), ((1.15, 1.27), (0.99, 1.1))]:
        assert rms(part(b, *burst)) > 0.2, burst
        assert rms(part(b, *pause)) < 0.02, pause


def test_keep_and_mute_audio_modes(ctx, clip, dialogue, tmp_path):
    job = job_for(clip, 4, 12, audio=dialogue)
    kept = export_clip(clip, [job], tmp_path / "keep.mp4", ctx=ctx, encode=LOSSLESS,
                       audio_mode="keep")
    assert kept.chunks_reused == 0 and kept.chunks_rendered == 1
    assert np.array_equal(load_audio(tmp_path / "keep.mp4").samples, load_audio(clip).samples)
    record = json.loads(kept.sidecar.read_text())
    assert record["audio_mode"] == "keep" and not record["edits"][0]["audio_replaced"]

    muted = export_clip(clip, [job], tmp_path / "mute.mp4", ctx=ctx, encode=LOSSLESS,
                        audio_mode="mute")
    assert muted.chunks_reused == 1 and muted.chunks_rendered == 0
    assert probe_video(tmp_path / "mute.mp4").audio is None
    with pytest.raises(ValueError, match="audio_mode"):
        export_clip(clip, [job], tmp_path / "x.mp4", ctx=ctx, audio_mode="louder")


def test_processed_ranges_export_without_tracking_or_models(ctx, clip, dialogue, tmp_path,
                                                            monkeypatch):
    first = job_for(clip, 4, 12, audio=dialogue)
    second = job_for(clip, 24, 34, audio=dialogue)
    assert range_status(first, ctx) == (0, 1) and range_status(second, ctx) == (0, 2)
    done = [process_range(job, ctx=ctx) for job in (first, second)]
    assert [(r.chunks_reused, r.chunks_rendered) for r in done] == [(0, 1), (0, 2)]
    assert done[0].provider == "CPU"
    assert range_status(first, ctx) == (1, 1) and range_status(second, ctx) == (2, 2)

    def forbidden(*args, **kwargs):
        raise AssertionError("the export ran a stage the processing already did")

    from swaptalk_desktop.engine import track_span
    monkeypatch.setattr(track_span, "track_faces", forbidden)
    monkeypatch.setattr(process_module, "FaceProcessor", forbidden)
    result = export_clip(clip, [first, second], tmp_path / "out.mp4", ctx=ctx, encode=LOSSLESS)
    assert (result.chunks_reused, result.chunks_rendered) == (3, 0)


def test_range_status_counts_the_chunks_kept_by_a_cancelled_run(ctx, clip, dialogue,
                                                                monkeypatch):
    job = job_for(clip, 0, 40, audio=dialogue)
    assert range_status(job, ctx) == (0, 5)
    token = CancelToken()
    original = JobFolder.save_chunk

    def save_then_cancel_after_two(self, index, crops, present):
        original(self, index, crops, present)
        if len(self.finished_chunks()) == 2:
            token.cancel()

    monkeypatch.setattr(JobFolder, "save_chunk", save_then_cancel_after_two)
    with pytest.raises(Cancelled):
        process_range(job, ctx=ctx, cancel=token)
    assert range_status(job, ctx) == (2, 5)
    resumed = process_range(job, ctx=ctx)
    assert (resumed.chunks_reused, resumed.chunks_rendered) == (2, 3)
    assert range_status(job, ctx) == (5, 5)


def test_bad_exports_fail_in_one_line_before_any_work(ctx, clip, dialogue, tmp_path):
    out = tmp_path / "never.mp4"
    other = tmp_path / "other.mp4"
    other.write_bytes(clip.read_bytes())
    cases = [
        ([job_for(clip, 4, 12, audio=dialogue), job_for(clip, 10, 20, audio=dialogue)],
         "frames 4-11 and 10-19 overlap"),
        ([job_for(other, 4, 12, audio=dialogue)], "belongs to other.mp4, not presenter.mp4"),
        ([], "nothing to export"),
        ([job_for(clip, 4, 12, audio=dialogue), job_for(clip, 30, 50, audio=dialogue)],
         "outside presenter.mp4"),
    ]
    for jobs, message in cases:
        with pytest.raises(InputError, match=message) as err:
            export_clip(clip, jobs, out, ctx=ctx)
        assert "\n" not in str(err.value)
        assert not out.exists()
    assert list(tmp_path.iterdir()) == [other]


def test_status_of_a_broken_edit_is_remembered_until_its_file_changes(ctx, clip, tmp_path,
                                                                      monkeypatch):
    from swaptalk_desktop.engine import prepare as prepare_module
    blank = tmp_path / "blank.png"
    save_png(blank, np.full((64, 64, 3), 128, np.uint8))
    job = job_for(clip, 0, 8, face=blank)
    with pytest.raises(InputError, match="no face found in .*blank.png") as first:
        range_status(job, ctx)
    real_prepare = prepare_module.prepare_job
    calls = []
    monkeypatch.setattr(prepare_module, "prepare_job",
                        lambda *a, **k: calls.append(a) or real_prepare(*a, **k))
    with pytest.raises(InputError) as again:
        range_status(job, ctx)
    assert str(again.value) == str(first.value) and calls == []
    save_png(blank, np.full((64, 80, 3), 100, np.uint8))  # the user fixed (or changed) the file
    with pytest.raises(InputError):
        range_status(job, ctx)
    assert len(calls) == 1


def test_marked_span_is_written_as_its_own_file(ctx, clip, dialogue, tmp_path):
    from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions, export_clip
    from swaptalk_desktop.media import EncodeSettings, load_audio, probe_video
    job = RangeJob(video=clip, start=10, stop=20, audio=dialogue,
                   edit=EditOptions(color_match=False),
                   run=RunOptions(model_set="tint", chunk_frames=8))
    whole, part = tmp_path / "whole.mp4", tmp_path / "part.mp4"
    lossless = EncodeSettings(crf=0, preset="ultrafast")
    export_clip(clip, [job], whole, ctx=ctx, encode=lossless)
    result = export_clip(clip, [job], part, ctx=ctx, encode=lossless, span=(6, 26))
    info = probe_video(part)
    assert info.frame_count == result.frames_total == 20 and info.frame_times[0] == 0
    full, cut = decode_all(whole), decode_all(part)
    for k in range(20):
        assert np.array_equal(cut[k], full[6 + k]), f"span frame {k} != source frame {6 + k}"
    whole_audio, part_audio = load_audio(whole), load_audio(part)
    rate = part_audio.sample_rate
    assert abs(part_audio.duration_s - 20 / 25) < 0.05
    a = whole_audio.samples[int(0.24 * rate) + 4096:int(1.04 * rate) - 4096, 0]
    b = part_audio.samples[4096:len(a) + 4096, 0]
    assert np.corrcoef(a, b)[0, 1] > 0.95, "the span's sound is not the export's sound there"
    with pytest.raises(InputError, match="no edit lies"):
        export_clip(clip, [job], tmp_path / "none.mp4", ctx=ctx, span=(25, 40))
