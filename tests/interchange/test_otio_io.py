"""OpenTimelineIO interchange: our own files round-trip to an equal project; cuts written by
OTIO's API (as another editor writes them) and CMX 3600 EDLs import with their clip and markers;
media that is not on disk is named in the error."""

from __future__ import annotations

import shutil
from dataclasses import asdict

import numpy as np
import opentimelineio as otio
import pytest
import render_helpers

from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import ClipState, Marker, MediaItem, Project, RangeEdit
from swaptalk_desktop.interchange import export_otio, import_timeline, project_to_timeline
from swaptalk_desktop.interchange.otio_io import _describe_video
from swaptalk_desktop.media import make_test_clip

FRAMES, FPS = 60, 25


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    ramp = np.linspace(0, 255, FRAMES).astype(np.uint8)
    frames = np.broadcast_to(ramp[:, None, None, None], (FRAMES, 48, 64, 3)).copy()
    video = make_test_clip(folder / "take3.mp4", frames, fps=FPS)
    photo = folder / "actor.png"
    render_helpers.save_png(photo, np.full((32, 32, 3), 128, np.uint8))
    line = render_helpers.write_speech_like(folder / "line 07.wav", 1.0)
    return folder, video, photo, line


def make_project(media) -> Project:
    _, video, photo, line = media
    clip = _describe_video(video, "test")
    p = Project()
    p.media[clip.id] = clip
    face = MediaItem.from_file(photo, "photo", {"width": 32, "height": 32}, id="face1")
    sound = MediaItem.from_file(line, "audio", {"duration_s": 1.0}, id="line7")
    p.media[face.id], p.media[sound.id] = face, sound
    p.clips[clip.id] = ClipState(
        media_id=clip.id, mark_in=5, mark_out=50, playhead=12, model_set="adapted-x",
        edits=[RangeEdit(id="e1", start=4, stop=20, photo_id="face1", audio_id="line7",
                         audio_offset=0.12, swap=True, sync=False, feather=20.0, strength=0.8,
                         color_match=False, label="line 7"),
               RangeEdit(id="e2", start=30, stop=59, audio_id="line7", swap=False)],
        markers=[Marker(id="m1", frame=3, name="flub", color="red"),
                 Marker(id="m2", frame=44, name="pickup", color="cyan")])
    p.current_clip = clip.id
    p.settings["provider"] = "cpu"
    p.check_consistent()
    return p


def test_round_trip_gives_an_equal_project(media, tmp_path):
    project = make_project(media)
    out = export_otio(project, tmp_path / "cut.otio")
    timeline = otio.adapters.read_from_file(str(out))
    assert [t.kind for t in timeline.tracks] == ["Video", "Audio"]
    v_clip, a_clip = timeline.tracks[0][0], timeline.tracks[1][0]
    for c in (v_clip, a_clip):
        assert c.media_reference.target_url == media[1].resolve().as_uri()
        assert c.media_reference.available_range.duration.value == FRAMES
        assert c.media_reference.available_range.duration.rate == FPS
    edit_markers = [m for m in v_clip.markers if m.metadata["swaptalk"]["kind"] == "edit"]
    first = edit_markers[0]
    assert (first.name, first.marked_range.start_time.value,
            first.marked_range.duration.value) == ("line 7", 4, 16)
    meta = first.metadata["swaptalk"]
    assert meta["face_photo"] == str(media[2].resolve())
    assert meta["dialogue"] == str(media[3].resolve())
    assert (meta["dialogue_offset_s"], meta["swap"], meta["sync"], meta["feather"],
            meta["strength"], meta["color_match"], meta["target"]) == \
        (0.12, True, False, 20.0, 0.8, False, "largest")
    assert edit_markers[1].name == "Edit 2"
    notes = [(m.name, m.color, m.marked_range.start_time.value) for m in v_clip.markers
             if m.metadata["swaptalk"]["kind"] == "marker"]
    assert notes == [("flub", "RED", 3), ("pickup", "CYAN", 44)]

    back = import_timeline(out)
    assert back.from_swaptalk and back.warnings == []
    got = back.project
    assert {k: asdict(v) for k, v in got.clips.items()} == \
        {k: asdict(v) for k, v in project.clips.items()}
    assert {k: (m.kind, m.path, m.fingerprint, m.summary) for k, m in got.media.items()} == \
        {k: (m.kind, m.path, m.fingerprint, m.summary) for k, m in project.media.items()}
    assert got.current_clip == project.current_clip and got.settings == project.settings


def test_a_cut_written_by_another_editor_imports_with_its_clip_and_markers(media, tmp_path):
    folder, video, _, _ = media
    shutil.copy(video, tmp_path / "A001_take3.mp4")
    tl = otio.schema.Timeline(name="Reel 1")
    track = otio.schema.Track(name="Video 1")
    tl.tracks.append(track)
    track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(10, FPS))))
    ref = otio.schema.ExternalReference(target_url="A001_take3.mp4")  # relative to the cut
    clip = otio.schema.Clip(name="A001", media_reference=ref,
                            source_range=otio.opentime.TimeRange(
                                otio.opentime.RationalTime(12, FPS),
                                otio.opentime.RationalTime(30, FPS)))
    clip.markers.append(otio.schema.Marker(
        name="fix sync", color=otio.schema.MarkerColor.YELLOW,
        marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(20, FPS))))
    track.append(clip)
    track.markers.append(otio.schema.Marker(  # record time: frame 15 of the track = source 17
        name="note\non two lines", color=otio.schema.MarkerColor.PINK,
        marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(15, FPS))))
    tl.tracks.markers.append(otio.schema.Marker(  # timeline marker over the gap
        name="before", marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(2, FPS))))
    path = tmp_path / "from_resolve.otio"
    otio.adapters.write_to_file(tl, str(path))

    result = import_timeline(path)
    p = result.project
    assert not result.from_swaptalk
    (item,) = p.media.values()
    assert item.path == (tmp_path / "A001_take3.mp4").resolve() and item.frame_count == FRAMES
    state = p.clips[item.id]
    assert p.current_clip == item.id
    assert (state.mark_in, state.mark_out, state.edits) == (12, 42, [])
    assert [(m.frame, m.name, m.color) for m in state.markers] == \
        [(17, "note on two lines", "magenta"), (20, "fix sync", "yellow")]
    assert any("before" in w for w in result.warnings)


EDL = """TITLE: REEL ONE
FCM: NON-DROP FRAME

001  A001     V     C        00:00:00:10 00:00:01:00 01:00:00:00 01:00:00:15
* FROM CLIP NAME: take3.mp4
* LOC: 00:00:00:12 RED     FIX LIPS
002  A002     V     C        00:00:01:05 00:00:02:00 01:00:00:15 01:00:01:10
* FROM CLIP NAME: other.mp4
"""


def test_an_edl_with_two_events_imports_its_first_clip_and_marker(media, tmp_path):
    folder, video, _, _ = media
    shutil.copy(video, tmp_path / "take3.mp4")
    edl = tmp_path / "reel1.edl"
    edl.write_text(EDL)
    result = import_timeline(edl)
    (item,) = result.project.media.values()
    assert item.path == (tmp_path / "take3.mp4").resolve()
    state = result.project.clips[item.id]
    assert (state.mark_in, state.mark_out) == (10, 25)  # 25 fps: 00:00:01:00 is frame 25
    assert [(m.frame, m.name, m.color) for m in state.markers] == [(12, "FIX LIPS", "red")]
    assert any("2 clips" in w for w in result.warnings)


def test_media_not_on_disk_is_named(media, tmp_path):
    edl = tmp_path / "reel1.edl"
    edl.write_text(EDL)
    with pytest.raises(InputError, match=r"take3\.mp4.*not found"):
        import_timeline(edl)
    project = make_project(media)
    out = export_otio(project, tmp_path / "cut.otio")
    moved = tmp_path / "moved"
    moved.mkdir()
    timeline = project_to_timeline(project)
    timeline.tracks[0][0].media_reference.target_url = (moved / "gone.mp4").as_uri()
    timeline.tracks[0][0].metadata["swaptalk"]["media"]["path"] = str(moved / "gone.mp4")
    otio.adapters.write_to_file(timeline, str(out))
    with pytest.raises(InputError, match=r"cut\.otio.*gone\.mp4.*not found"):
        import_timeline(out)


def test_bad_files_get_one_line(tmp_path):
    bad = tmp_path / "cut.otio"
    bad.write_text("{ not json")
    with pytest.raises(InputError, match=r"cut\.otio: not a readable OTIO file"):
        import_timeline(bad)
    with pytest.raises(InputError, match="choose an .otio file"):
        import_timeline(tmp_path / "cut.xml")
    with pytest.raises(InputError, match="there is no clip"):
        export_otio(Project(), tmp_path / "x.otio")
