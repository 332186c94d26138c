"""Every bad input gets one actionable line, a non-zero exit, and leaves no output behind."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from render_helpers import save_png

from swaptalk_desktop.cli import main


@pytest.fixture
def workspace(tmp_path, clip, dialogue, models_dir):
    """A folder with a good clip and dialogue; each case breaks one thing."""
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(clip, folder / "clip.mp4")
    shutil.copy(dialogue, folder / "line.wav")
    return folder


def run_cli(workspace, models_dir, capsys, *args):
    cwd = os.getcwd()
    os.chdir(workspace)
    try:
        code = main(["render", "--models-dir", str(models_dir / "tint"), *args])
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines()


def base(out="out.mp4", video="clip.mp4", audio="line.wav", start="0", end="10"):
    args = ["--video", video, "--start", start, "--end", end, "-o", out]
    return args + (["--audio", audio] if audio else [])


def make_truncated(ws):
    data = (ws / "clip.mp4").read_bytes()
    (ws / "cut.mp4").write_bytes(data[: len(data) // 2])


def make_photo_without_face(ws):
    save_png(ws / "wall.png", np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None],
                                      (240, 1, 3)))


def make_text_as_audio(ws):
    (ws / "notes.wav").write_text("INT. OFFICE - DAY\nThis is a script, not a recording.\n")


def make_image(ws):
    save_png(ws / "still.png", np.zeros((64, 64, 3), np.uint8))


def make_file_as_folder(ws):
    (ws / "report.txt").write_text("a file, not a folder")


CASES = {
    "missing file": (None, base(video="nowhere.mp4"), "nowhere.mp4 does not exist"),
    "truncated mp4": (make_truncated, base(video="cut.mp4"), "cut.mp4"),
    "image as video": (make_image, base(video="still.png"), "image, not a video"),
    "range outside clip": (None, base(start="30", end="90"), "outside clip.mp4"),
    "range reversed": (None, base(start="20", end="10"), "outside clip.mp4"),
    "bad timecode": (None, base(end="00:00:01:99"), "timecode"),
    "photo without face": (make_photo_without_face, base(audio=None) + ["--face", "wall.png"],
                           "no face found in wall.png"),
    "missing photo": (None, base() + ["--face", "nobody.jpg"], "nobody.jpg"),
    "audio that is not audio": (make_text_as_audio, base(audio="notes.wav"),
                                "notes.wav is not an audio file"),
    "output folder missing": (None, base(out="renders/out.mp4"), "does not exist"),
    "output inside a file": (make_file_as_folder, base(out="report.txt/out.mp4"),
                             "cannot write"),
    "output is the source": (None, base(out="clip.mp4"), "source"),
    "output not mp4": (None, base(out="out.avi"), ".mp4"),
    "nothing to do": (None, base(audio=None), "nothing to change"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_cleanly(case, workspace, models_dir, capsys):
    prepare, args, expected = CASES[case]
    if prepare:
        prepare(workspace)
    before = sorted(p.name for p in workspace.rglob("*"))
    code, lines = run_cli(workspace, models_dir, capsys, *args)
    assert code != 0
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert expected in lines[0]
    assert "Traceback" not in lines[0]
    after = sorted(p.name for p in workspace.rglob("*"))
    assert after == before, "a failed render left files behind"


def test_existing_output_is_kept_without_overwrite(workspace, models_dir, capsys):
    (workspace / "out.mp4").write_bytes(b"an earlier export")
    code, lines = run_cli(workspace, models_dir, capsys, *base())
    assert code == 3 and "--overwrite" in lines[0]
    assert (workspace / "out.mp4").read_bytes() == b"an earlier export"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(workspace, models_dir, capsys):
    locked = workspace / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, lines = run_cli(workspace, models_dir, capsys, *base(out="locked/out.mp4"))
    finally:
        locked.chmod(0o700)
    assert code == 3 and "permission" in lines[0]


def test_clip_without_audio_needs_dialogue(shared_data, tmp_path, models_dir, capsys):
    clip = shared_data / "videos" / "no_audio" / "lp_d13_man_selfie.mp4"
    folder = tmp_path / "work"
    folder.mkdir()
    code, lines = run_cli(folder, models_dir, capsys,
                          *base(video=str(clip), audio=None, out="o.mp4"))
    assert code == 2 and "has no audio stream" in lines[0] and "--audio" in lines[0]
    assert list(folder.iterdir()) == []
