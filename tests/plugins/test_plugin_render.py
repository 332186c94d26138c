"""Plugins in a real render: the example frame processor changes the pasted face and nothing
else, is part of the cache key and the export's record; a broken plugin is reported and the
command line still renders."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from plugin_helpers import install_broken_plugin, install_plugin
from render_helpers import decode_all

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.plugins import plugin_host
from swaptalk_desktop.engine import EditOptions, RangeJob, RunOptions, export_clip
from swaptalk_desktop.engine.prepare import prepare_job
from swaptalk_desktop.engine.process import render_folder, track_folder
from swaptalk_desktop.faces import FaceTrack
from swaptalk_desktop.media import EncodeSettings

LOSSLESS = EncodeSettings(crf=0, preset="ultrafast")
SHARPEN = {"id": "example.sharpen", "version": "1.0.0", "plugin": "swaptalk-example-sharpen",
           "plugin_version": "1.0.0"}


def test_example_processor_changes_the_face_and_nothing_else(ctx, clip, face_photo, tmp_path):
    plain = RangeJob(video=clip, start=4, stop=14, face=face_photo,
                     run=RunOptions(chunk_frames=10, batch_size=5))
    sharp = dataclasses.replace(plain, edit=EditOptions(processors=["example.sharpen"]))
    assert sharp.edit.processors == ("example.sharpen",) and hash(sharp)
    span = (2, 16)  # the edit and a little either side: fewer frames to write and compare
    a = export_clip(clip, [plain], tmp_path / "plain.mp4", ctx=ctx, encode=LOSSLESS, span=span)
    b = export_clip(clip, [sharp], tmp_path / "sharp.mp4", ctx=ctx, encode=LOSSLESS, span=span)
    assert b.chunks_reused == 0 and b.chunks_rendered == 1  # the plain crops are not reused
    p_plain, p_sharp = prepare_job(plain, None, ctx), prepare_job(sharp, None, ctx)
    assert render_folder(p_plain).key != render_folder(p_sharp).key
    assert track_folder(p_plain).key == track_folder(p_sharp).key  # the face track is shared
    track = FaceTrack.load(track_folder(p_sharp).path / "track.npz")

    frames_a, frames_b = decode_all(a.output), decode_all(b.output)
    assert len(frames_a) == span[1] - span[0]
    for index, (fa, fb) in enumerate(zip(frames_a, frames_b, strict=True), start=span[0]):
        diff = np.abs(fa.astype(int) - fb.astype(int)).max(axis=2)
        if not plain.start <= index < plain.stop:
            assert not diff.any(), f"frame {index} outside the edit changed"
            continue
        lm = track.landmarks[index - track.start]
        (x0, y0), (x1, y1) = lm.min(axis=0), lm.max(axis=0)
        pad = 0.25 * max(x1 - x0, y1 - y0)
        face = np.zeros(diff.shape, bool)
        face[max(0, int(y0 - pad)):int(y1 + pad), max(0, int(x0 - pad)):int(x1 + pad)] = True
        assert not diff[~face].any(), f"frame {index} changed outside the face"
        assert diff[face].mean() > 1.0, f"frame {index}: the sharpened face is not sharper"

    plain_record = json.loads(a.sidecar.read_text())
    sharp_record = json.loads(b.sidecar.read_text())
    assert plain_record["processors"] == [] and plain_record["edits"][0]["processors"] == []
    assert sharp_record["processors"] == [SHARPEN]
    assert sharp_record["edits"][0]["processors"] == [SHARPEN]


def test_broken_plugins_are_reported_and_the_cli_still_renders(ctx, models_dir, clip,
                                                              face_photo, tmp_path,
                                                              monkeypatch, capsys):
    site = tmp_path / "site"
    install_broken_plugin(site)
    install_plugin(site, "swaptalk-bad", "swaptalk_bad", 'schema = 1\nname = "swaptalk-bad"\n')
    monkeypatch.syspath_prepend(str(site))
    args = ["render", "--video", str(clip), "--start", "4", "--end", "14", "--face",
            str(face_photo), "--models-dir", str(models_dir / "tint"), "--chunk-frames", "10",
            "--preset", "ultrafast", "--provider", "cpu"]

    # asked for, the plugin that fails to import stops this render with one line
    assert main([*args, "-o", str(tmp_path / "no.mp4"), "--processor", "broken.boom"]) == 2
    err = capsys.readouterr().err
    assert "frame processor 'broken.boom' (plugin swaptalk-broken-test) failed and its plugin " \
        "is disabled: cannot load swaptalk_broken_test.proc:run: RuntimeError: this plugin " \
        "is broken on purpose" in err
    assert not (tmp_path / "no.mp4").exists()
    assert not plugin_host().plugin("swaptalk-broken-test").enabled

    # without it the same render works, and says which plugins are off
    out = tmp_path / "take.mp4"
    assert main([*args, "-o", str(out), "--processor", "example.sharpen"]) == 0
    out_text, err = capsys.readouterr()
    assert "; face processors example.sharpen)" in out_text + err
    assert "plugin swaptalk-bad: plugin swaptalk-bad has no 'version'" in err
    assert "plugin swaptalk-broken-test: cannot load" in err
    assert out.is_file()
    record = json.loads(out.with_name(out.name + ".swaptalk.json").read_text())
    assert record["processors"] == [SHARPEN]


def test_preview_shows_the_processor_too(ctx, clip, face_photo):
    from swaptalk_desktop.engine import preview_frame
    plain = RangeJob(video=clip, start=4, stop=14, face=face_photo)
    sharp = dataclasses.replace(plain, edit=EditOptions(processors=("example.sharpen",)))
    a, b = preview_frame(plain, 8, ctx=ctx), preview_frame(sharp, 8, ctx=ctx)
    assert a.face_found and b.face_found and not a.from_cache and not b.from_cache
    assert np.array_equal(a.original, b.original)
    diff = np.abs(a.processed.astype(int) - b.processed.astype(int)).max(axis=2)
    changed = np.argwhere(diff > 0)
    assert len(changed) > 1000  # the face
    # and only the face: the changed pixels sit in a box well inside the frame
    (y0, x0), (y1, x1) = changed.min(axis=0), changed.max(axis=0)
    assert (y1 - y0) * (x1 - x0) < 0.6 * diff.size
