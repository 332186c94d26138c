"""The sequence (issue 9): clips in a row, their trims, the undoable commands that change it,
its place in the file, and the v1 -> v2 migration (a v1 file opens with the same content)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from swaptalk_desktop.core.commands import (
    AddClip,
    AddEdit,
    AddToSequence,
    MoveInSequence,
    RemoveFromSequence,
    RemoveMedia,
    TrimSequenceClip,
)
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import MediaItem, Project, RangeEdit, SequenceClip
from swaptalk_desktop.core.project_format import project_from_dict, project_to_dict
from swaptalk_desktop.core.project_io import load_project, save_project
from swaptalk_desktop.core.undo import UndoStack

V1_FILE = Path(__file__).parent / "data" / "project_v1.swaptalk"


def three_clips(tmp_path: Path) -> Project:
    project = Project()
    for name, frames in (("a", 40), ("b", 30), ("c", 50)):
        path = tmp_path / f"{name}.mp4"
        path.write_bytes(name.encode() * 100)
        project.media[name] = MediaItem.from_file(path, "video", {"frames": frames}, id=name)
    return project


def snapshot(project: Project) -> dict:
    return project_to_dict(project, None)


def test_clips_play_in_a_row_and_frames_map_both_ways(tmp_path):
    project = three_clips(tmp_path)
    stack = UndoStack(project)
    for name in "abc":
        stack.push(AddClip(name))
    assert [s.media_id for s in project.sequence] == ["a", "b", "c"]
    assert project.sequence_length() == 120
    b = project.sequence[1].id
    stack.push(TrimSequenceClip(b, 5, 25))
    spans = project.sequence_spans()
    assert [(s.start, s.stop, s.source_in, s.source_out) for s in spans] == \
        [(0, 40, 0, 40), (40, 60, 5, 25), (60, 110, 0, 50)]
    span, source = project.locate(45)
    assert (span.media_id, source) == ("b", 10) and span.to_sequence(10) == 45
    assert project.locate(60)[0].media_id == "c" and project.locate(109)[1] == 49
    with pytest.raises(InputError, match="frame 110 is outside the sequence"):
        project.locate(110)


def test_every_change_undoes_exactly_and_edits_stay_with_their_clip(tmp_path):
    project = three_clips(tmp_path)
    stack = UndoStack(project)
    states = [snapshot(project)]
    steps = [AddClip("a"), AddClip("b"), AddClip("c"),
             AddEdit("b", RangeEdit(id="e1", start=10, stop=20, label="line")),
             AddToSequence("a", 30, 40, position=1)]
    for command in steps:
        stack.push(command)
        states.append(snapshot(project))
    c, a2 = project.sequence[3].id, project.sequence[1].id
    for command in (MoveInSequence(c, 0), TrimSequenceClip(a2, 32, None),
                    RemoveFromSequence(project.sequence[2].id)):
        stack.push(command)
        project.check_consistent()
        states.append(snapshot(project))
    assert [s.media_id for s in project.sequence] == ["c", "a", "a"]
    # The edit is the clip's, in its source frames: reordering and trimming never moved it.
    assert project.edit("b", "e1").start == 10 and project.edit("b", "e1").stop == 20
    for state in reversed(states[:-1]):
        stack.undo()
        assert snapshot(project) == state
    for state in states[1:]:
        stack.redo()
        assert snapshot(project) == state


def test_bad_changes_are_refused_and_change_nothing(tmp_path):
    project = three_clips(tmp_path)
    stack = UndoStack(project)
    stack.push(AddClip("a"))
    entry = project.sequence[0].id
    before = snapshot(project)
    for command, match in ((TrimSequenceClip(entry, 10, 10), "at least one frame"),
                           (TrimSequenceClip(entry, -1, 5), "before the clip's first frame"),
                           (TrimSequenceClip(entry, 0, 41), "after the end of a.mp4"),
                           (MoveInSequence(entry, 1), "outside the sequence"),
                           (RemoveFromSequence("nope"), "not in the sequence"),
                           (AddToSequence("b", 0, 99), "after the end of b.mp4")):
        with pytest.raises(InputError, match=match):
            stack.push(command)
        assert snapshot(project) == before


def test_removing_media_takes_its_places_in_the_sequence_and_undo_restores_them(tmp_path):
    project = three_clips(tmp_path)
    stack = UndoStack(project)
    for command in (AddClip("a"), AddClip("b"), AddToSequence("a", 0, 10)):
        stack.push(command)
    before = snapshot(project)
    stack.push(RemoveMedia("a"))
    assert [s.media_id for s in project.sequence] == ["b"]
    stack.undo()
    assert snapshot(project) == before


def test_the_sequence_round_trips_through_the_file(tmp_path):
    project = three_clips(tmp_path)
    stack = UndoStack(project)
    for command in (AddClip("a"), AddClip("b"), AddToSequence("a", 3, 9, position=0)):
        stack.push(command)
    path = tmp_path / "cut.swaptalk"
    save_project(project, path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2
    assert data["sequence"][0] == {"id": project.sequence[0].id, "media_id": "a",
                                   "source_in": 3, "source_out": 9}
    assert load_project(path) == project


def test_a_file_naming_a_clip_the_project_lacks_is_damaged(tmp_path):
    project = three_clips(tmp_path)
    UndoStack(project).push(AddClip("a"))
    data = project_to_dict(project, tmp_path)
    data["sequence"].append({"id": "x", "media_id": "b", "source_in": 0, "source_out": None})
    with pytest.raises(InputError, match="refers to b, which is not a clip of the project"):
        project_from_dict(data, tmp_path, "cut.swaptalk")


def test_a_v1_file_opens_with_the_same_content(tmp_path):
    """The v1 file in tests/core/data was written by the v1 code (two clips, edits, markers,
    marks, a clip's own model set, settings, a pending job). It opens unchanged, with its clips
    as the sequence in file order, and saves as v2 with every v1 field as it was."""
    folder = tmp_path / "dub"
    (folder / "media").mkdir(parents=True)
    for name, content in (("take_a.mp4", b"clip-a-bytes"), ("take_b.mp4", b"clip-b-bytes"),
                          ("face.jpg", b"photo"), ("line.wav", b"wav")):
        (folder / "media" / name).write_bytes(content)
    path = folder / "dub.swaptalk"
    shutil.copy(V1_FILE, path)
    v1 = json.loads(path.read_text())
    assert v1["schema_version"] == 1 and "sequence" not in v1

    project = load_project(path)
    assert not any(item.missing for item in project.media.values())
    assert [s.media_id for s in project.sequence] == [c["media_id"] for c in v1["clips"]]
    assert all((s.source_in, s.source_out) == (0, None) for s in project.sequence)
    assert project.sequence_length() == 120 + 90
    a = project.clips["a1b2c3d4e5f6"]
    assert [(e.start, e.stop, e.label) for e in a.edits] == [(10, 40, "Line 7"), (60, 80, "")]
    assert [(m.frame, m.name, m.color) for m in a.markers] == [(5, "Start", "red"),
                                                               (70, "", "cyan")]
    assert (a.mark_in, a.mark_out, a.playhead, a.model_set) == (10, 40, 33, "adapted-actor")

    v2 = project_to_dict(project, folder)
    assert v2["schema_version"] == 2
    for key in ("format", "clips", "current_clip", "settings", "pending_jobs"):
        assert v2[key] == v1[key], key
    for old, new in zip(v1["media"], v2["media"], strict=True):
        assert {k: v for k, v in new.items() if k != "absolute_path"} == \
            {k: v for k, v in old.items() if k != "absolute_path"}
    # Reading the migrated file again gives the same project.
    save_project(project, path)
    assert load_project(path) == project


def test_a_sequence_clip_of_unknown_length_says_so(tmp_path):
    project = Project()
    path = tmp_path / "x.mp4"
    path.write_bytes(b"x")
    project.media["x"] = MediaItem.from_file(path, "video", {}, id="x")
    UndoStack(project).push(AddClip("x"))
    assert project.sequence == [SequenceClip(project.sequence[0].id, "x", 0, None)]
    with pytest.raises(InputError, match="length of x.mp4 is not known"):
        project.sequence_spans()


def test_the_sequence_marks_are_undoable_saved_and_clamped(tmp_path):
    from swaptalk_desktop.core.commands import SetSequenceMarks

    project = three_clips(tmp_path)
    stack = UndoStack(project)
    for name in "ab":
        stack.push(AddClip(name))
    stack.push(SetSequenceMarks(30, 55))
    assert project.sequence_range() == (30, 55)
    with pytest.raises(InputError, match="must come before its out mark"):
        stack.push(SetSequenceMarks(20, 20))
    path = tmp_path / "marks.swaptalk"
    save_project(project, path)
    assert json.loads(path.read_text())["sequence_out"] == 55
    assert load_project(path) == project
    stack.push(TrimSequenceClip(project.sequence[1].id, 0, 10))  # the sequence is 50 long now
    assert project.sequence_range() == (30, 50)
    stack.push(SetSequenceMarks(None, 20))
    assert project.sequence_range() == (0, 20)
    stack.undo()
    stack.undo()
    stack.undo()
    assert (project.sequence_in, project.sequence_out) == (None, None)
    assert project.sequence_range() == (0, 70)
    assert "sequence_in" not in project_to_dict(project, None)  # optional: written when set
