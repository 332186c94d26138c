"""Swaps through the engine with the default mesh-warp method: no model runs for a swap alone,
only the face in the range changes, the export says how it was made; with the shipped lips
stage, swap + sync draws the photo's face on the actor's own chosen mouths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from render_helpers import decode_all

from swaptalk_desktop.engine import (
    EditOptions,
    EngineContext,
    RangeJob,
    RunOptions,
    preview_frame,
    render_range,
)
from swaptalk_desktop.engine.frames import mouth_opening
from swaptalk_desktop.engine.prepare import prepare_job
from swaptalk_desktop.engine.process import track_folder
from swaptalk_desktop.inference import ModelRegistry
from swaptalk_desktop.media import EncodeSettings, load_audio, to_mono_16k

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TED = SHARED / "videos" / "talking" / "hdtf_tedlieu_60s.mp4"
LINE = SHARED / "audio" / "en_obama_5s_M.wav"


def _changed(a, b, level=6):
    return np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > level


def test_a_swap_alone_runs_no_model_and_changes_only_the_face(ctx, clip, face_photo, tmp_path):
    job = RangeJob(video=clip, start=10, stop=20, face=face_photo,
                   edit=EditOptions(color_match=False),
                   run=RunOptions(model_set="tint", chunk_frames=8))
    assert job.edit.swap_method == "warp"
    out = tmp_path / "swap.mp4"
    result = render_range(job, out, ctx=ctx, encode=LOSSLESS)
    src, dst = decode_all(clip), decode_all(out)
    assert len(dst) == len(src)
    for i in (0, 9, 20, 39):
        assert np.array_equal(src[i], dst[i]), f"frame {i} outside the range was altered"
    for i in range(10, 20):
        det = max(ctx.landmarker.detect(src[i]), key=lambda d: d.area)
        x0, y0, x1, y1 = det.bbox
        diff = _changed(src[i], dst[i])
        assert diff.sum() > 2000, f"frame {i}: the face was not swapped"
        ys, xs = np.nonzero(diff)
        pad = 4
        assert xs.min() >= x0 - pad and xs.max() <= x1 + pad and ys.min() >= y0 - pad \
            and ys.max() <= y1 + pad, f"frame {i}: pixels changed outside the face"
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["edits"][0]["swap_method"] == "warp"
    assert sidecar["models"] == [], "a mesh-warp swap runs no model and must not list one"
    # a preview of an unprocessed frame is the export's frame
    shown = preview_frame(job, 15, ctx=ctx)
    assert not shown.needs_processing
    assert np.abs(shown.processed.astype(int) - dst[15].astype(int)).mean() < 2


def test_an_unknown_swap_method_is_refused():
    with pytest.raises(ValueError, match="warp, latent"):
        EditOptions(swap_method="paint")


def test_the_latent_method_still_runs_the_swap_stage(ctx, clip, face_photo, tmp_path):
    job = RangeJob(video=clip, start=10, stop=14, face=face_photo,
                   edit=EditOptions(color_match=False, swap_method="latent"),
                   run=RunOptions(model_set="tint", chunk_frames=8))
    result = render_range(job, tmp_path / "latent.mp4", ctx=ctx, encode=LOSSLESS)
    sidecar = json.loads(result.sidecar.read_text())
    assert "swap" in {m["stage"] for m in sidecar["models"]}
    assert sidecar["edits"][0]["swap_method"] == "latent"


@pytest.mark.skipif(not (TED.is_file() and LINE.is_file()), reason="needs ../shared/data")
def test_swap_and_sync_draw_the_photo_on_the_actors_chosen_mouths(face_photo, tmp_path):
    registry = ModelRegistry(include_user=False)
    if not registry.get_set(registry.default_set_id()).stages.get("lips"):
        pytest.skip("the default set has no lips stage")
    shipped = EngineContext(registry)
    speech = tmp_path / "line.wav"
    sf.write(speech, to_mono_16k(load_audio(LINE))[:16000 * 2], 16000)
    start, stop = 500, 550
    job = RangeJob(video=TED, start=start, stop=stop, face=face_photo, audio=speech,
                   run=RunOptions(chunk_frames=25))
    out = tmp_path / "both.mp4"
    render_range(job, out, ctx=shipped, encode=LOSSLESS)
    p = prepare_job(job, None, shipped)
    assert (track_folder(p).path / "library.npz").exists(), "the mouth library was not used"
    sidecar = json.loads(out.with_name(out.name + ".swaptalk.json").read_text())
    assert {m["stage"] for m in sidecar["models"]} >= {"lips"}
    src, dst = decode_all(TED)[:stop + 5], decode_all(out)[:stop + 5]
    openings, swapped = [], 0
    for i in range(start, stop):
        found = shipped.landmarker.detect(dst[i])
        assert found, f"frame {i} of the result shows no face"
        openings.append(mouth_opening(max(found, key=lambda d: d.area).landmarks))
        swapped += _changed(src[i], dst[i]).sum() > 3000
    assert swapped == stop - start, "every frame of the range shows the photo's face"
    assert np.array_equal(src[stop + 2], dst[stop + 2])
    # the new line opens and closes the mouth
    assert np.ptp(openings) > 0.05, openings
