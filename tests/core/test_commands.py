"""Each undoable command: its checks, its undo, its menu text, and the stack's merging rules."""

from __future__ import annotations

import copy

import pytest

from swaptalk_desktop.core.commands import (
    AddClip,
    AddEdit,
    AddMedia,
    MoveEdit,
    RemoveEdit,
    RemoveMedia,
    SetEditField,
    SetMarks,
    TrimEdit,
)
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import ClipState, MediaItem, Project, RangeEdit
from swaptalk_desktop.core.undo import UndoStack


@pytest.fixture
def project() -> Project:
    p = Project()
    p.media["v"] = MediaItem(id="v", kind="video", path="/m/take3.mp4",
                             summary={"frames": 240, "has_audio": True})
    p.media["mute"] = MediaItem(id="mute", kind="video", path="/m/broll.mp4",
                                summary={"frames": 100, "has_audio": False})
    p.media["p"] = MediaItem(id="p", kind="photo", path="/m/actor.jpg")
    p.media["a"] = MediaItem(id="a", kind="audio", path="/m/line07.wav")
    p.clips["v"] = ClipState(media_id="v", edits=[
        RangeEdit(id="line7", start=120, stop=180, photo_id="p", audio_id="a", label="Line 7"),
        RangeEdit(id="e2", start=200, stop=230)])
    p.current_clip = "v"
    return p


def refused(project: Project, command, match: str) -> None:
    """The command raises one line matching ``match`` and leaves the document as it was."""
    before = copy.deepcopy(project)
    with pytest.raises(InputError, match=match) as info:
        command.validate(project)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match=match):
        command.redo(project)
    assert project == before


def test_add_edit_is_sorted_normalised_and_undone(project):
    stack = UndoStack(project)
    stack.push(AddEdit("v", RangeEdit(id="new", start=10, stop=20, feather=3, label="Line 2")))
    edits = project.clips["v"].edits
    assert [e.id for e in edits] == ["new", "line7", "e2"]
    assert type(edits[0].feather) is float and edits[0].feather == 3.0
    assert stack.undo_text() == "Add edit 'Line 2'"
    stack.undo()
    assert [e.id for e in project.clips["v"].edits] == ["line7", "e2"]


def test_add_edit_keeps_its_own_copy(project):
    edit = RangeEdit(id="new", start=10, stop=20)
    command = AddEdit("v", edit)
    edit.start = 150  # the caller reusing its object must not change the command
    command.redo(project)
    assert project.edit("v", "new").start == 10


@pytest.mark.parametrize(("start", "stop", "match"), [
    (150, 190, r"^edit would overlap 'Line 7' \(frames 120-180\)$"),
    (100, 121, r"overlap 'Line 7'"),
    (229, 235, r"^edit would overlap the edit \(frames 200-230\)$"),
    (50, 50, r"at least one frame \(start 50 is not before stop 50\)"),
    (60, 40, r"at least one frame"),
    (-1, 10, r"before the clip's first frame \(frame -1\)"),
    (235, 241, r"end at frame 241, after the end of take3.mp4 \(240 frames\)"),
])
def test_add_edit_refuses_ranges_that_do_not_fit(project, start, stop, match):
    refused(project, AddEdit("v", RangeEdit(id="new", start=start, stop=stop)), match)


def test_edges_may_touch(project):
    AddEdit("v", RangeEdit(id="a", start=180, stop=200)).redo(project)
    AddEdit("v", RangeEdit(id="b", start=230, stop=240)).redo(project)
    assert [(e.start, e.stop) for e in project.clips["v"].edits] == \
        [(120, 180), (180, 200), (200, 230), (230, 240)]


@pytest.mark.parametrize(("fields", "match"), [
    ({"photo_id": "a"}, "line07.wav is not a photo"),
    ({"photo_id": "zzz"}, "media zzz is not in the project"),
    ({"audio_id": "p"}, "actor.jpg has no audio"),
    ({"audio_id": "mute"}, "broll.mp4 has no audio"),
    ({"strength": 1.5}, "strength must be between 0 and 1"),
    ({"feather": -1}, "feather must be between 0 and 128"),
    ({"audio_offset": float("nan")}, "audio_offset must be a number"),
    ({"swap": 1}, "swap must be on or off"),
    ({"label": "two\nlines"}, "label must be one line"),
    ({"photo_id": ["p"]}, r"photo_id must name a media item, not \[.p.\]"),
])
def test_add_edit_refuses_bad_settings(project, fields, match):
    refused(project, AddEdit("v", RangeEdit(id="new", start=0, stop=10, **fields)), match)


def test_add_edit_refuses_a_duplicate_id_and_an_unknown_clip(project):
    refused(project, AddEdit("v", RangeEdit(id="e2", start=0, stop=10)), "already on this clip")
    refused(project, AddEdit("nope", RangeEdit(id="x", start=0, stop=10)), "not open")


def test_a_video_with_sound_can_be_the_dialogue(project):
    SetEditField("v", "e2", "audio_id", "v").redo(project)
    assert project.edit("v", "e2").audio_id == "v"


def test_remove_edit_restores_it_in_place(project):
    stack = UndoStack(project)
    before = copy.deepcopy(project)
    stack.push(RemoveEdit("v", "line7"))
    assert [e.id for e in project.clips["v"].edits] == ["e2"]
    assert stack.undo_text() == "Remove edit 'Line 7'"
    stack.undo()
    assert project == before
    refused(project, RemoveEdit("v", "gone"), "edit gone is not on clip take3.mp4")


def test_move_keeps_length_and_order_and_undoes(project):
    stack = UndoStack(project)
    stack.push(MoveEdit("v", "line7", 40))
    assert [(e.id, e.start, e.stop) for e in project.clips["v"].edits] == \
        [("line7", 40, 100), ("e2", 200, 230)]
    stack.push(MoveEdit("v", "e2", 0))  # jumps over line7
    assert [(e.id, e.start, e.stop) for e in project.clips["v"].edits] == \
        [("e2", 0, 30), ("line7", 40, 100)]
    stack.undo()
    stack.undo()
    assert [(e.id, e.start, e.stop) for e in project.clips["v"].edits] == \
        [("line7", 120, 180), ("e2", 200, 230)]
    refused(project, MoveEdit("v", "line7", 150), r"overlap the edit \(frames 200-230\)")
    refused(project, MoveEdit("v", "e2", 215), "after the end")


def test_trim_checks_like_add(project):
    stack = UndoStack(project)
    stack.push(TrimEdit("v", "line7", 100, 200))
    assert (project.edit("v", "line7").start, project.edit("v", "line7").stop) == (100, 200)
    assert stack.undo_text() == "Trim edit 'Line 7'"
    refused(project, TrimEdit("v", "line7", 100, 201), "overlap")
    refused(project, TrimEdit("v", "line7", 150, 150), "at least one frame")


def test_a_drag_is_one_undo_step(project):
    stack = UndoStack(project)
    for start in (121, 125, 130, 140):
        stack.push(MoveEdit("v", "line7", start, drag_id="drag-1"))
    with pytest.raises(InputError):  # a step the drag cannot take is refused, the drag goes on
        stack.push(MoveEdit("v", "line7", 170, drag_id="drag-1"))
    stack.push(MoveEdit("v", "line7", 60, drag_id="drag-1"))
    assert stack.count == 1 and project.edit("v", "line7").start == 60
    stack.push(MoveEdit("v", "line7", 70, drag_id="drag-2"))  # the next drag is its own step
    assert stack.count == 2
    stack.undo()
    stack.undo()
    assert (project.edit("v", "line7").start, project.edit("v", "line7").stop) == (120, 180)
    stack.redo()
    assert (project.edit("v", "line7").start, project.edit("v", "line7").stop) == (60, 120)


def test_different_targets_or_kinds_do_not_merge(project):
    stack = UndoStack(project)
    stack.push(MoveEdit("v", "line7", 110, drag_id="d"))
    stack.push(MoveEdit("v", "e2", 205, drag_id="d"))
    stack.push(TrimEdit("v", "e2", 200, 235, drag_id="d"))
    stack.push(SetEditField("v", "e2", "strength", 0.5, drag_id="d"))
    stack.push(SetEditField("v", "e2", "feather", 3.0, drag_id="d"))
    stack.push(MoveEdit("v", "line7", 100))  # no drag id: never merges
    stack.push(MoveEdit("v", "line7", 90))
    assert stack.count == 7


def test_a_slider_drag_merges_and_undo_restores_the_first_value(project):
    stack = UndoStack(project)
    for value in (0.9, 0.7, 0.4):
        stack.push(SetEditField("v", "line7", "strength", value, drag_id="slider"))
    assert stack.count == 1 and project.edit("v", "line7").strength == 0.4
    assert stack.undo_text() == "Change strength of 'Line 7'"
    stack.undo()
    assert project.edit("v", "line7").strength == 1.0


def test_no_merge_into_the_saved_state(project):
    stack = UndoStack(project)
    stack.push(MoveEdit("v", "line7", 100, drag_id="d"))
    stack.set_clean()
    stack.push(MoveEdit("v", "line7", 90, drag_id="d"))
    assert stack.count == 2 and not stack.is_clean()
    stack.undo()
    assert stack.is_clean() and project.edit("v", "line7").start == 100


def test_set_field_refuses_unknown_fields(project):
    refused(project, SetEditField("v", "line7", "start", 3), "no setting 'start'")
    refused(project, SetEditField("v", "line7", "feather", True), "feather must be a number")


def test_marks(project):
    stack = UndoStack(project)
    stack.push(SetMarks("v", 10, 50))
    assert (project.clips["v"].mark_in, project.clips["v"].mark_out) == (10, 50)
    stack.push(SetMarks("v", None, 240))
    stack.undo()
    assert (project.clips["v"].mark_in, project.clips["v"].mark_out) == (10, 50)
    refused(project, SetMarks("v", 50, 50), r"in mark \(50\) must come before the out mark")
    refused(project, SetMarks("v", 240, None), "outside the clip")
    refused(project, SetMarks("v", None, 241), "outside the clip")
    refused(project, SetMarks("v", -1, None), "outside the clip")


def test_media_add_remove_and_its_refusals(project):
    stack = UndoStack(project)
    photo = MediaItem(id="p2", kind="photo", path="/m/other.jpg")
    stack.push(AddMedia(photo))
    assert stack.undo_text() == "Import other.jpg"
    refused(project, AddMedia(MediaItem(id="p3", kind="photo", path="/m/other.jpg")),
            "other.jpg is already in the project")
    refused(project, RemoveMedia("p"), "actor.jpg is used by edit 'Line 7' of take3.mp4")
    refused(project, RemoveMedia("v"), r"take3.mp4 has 2 edit\(s\) in the timeline")
    order = list(project.media)
    stack.push(RemoveMedia("mute"))
    stack.undo()
    assert list(project.media) == order


def test_removing_the_current_clip_closes_it_and_undo_reopens_it(project):
    stack = UndoStack(project)
    stack.push(AddClip("mute"))
    assert project.current_clip == "mute" and list(project.clips) == ["v", "mute"]
    refused(project, AddClip("mute"), "already open")
    refused(project, AddClip("p"), "actor.jpg is not a video")
    stack.push(RemoveMedia("mute"))
    assert project.current_clip == "v" and "mute" not in project.clips
    stack.undo()
    assert project.current_clip == "mute" and list(project.clips) == ["v", "mute"]
    stack.undo()
    assert project.current_clip == "v" and list(project.clips) == ["v"]


def test_stack_limit_and_texts(project):
    stack = UndoStack(project, undo_limit=2)
    assert not stack.can_undo() and stack.undo_text() == ""
    for start in (100, 90, 80):
        stack.push(MoveEdit("v", "line7", start))
    assert stack.count == 2 and stack.clean_index is None
    stack.undo()
    assert stack.redo_text() == "Move edit 'Line 7'"
    stack.undo()
    assert not stack.can_undo() and project.edit("v", "line7").start == 100


def test_revision_counts_every_change_and_a_refusal_changes_nothing(project):
    stack = UndoStack(project)
    seen = []
    stack.on_change.append(lambda: seen.append(stack.revision))
    stack.push(MoveEdit("v", "line7", 100))
    with pytest.raises(InputError):
        stack.push(MoveEdit("v", "line7", 190))
    stack.undo()
    stack.redo()
    assert seen == [1, 2, 3] and stack.count == 1
