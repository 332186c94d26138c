"""Sync-only edits with the shipped lips stage, on real footage: the actor's own mouth, picked by
the new line, pasted below the nose, and opening with speech more than with silence."""

from __future__ import annotations

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
)
from swaptalk_desktop.engine.frames import mouth_opening
from swaptalk_desktop.engine.prepare import prepare_job
from swaptalk_desktop.engine.process import track_folder
from swaptalk_desktop.engine.render import render_range
from swaptalk_desktop.inference import ModelRegistry
from swaptalk_desktop.media import EncodeSettings, load_audio, to_mono_16k

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CLIP = SHARED / "videos" / "talking" / "hdtf_tedlieu_60s.mp4"
LINE = SHARED / "audio" / "en_obama_5s_M.wav"
LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")
START, STOP = 500, 550

pytestmark = pytest.mark.skipif(not (CLIP.is_file() and LINE.is_file()),
                                reason="needs ../shared/data")


@pytest.fixture(scope="module")
def shipped_ctx():
    registry = ModelRegistry(include_user=False)
    if not registry.get_set(registry.default_set_id()).stages.get("lips"):
        pytest.skip("the default set has no lips stage")
    return EngineContext(registry)


def _job(audio: Path) -> RangeJob:
    return RangeJob(video=CLIP, start=START, stop=STOP, audio=audio,
                    edit=EditOptions(color_match=False), run=RunOptions(chunk_frames=25))


def _render(ctx, audio: Path, out: Path):
    job = _job(audio)
    render_range(job, out, ctx=ctx, encode=LOSSLESS)
    return job


def test_the_mouth_follows_the_line_and_only_below_the_nose_changes(shipped_ctx, tmp_path):
    speech = tmp_path / "line.wav"
    wave = to_mono_16k(load_audio(LINE))
    sf.write(speech, wave[:16000 * 2], 16000)
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000 * 2, np.float32), 16000)
    # before the range is processed a preview says so and shows the source frame
    early = preview_frame(_job(speech), START + 10, ctx=shipped_ctx)
    assert early.needs_processing and np.array_equal(early.processed, early.original)
    job = _render(shipped_ctx, speech, tmp_path / "speech.mp4")
    late = preview_frame(job, START + 10, ctx=shipped_ctx)
    assert late.from_cache and not late.needs_processing
    assert not np.array_equal(late.processed, late.original)
    _render(shipped_ctx, silence, tmp_path / "silence.mp4")
    p = prepare_job(job, None, shipped_ctx)
    assert (track_folder(p).path / "library.npz").exists(), "the mouth library was not used"
    import json
    sidecar = json.loads((tmp_path / "speech.mp4.swaptalk.json").read_text())
    assert "lips" in {m["stage"] for m in sidecar["models"]}, "the export does not name the " \
        "lips model that made its mouths"

    src = decode_all(CLIP)[:STOP + 10]
    outs = {k: decode_all(tmp_path / f"{k}.mp4")[:STOP + 10] for k in ("speech", "silence")}
    lmk = shipped_ctx.landmarker
    openings = {k: [] for k in outs}
    changed_frames = 0
    for i in range(START, STOP):
        det = max(lmk.detect(src[i]), key=lambda d: d.area)
        nose_y = int(det.landmarks[2, 1]) - 2
        diff = np.abs(outs["speech"][i].astype(int) - src[i].astype(int)).max(axis=-1) > 6
        assert not diff[:nose_y].any(), f"frame {i}: the face above the mouth changed"
        changed_frames += bool(diff.sum() > 30)
        for k, frames in outs.items():
            found = lmk.detect(frames[i])
            assert found, f"frame {i} of the {k} render shows no face"
            openings[k].append(mouth_opening(max(found, key=lambda d: d.area).landmarks))
    for i in (START - 5, STOP + 5):
        assert np.abs(outs["speech"][i].astype(int) - src[i].astype(int)).max() <= 2
    assert changed_frames >= (STOP - START) // 2
    speech_open, silent_open = np.mean(openings["speech"]), np.mean(openings["silence"])
    print("mouth opening, speech vs silence:", speech_open, silent_open)
    assert speech_open > 1.3 * silent_open, (speech_open, silent_open)
