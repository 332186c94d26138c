"""``swaptalk export``: a project's sequence, or one clip with its edits, to an MP4 from the
command line, as File ▸ Export does it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.commands import (
    AddClip,
    AddEdit,
    AddMedia,
    SetMarks,
    TrimSequenceClip,
)
from swaptalk_desktop.core.project import MediaItem, Project, RangeEdit
from swaptalk_desktop.core.project_io import save_project
from swaptalk_desktop.core.undo import UndoStack
from swaptalk_desktop.engine.metadata import sidecar_path
from swaptalk_desktop.media import VideoReader, load_audio, probe_video


@pytest.fixture
def project_file(tmp_path, clip, dialogue):
    """Two takes in the sequence (the second trimmed to frames 5-24); a dialogue-only edit on
    frames 10-29 of the first."""
    second = tmp_path / "take2.mp4"
    shutil.copy(clip, second)
    project = Project()
    stack = UndoStack(project)
    items = [MediaItem.from_file(p, kind, id=i) for p, kind, i in
             ((clip, "video", "take1"), (second, "video", "take2"), (dialogue, "audio", "line"))]
    for item in items:
        stack.push(AddMedia(item))
    stack.push(AddClip("take1"))
    stack.push(AddClip("take2"))
    stack.push(TrimSequenceClip(project.sequence[1].id, 5, 25))
    stack.push(AddEdit("take1", RangeEdit.new(10, 30, audio_id="line", sync=False)))
    stack.push(SetMarks("take1", 0, 20))
    path = tmp_path / "reel.swaptalk"
    save_project(project, path)
    return path


def test_the_sequence_exports_with_its_edit(project_file, tmp_path, clip, capsys):
    out = tmp_path / "reel.mp4"
    assert main(["export", str(project_file), "-o", str(out), "--preset", "ultrafast"]) == 0
    n = probe_video(clip).frame_count
    assert probe_video(out).frame_count == n + 20
    assert "of 2 clips, 1 with edits" in capsys.readouterr().err
    record = json.loads(sidecar_path(out).read_text())
    assert [c["sequence_frames"] for c in record["clips"]] == [[0, n], [n, n + 20]]


def test_one_clip_marked_range_with_its_line(project_file, tmp_path, clip):
    out = tmp_path / "take1.mp4"
    assert main(["export", str(project_file), "-o", str(out), "--clip", "take1",
                 "--marked", "--crf", "0", "--json-progress"]) == 0
    assert probe_video(out).frame_count == 20
    record = json.loads(sidecar_path(out).read_text())
    [entry] = record["edits"]
    assert entry["frames"] == [10, 30] and entry["audio_replaced"]
    # a dialogue-only edit leaves the picture as it was (lossless here, so exactly)
    with VideoReader(probe_video(clip)) as a, VideoReader(probe_video(out)) as b:
        assert all(np.array_equal(x, y) for x, y in zip(a.read(0, 20), b.read(0, 20),
                                                        strict=True))
    rate = load_audio(out).sample_rate
    sound = load_audio(out).samples
    assert np.abs(sound[int(0.5 * rate):int(0.7 * rate)]).max() > 0.05  # the line, from 0.4 s


def test_bad_requests_say_what_is_wrong(project_file, tmp_path, capsys):
    out = tmp_path / "x.mp4"
    assert main(["export", str(project_file), "-o", str(out), "--clip", "take3"]) != 0
    assert "no clip 'take3' (its clips: presenter.mp4, take2.mp4)" in capsys.readouterr().err
    assert main(["export", str(project_file), "-o", str(out), "--clip", "take2",
                 "--marked"]) != 0
    assert "take2.mp4 has no in and out marks" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "none.swaptalk"), "-o", str(out)]) != 0
    assert not out.exists()
