"""The range renderer on synthetic clips with test graphs whose effect is known exactly."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from render_helpers import decode_all, write_speech_like

from swaptalk_desktop.core.errors import Cancelled, InputError, ModelError
from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions, render_range
from swaptalk_desktop.faces import alignment_matrix, face_mask, transform_points, warp_to_crop
from swaptalk_desktop.media import EncodeSettings

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")


def job_for(clip, model_set, start=10, stop=30, **kwargs):
    run = RunOptions(model_set=model_set, chunk_frames=kwargs.pop("chunk_frames", 8),
                     batch_size=kwargs.pop("batch_size", 4))
    # these tests drive the latent stages through synthetic model sets; the mesh-warp swap has
    # its own tests (test_warp_swap_render.py)
    edit = EditOptions(color_match=kwargs.pop("color_match", False),
                       **{"swap_method": "latent", **kwargs.pop("edit", {})})
    return RangeJob(video=clip, start=start, stop=stop, edit=edit, run=run, **kwargs)


def face_box(ctx, rgb, grow=0.15):
    det = max(ctx.landmarker.detect(rgb), key=lambda d: d.area)
    x0, y0, x1, y1 = det.bbox
    gx, gy = (x1 - x0) * grow, (y1 - y0) * grow
    return det, (int(x0 - gx), int(y0 - gy), int(x1 + gx) + 1, int(y1 + gy) + 1)


def changed(a, b, level=6):
    return np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > level


def test_only_the_face_in_the_range_changes(ctx, clip, dialogue, tmp_path):
    out = tmp_path / "out.mp4"
    result = render_range(job_for(clip, "tint", audio=dialogue), out, ctx=ctx, encode=LOSSLESS)
    src, dst = decode_all(clip), decode_all(out)
    assert len(dst) == len(src) == result.frames_total == 40
    for i in list(range(10)) + list(range(30, 40)):
        assert np.array_equal(src[i], dst[i]), f"frame {i} outside the range was altered"
    for i in range(10, 30):
        det, (x0, y0, x1, y1) = face_box(ctx, src[i])
        diff = changed(src[i], dst[i])
        inside = diff[max(y0, 0):y1, max(x0, 0):x1].sum()
        assert diff.sum() > 200, f"frame {i}: the face was not edited"
        assert inside == diff.sum(), f"frame {i}: pixels changed outside the face box"
        # a sync-only edit touches the mouth: nothing above the base of the nose may change
        # (2 px of slack: the engine pastes through smoothed tracks, not this detection)
        nose_y = int(det.landmarks[2, 1]) - 2
        assert not diff[:nose_y].any(), f"frame {i}: the face above the mouth changed in a " \
            "sync-only edit"
        moved = dst[i].astype(int) - src[i].astype(int)
        assert moved[diff][:, 0].mean() > 20 > moved[diff][:, 1].mean(), "not the graph's tint"


def test_swap_puts_the_identity_photo_on_the_aligned_face(ctx, clip, face_photo, tmp_path):
    out = tmp_path / "swap.mp4"
    render_range(job_for(clip, "source", face=face_photo, start=0, stop=12), out, ctx=ctx,
                 encode=LOSSLESS)
    from swaptalk_desktop.faces import load_identity_photo
    rgb, det = load_identity_photo(face_photo, ctx.landmarker)
    identity = warp_to_crop(rgb, alignment_matrix(det.landmarks), 256).astype(float)
    src, dst = decode_all(clip), decode_all(out)
    for i in (0, 6, 11):
        lm = max(ctx.landmarker.detect(src[i]), key=lambda d: d.area).landmarks
        m = alignment_matrix(lm)
        core = face_mask(transform_points(lm, m), "face", 12.0) > 0.99
        before, after = (warp_to_crop(f, m, 256).astype(float) for f in (src[i], dst[i]))
        err_after = np.abs(after - identity)[core].mean()
        err_before = np.abs(before - identity)[core].mean()
        # the face is ~90 px on screen, so the round trip through it blurs the 256 px crop
        assert err_after < 20 and err_after < err_before / 3, (i, err_after, err_before)


def test_audio_drives_the_lower_face(ctx, clip, tmp_path):
    loud = write_speech_like(tmp_path / "loud.wav", 2.0, loud=True)
    quiet = write_speech_like(tmp_path / "quiet.wav", 2.0, loud=False)
    frames = {}
    for name, audio in (("loud", loud), ("quiet", quiet)):
        render_range(job_for(clip, "mel", audio=audio), tmp_path / f"{name}.mp4", ctx=ctx,
                     encode=LOSSLESS)
        frames[name] = decode_all(tmp_path / f"{name}.mp4")
    src = decode_all(clip)
    lm = max(ctx.landmarker.detect(src[20]), key=lambda d: d.area).landmarks
    mouth = np.round(lm[[13, 14, 61, 291]].mean(axis=0)).astype(int)
    patch = np.s_[mouth[1] - 3:mouth[1] + 4, mouth[0] - 6:mouth[0] + 7]
    loud_level = frames["loud"][20][patch].mean()
    quiet_level = frames["quiet"][20][patch].mean()
    assert loud_level > quiet_level + 15, (loud_level, quiet_level)
    eyes_y = int(lm[[33, 263], 1].min())
    assert np.array_equal(frames["loud"][20][:eyes_y], frames["quiet"][20][:eyes_y])


def test_cancel_then_rerun_resumes_and_matches_an_uninterrupted_run(
        ctx, clip, dialogue, tmp_path, monkeypatch):
    job = job_for(clip, "tint", audio=dialogue, start=0, stop=40)
    out = tmp_path / "resumed.mp4"
    from swaptalk_desktop.core.cancel import CancelToken
    token = CancelToken()

    def stop_after_two_chunks(ev):
        if ev.stage == "render" and ev.done >= 16:
            token.cancel()

    with pytest.raises(Cancelled):
        render_range(job, out, ctx=ctx, progress=stop_after_two_chunks, cancel=token)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    resumed = render_range(job, out, ctx=ctx)
    assert resumed.chunks_reused >= 2 and resumed.chunks_rendered == 5 - resumed.chunks_reused

    monkeypatch.setenv("SWAPTALK_CACHE_DIR", str(tmp_path / "fresh-cache"))
    whole = render_range(job, tmp_path / "whole.mp4", ctx=ctx)
    assert whole.chunks_reused == 0 and whole.chunks_rendered == 5
    for a, b in zip(decode_all(out), decode_all(tmp_path / "whole.mp4"), strict=True):
        assert np.array_equal(a, b)


def test_export_records_what_was_changed(ctx, clip, dialogue, face_photo, tmp_path):
    out = tmp_path / "marked.mp4"
    result = render_range(job_for(clip, "source", face=face_photo, audio=dialogue,
                                  audio_offset=0.25), out, ctx=ctx, encode=LOSSLESS)
    sidecar = json.loads(result.sidecar.read_text())
    assert result.sidecar.name == "marked.mp4.swaptalk.json"
    assert sidecar["synthetic"] is True
    edit = sidecar["edits"][0]
    assert edit["frames"] == [10, 30] and edit["swap"] and edit["sync"]
    assert edit["dialogue"]["offset_s"] == 0.25 and len(edit["dialogue"]["sha256"]) == 64
    stages = {m["stage"] for m in sidecar["models"]}
    assert stages == {"encode", "swap", "sync", "decode"}
    assert all(len(m["sha256"]) == 64 for m in sidecar["models"])
    with av.open(str(out)) as container:
        tags = container.metadata
    assert "frames 10-29" in tags["comment"]
    assert json.loads(tags["swaptalk_edits"])["models"] == sidecar["models"]


def test_frames_without_a_face_are_left_alone(ctx, tmp_path, dialogue, caplog):
    from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
    from swaptalk_desktop.media import make_test_clip
    frames = moving_face_frames(24, 640, 480, face_height=0.95)
    blank = moving_face_frames(24, 640, 480, face_height=0.95,
                               face=np.full((512, 512, 3), 128, np.uint8))
    frames[8:20] = blank[8:20]  # the presenter "leaves": a grey card where the face was
    clip = make_test_clip(tmp_path / "gap.mp4", frames, crf=0)
    out = tmp_path / "gap_out.mp4"
    result = render_range(job_for(clip, "tint", audio=dialogue, start=0, stop=24), out, ctx=ctx,
                          encode=LOSSLESS)
    src, dst = decode_all(clip), decode_all(out)
    assert result.frames_without_face > 0
    assert "left unchanged" in caplog.text
    edited = [i for i in range(24) if changed(src[i], dst[i]).any()]
    assert edited and not set(edited) & set(range(8, 20)), edited


def test_tampered_model_is_refused_naming_the_file(clip, dialogue, tmp_path, models_dir):
    import shutil

    from swaptalk_desktop.engine import EngineContext
    from swaptalk_desktop.inference import ModelRegistry
    copy = tmp_path / "tampered"
    shutil.copytree(models_dir / "tint", copy)
    decode = next(copy.glob("*decode.onnx"))
    data = bytearray(decode.read_bytes())
    data[-1] ^= 0xFF
    decode.write_bytes(bytes(data))
    ctx = EngineContext(ModelRegistry(extra_dirs=[copy], include_builtin=False,
                                      include_user=False))
    with pytest.raises(ModelError, match="decode.onnx.*sha256"):
        render_range(job_for(clip, "tint", audio=dialogue), tmp_path / "x.mp4", ctx=ctx)
    assert not (tmp_path / "x.mp4").exists()


def test_nothing_to_do_is_an_error(ctx, clip, tmp_path):
    with pytest.raises(InputError, match="nothing to change"):
        render_range(job_for(clip, "tint"), tmp_path / "x.mp4", ctx=ctx)


def test_dialogue_only_edit_replaces_the_sound_and_keeps_the_picture(ctx, clip, dialogue,
                                                                     tmp_path):
    from swaptalk_desktop.media import load_audio
    job = job_for(clip, "tint", audio=dialogue, edit={"sync": False})
    result = render_range(job, tmp_path / "dub.mp4", ctx=ctx, encode=LOSSLESS)
    assert result.chunks_rendered == 0 and result.provider == "none"
    for a, b in zip(decode_all(clip), decode_all(tmp_path / "dub.mp4"), strict=True):
        assert np.array_equal(a, b)
    heard = load_audio(tmp_path / "dub.mp4").samples.mean(axis=1)
    rate = load_audio(tmp_path / "dub.mp4").sample_rate
    inside = heard[int(0.5 * rate):int(1.1 * rate)]
    assert np.abs(inside).max() > 0.1, "the new line is not heard in the range"
    sidecar = json.loads(result.sidecar.read_text())
    assert "dialogue replaced" in sidecar["summary"] and sidecar["models"] == []


def test_sync_reference_is_one_closed_mouth_frame_not_the_frame_itself(ctx, dialogue, tmp_path):
    """The sync stage must never see the frame's own mouth: with the 'reference' test graph
    (lower half = the reference's), every generated lower face is the same closed-mouth one."""
    import cv2

    from swaptalk_desktop.engine import process_range
    from swaptalk_desktop.engine.prepare import prepare_job
    from swaptalk_desktop.engine.process import open_folders
    from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
    from swaptalk_desktop.media import make_test_clip
    still = moving_face_frames(1, 640, 480, face_height=0.95)[0]
    mouth = max(ctx.landmarker.detect(still), key=lambda d: d.area).landmarks[[13, 14]].mean(0)
    frames = np.repeat(still[None], 12, axis=0)
    for i in range(1, 12, 2):  # odd frames: the mouth wide open (a dark ellipse)
        cv2.ellipse(frames[i], (int(mouth[0]), int(mouth[1])), (9, 6), 0, 0, 360, (20, 5, 5), -1)
    clip = make_test_clip(tmp_path / "talk.mp4", frames, crf=0)
    job = job_for(clip, "tint", audio=dialogue, start=0, stop=12)
    process_range(job, ctx=ctx)
    _, folder = open_folders(prepare_job(job, None, ctx))
    crops = np.concatenate([folder.load_chunk(i)[0] for i in folder.finished_chunks()])
    lower = crops[:, 128:].astype(int)
    assert np.abs(lower - lower[0]).max() <= 1, "each frame got its own mouth as reference"
    # and that one reference is a closed-mouth (even) frame: its mouth is not dark
    assert lower[0].mean() > crops[1, 128:].mean() - 1
    center = lower[0][20:60, 100:156]
    assert center.mean() > 80, "the reference chosen has the open (dark) mouth"


def test_reference_frame_picks_the_most_closed_mouth():
    from swaptalk_desktop.engine.frames import mouth_opening, reference_frame
    base = np.zeros((478, 2), np.float32)
    base[33], base[263] = (100, 100), (160, 100)
    frames = np.repeat(base[None], 5, axis=0)
    gaps = [10.0, 4.0, 1.0, 6.0, 1.0]
    for k, gap in enumerate(gaps):
        frames[k, 13], frames[k, 14] = (130, 150), (130, 150 + gap)
    assert mouth_opening(frames[2]) == pytest.approx(1 / 60)
    present = np.array([True, True, True, True, True])
    assert reference_frame(frames, present, start=40) == 42
    present[2] = False
    assert reference_frame(frames, present, start=40) == 44
    assert reference_frame(frames, np.zeros(5, bool), start=40) is None
