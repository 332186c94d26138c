"""File ▸ Import Timeline (OTIO/EDL)… opens a cut from another editor as a new project with its
clip and markers; File ▸ Export Timeline (OTIO)… writes a file OTIO reads back."""

from __future__ import annotations

import numpy as np
import opentimelineio as otio
from PySide6.QtWidgets import QFileDialog

from swaptalk_desktop.media import make_test_clip


def test_import_and_export_timeline_from_the_file_menu(window, qtbot, tmp_path, monkeypatch):
    w = window
    frames = np.full((40, 48, 64, 3), 90, np.uint8)
    make_test_clip(tmp_path / "A001.mp4", frames, fps=25)
    tl = otio.schema.Timeline(name="Reel 1")
    track = otio.schema.Track(name="Video 1")
    tl.tracks.append(track)
    clip = otio.schema.Clip(
        name="A001", media_reference=otio.schema.ExternalReference(target_url="A001.mp4"),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(5, 25),
                                             otio.opentime.RationalTime(20, 25)))
    clip.markers.append(otio.schema.Marker(
        name="fix lips", color=otio.schema.MarkerColor.BLUE,
        marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(9, 25))))
    track.append(clip)
    cut = tmp_path / "reel1.otio"
    otio.adapters.write_to_file(tl, str(cut))

    assert w.acts.menu_of["import_otio"] == w.acts.menu_of["export_otio"] == "File"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(cut), ""))
    w.acts.import_otio.trigger()
    project = w.controller.project
    qtbot.waitUntil(lambda: w.clip_id is not None, timeout=10000)
    state = project.clips[w.clip_id]
    assert project.media_item(w.clip_id).name == "A001.mp4"
    assert (state.mark_in, state.mark_out) == (5, 25)
    assert [(m.frame, m.name, m.color) for m in state.markers] == [(9, "fix lips", "blue")]
    assert w.controller.dirty and w.controller.path is None

    out = tmp_path / "back"  # the suffix is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    w.acts.export_otio.trigger()
    back = otio.adapters.read_from_file(str(tmp_path / "back.otio"))
    assert [m.name for m in back.tracks[0][0].markers] == ["fix lips"]
    assert "exported the timeline" in w.statusBar().currentMessage()
