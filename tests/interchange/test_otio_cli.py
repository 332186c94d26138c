"""``swaptalk otio export|import``: exit 0 and files that OTIO reads back; errors are one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
from test_otio_io import EDL, FRAMES, make_project, media  # noqa: F401  (fixture)

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.project_io import load_project, save_project


def test_export_and_import_commands(media, tmp_path, capsys):  # noqa: F811
    project = make_project(media)
    save_project(project, tmp_path / "take3.swaptalk")
    out = tmp_path / "take3.otio"
    assert main(["otio", "export", str(tmp_path / "take3.swaptalk"), "-o", str(out)]) == 0
    assert "2 edits, 2 markers" in capsys.readouterr().err
    timeline = otio.adapters.read_from_file(str(out))
    assert timeline.tracks[0][0].media_reference.available_range.duration.value == FRAMES
    assert len(timeline.tracks[0][0].markers) == 4

    back = tmp_path / "back.swaptalk"
    assert main(["otio", "import", str(out), "-o", str(back)]) == 0
    again = load_project(back)
    assert again.clips.keys() == project.clips.keys()
    assert [e.id for c in again.clips.values() for e in c.edits] == ["e1", "e2"]
    # what the command wrote exports again to a file OTIO reads
    assert main(["otio", "export", str(back), "-o", str(out), "--overwrite"]) == 0
    assert otio.adapters.read_from_file(str(out)).tracks[0][0].name == "take3.mp4"


def test_import_of_an_edl_in_a_real_process(media, tmp_path):  # noqa: F811
    shutil.copy(media[1], tmp_path / "take3.mp4")
    (tmp_path / "reel1.edl").write_text(EDL)
    swaptalk = Path(sys.executable).parent / "swaptalk"
    run = subprocess.run([str(swaptalk), "otio", "import",
                          str(tmp_path / "reel1.edl"), "-o", str(tmp_path / "reel1.swaptalk")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "warning: the cut has 2 clips" in run.stdout + run.stderr
    p = load_project(tmp_path / "reel1.swaptalk")
    (clip,) = p.clips.values()
    assert (clip.mark_in, clip.mark_out, [m.name for m in clip.markers]) == (10, 25, ["FIX LIPS"])
    assert main(["otio", "export", str(tmp_path / "reel1.swaptalk"), "-o",
                 str(tmp_path / "reel1.otio")]) == 0
    assert otio.adapters.read_from_file(str(tmp_path / "reel1.otio")).tracks[1].kind == "Audio"


def test_missing_media_and_existing_output_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "reel1.edl").write_text(EDL)
    code = main(["otio", "import", str(tmp_path / "reel1.edl"), "-o",
                 str(tmp_path / "p.swaptalk")])
    err = capsys.readouterr()
    text = (err.out + err.err).strip()
    assert code != 0 and "take3.mp4" in text and "not found" in text
    assert len(text.splitlines()) == 1 and not (tmp_path / "p.swaptalk").exists()
    (tmp_path / "p.swaptalk").write_text("{}")
    assert main(["otio", "import", str(tmp_path / "reel1.edl"), "-o",
                 str(tmp_path / "p.swaptalk")]) != 0
    assert "--overwrite" in "".join(capsys.readouterr())
