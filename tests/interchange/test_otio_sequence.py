"""The sequence in OpenTimelineIO: V1/A1 hold each sequence clip with its trim as the source
range, and our own file imports with the same sequence; a SwapTalk file without the sequence
in its metadata (written before sequences) gets V1 as its sequence."""

from __future__ import annotations

import opentimelineio as otio
from test_otio_io import FRAMES, make_project, media  # noqa: F401  (the module's fixture)

from swaptalk_desktop.core.project import SequenceClip
from swaptalk_desktop.interchange import export_otio, import_timeline


def test_the_sequence_goes_out_on_v1_a1_and_comes_back(media, tmp_path):  # noqa: F811
    project = make_project(media)
    clip_id = project.current_clip
    project.sequence = [SequenceClip("s1", clip_id, 5, 25), SequenceClip("s2", clip_id, 40),
                        SequenceClip("s3", clip_id, 0, 10)]
    project.check_consistent()
    out = export_otio(project, tmp_path / "seq.otio")
    timeline = otio.adapters.read_from_file(str(out))
    for track in timeline.tracks:
        ranges = [(c.source_range.start_time.value, c.source_range.duration.value)
                  for c in track.find_clips()]
        assert ranges == [(5, 20), (40, FRAMES - 40), (0, 10)]
    assert timeline.tracks[0].duration().value == 20 + 20 + 10

    back = import_timeline(out).project
    assert back.sequence == project.sequence
    assert back.clips == project.clips

    del timeline.metadata["swaptalk"]["sequence"]  # as written before sequences
    old = tmp_path / "old.otio"
    otio.adapters.write_to_file(timeline, str(old))
    derived = import_timeline(old).project.sequence
    assert [(s.media_id, s.source_in, s.source_out) for s in derived] == \
        [(clip_id, 5, 25), (clip_id, 40, FRAMES), (clip_id, 0, 10)]


def test_a_cut_from_another_editor_is_a_sequence_of_its_first_clip(media, tmp_path):  # noqa: F811
    import shutil

    from test_otio_io import EDL

    shutil.copy(media[1], tmp_path / "take3.mp4")
    edl = tmp_path / "reel1.edl"
    edl.write_text(EDL)
    project = import_timeline(edl).project
    (item,) = project.media.values()
    assert [(s.media_id, s.source_in, s.source_out) for s in project.sequence] == \
        [(item.id, 10, 25)]  # the event's source range, as the clip's marks
