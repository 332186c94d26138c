"""Markers on a clip: added, renamed, recoloured, moved and deleted as undo steps, checked
before anything changes, saved as an optional field (files without it read as before, and it
survives a save and a load), and the edit points that up/down step between."""

from __future__ import annotations

import pytest

from swaptalk_desktop.core.commands import AddMarker, RemoveMarker, SetMarker
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import ClipState, Marker, MediaItem, Project, RangeEdit, step_to
from swaptalk_desktop.core.project_format import project_from_dict, project_to_dict
from swaptalk_desktop.core.project_io import load_project, save_project
from swaptalk_desktop.core.undo import UndoStack


@pytest.fixture
def project(tmp_path) -> Project:
    clip = tmp_path / "take3.mp4"
    clip.write_bytes(b"not decoded here")
    p = Project()
    p.media["v"] = MediaItem(id="v", kind="video", path=clip, summary={"frames": 240})
    p.clips["v"] = ClipState(media_id="v", edits=[RangeEdit(id="e", start=10, stop=40),
                                                  RangeEdit(id="f", start=100, stop=240)])
    p.current_clip = "v"
    return p


def test_add_rename_recolour_move_delete_and_undo_each(project):
    stack = UndoStack(project)
    clip = project.clips["v"]
    stack.push(AddMarker("v", Marker(id="b", frame=120, name="pickup")))
    stack.push(AddMarker("v", Marker(id="a", frame=30)))
    assert [(m.id, m.frame) for m in clip.markers] == [("a", 30), ("b", 120)]  # by frame
    assert clip.markers[0].color == "green"
    stack.push(SetMarker("v", "a", name="Line 7 flub"))
    assert stack.undo_text() == "Rename marker 'Line 7 flub'"
    stack.push(SetMarker("v", "a", color="red"))
    assert stack.undo_text() == "Recolour marker 'Line 7 flub'"
    stack.push(SetMarker("v", "a", frame=200))
    assert [m.id for m in clip.markers] == ["b", "a"]
    stack.push(RemoveMarker("v", "b"))
    assert stack.undo_text() == "Delete marker 'pickup'"
    assert [m.id for m in clip.markers] == ["a"]
    stack.undo()
    assert [m.id for m in clip.markers] == ["b", "a"]
    stack.undo()
    assert (clip.markers[0].id, clip.markers[0].frame) == ("a", 30)
    stack.undo()
    assert clip.markers[0].color == "green"
    stack.undo()
    assert clip.markers[0].name == ""
    stack.undo()
    stack.undo()
    assert clip.markers == []
    stack.redo()
    assert [(m.id, m.frame) for m in clip.markers] == [("b", 120)]


@pytest.mark.parametrize("command, match", [
    (AddMarker("v", Marker(id="x", frame=240)), "outside"),
    (AddMarker("v", Marker(id="x", frame=-1)), "outside"),
    (AddMarker("v", Marker(id="x", frame=3.5)), "whole number"),
    (AddMarker("v", Marker(id="x", frame=7, name="two\nlines")), "one line"),
    (AddMarker("v", Marker(id="x", frame=7, color="chartreuse")), "not one of"),
    (AddMarker("v", Marker(id="m", frame=6)), "already on this clip"),
    (AddMarker("v", Marker(id="x", frame=5)), "already has a marker"),
    (SetMarker("v", "m", frame=240), "outside"),
    (AddMarker("nope", Marker(id="x", frame=5)), "not open"),
    (SetMarker("v", "gone", name="x"), "not on clip"),
    (SetMarker("v", "m", size=3), "no setting"),
    (SetMarker("v", "m"), "nothing to change"),
    (RemoveMarker("v", "gone"), "not on clip"),
])
def test_refused_changes_leave_the_document_alone(project, command, match):
    project.clips["v"].markers.append(Marker(id="m", frame=5))
    before = project.copy()
    with pytest.raises(InputError, match=match):
        UndoStack(project).push(command)
    assert project == before


def test_saved_only_when_there_are_markers(project, tmp_path):
    plain = project_to_dict(project, tmp_path)
    assert "markers" not in plain["clips"][0]  # files without markers are unchanged
    assert project_from_dict(plain, tmp_path, "p").clips["v"].markers == []
    project.clips["v"].markers = [Marker(id="a", frame=12, name="flub", color="red"),
                                  Marker(id="b", frame=90, name="", color="blue")]
    save_project(project, tmp_path / "take3.swaptalk")
    back = load_project(tmp_path / "take3.swaptalk")
    assert back.clips["v"].markers == project.clips["v"].markers
    data = project_to_dict(project, tmp_path)
    assert data["schema_version"] == plain["schema_version"]
    assert data["clips"][0]["markers"][0] == {"id": "a", "frame": 12, "name": "flub",
                                              "color": "red"}


@pytest.mark.parametrize("damage", [
    lambda ms: ms[0].update(frame=500),
    lambda ms: ms[0].update(color=7),
    lambda ms: ms[1].update(id="a"),
    lambda ms: ms[1].update(frame=12),
    lambda ms: ms[0].pop("frame"),
])
def test_damaged_markers_are_refused_on_load(project, tmp_path, damage):
    project.clips["v"].markers = [Marker(id="a", frame=12), Marker(id="b", frame=90)]
    data = project_to_dict(project, tmp_path)
    damage(data["clips"][0]["markers"])
    with pytest.raises(InputError):
        project_from_dict(data, tmp_path, "p")


def test_edit_points_and_stepping(project):
    clip = project.clips["v"]
    points = clip.edit_points(240)
    assert points == [0, 10, 40, 100, 239]  # the last edit runs to the end of the clip
    assert step_to(points, 0, 1) == 10
    assert step_to(points, 10, 1) == 40
    assert step_to(points, 41, -1) == 40
    assert step_to(points, 239, 1) is None
    assert step_to(points, 0, -1) is None
    assert ClipState(media_id="v").edit_points(1) == [0]
