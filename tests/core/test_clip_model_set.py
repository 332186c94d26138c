"""A clip's own model set (one adapted to its actor): undoable, saved as an optional field that
files without it (and readers that do not know it) read as before, and used by the clip's edits'
jobs instead of the project's set."""

from __future__ import annotations

import pytest

from swaptalk_desktop.app.project_jobs import job_for_edit, model_set_for
from swaptalk_desktop.core.commands import SetClipModelSet
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import ClipState, MediaItem, Project, RangeEdit
from swaptalk_desktop.core.project_format import project_from_dict, project_to_dict
from swaptalk_desktop.core.undo import UndoStack


@pytest.fixture
def project(tmp_path) -> Project:
    clip = tmp_path / "take3.mp4"
    clip.write_bytes(b"not decoded here")
    p = Project(settings={"model_set": "swaptalk-small-v1", "provider": "auto"})
    p.media["v"] = MediaItem(id="v", kind="video", path=clip, summary={"frames": 240})
    p.clips["v"] = ClipState(media_id="v", edits=[RangeEdit(id="e", start=10, stop=40)])
    p.current_clip = "v"
    return p


def test_set_and_undo(project):
    stack = UndoStack(project)
    stack.push(SetClipModelSet("v", "swaptalk-small-v1-take3"))
    assert project.clips["v"].model_set == "swaptalk-small-v1-take3"
    assert model_set_for(project, "v") == "swaptalk-small-v1-take3"
    assert job_for_edit(project, "v", "e").run.model_set == "swaptalk-small-v1-take3"
    assert stack.undo_text() == "Use model set swaptalk-small-v1-take3 for take3.mp4"
    stack.undo()
    assert project.clips["v"].model_set is None
    assert job_for_edit(project, "v", "e").run.model_set == "swaptalk-small-v1"
    stack.redo()
    stack.push(SetClipModelSet("v", None))
    assert model_set_for(project, "v") == "swaptalk-small-v1"
    with pytest.raises(InputError):
        SetClipModelSet("nope", "x").validate(project)
    with pytest.raises(InputError):
        SetClipModelSet("v", "").validate(project)


def test_saved_only_when_set(project, tmp_path):
    plain = project_to_dict(project, tmp_path)
    assert "model_set" not in plain["clips"][0]  # files of clips without one are unchanged
    assert project_from_dict(plain, tmp_path, "p").clips["v"].model_set is None
    project.clips["v"].model_set = "swaptalk-small-v1-take3"
    data = project_to_dict(project, tmp_path)
    assert data["clips"][0]["model_set"] == "swaptalk-small-v1-take3"
    assert data["schema_version"] == plain["schema_version"]
    back = project_from_dict(data, tmp_path, "p")
    assert back.clips["v"].model_set == "swaptalk-small-v1-take3"
    data["clips"][0]["model_set"] = 7
    with pytest.raises(InputError):
        project_from_dict(data, tmp_path, "p")
