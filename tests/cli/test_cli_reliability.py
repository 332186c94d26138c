"""Issue 9, reliability: one writer per output, writability before any work, probe of non-media,
the silent-track warning."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from render_helpers import decode_all, save_png

from swaptalk_desktop.cli import main
from swaptalk_desktop.core.output_lock import OutputBusyError, lock_path, output_lock


def render_args(clip, audio, models, out, *extra):
    return ["render", "--video", str(clip), "--start", "0", "--end", "40", "--audio", str(audio),
            "-o", str(out), "--models-dir", str(models), "--chunk-frames", "8",
            "--batch-size", "4", "--preset", "ultrafast", "--json-progress", *extra]


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def spawn(args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "swaptalk_desktop", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# -- two renders, one output ---------------------------------------------------------------------

def test_second_render_of_the_same_output_is_refused(clip, dialogue, models_dir, tmp_path):
    out = tmp_path / "dub.mp4"
    first = spawn(render_args(clip, dialogue, models_dir / "tint", out))
    try:
        for line in first.stdout:  # at its first progress event it holds the lock
            if json.loads(line)["event"] == "progress":
                break
        else:
            pytest.fail(first.stderr.read())
        first.send_signal(signal.SIGSTOP)  # hold it there, so the test does not race it
        t = time.monotonic()
        # --overwrite too: it is the lock, not the missing file, that refuses this one
        second = subprocess.run([sys.executable, "-m", "swaptalk_desktop",
                                 *render_args(clip, dialogue, models_dir / "tint", out,
                                              "--overwrite")],
                                capture_output=True, text=True, timeout=120)
        took = time.monotonic() - t
    finally:
        first.send_signal(signal.SIGCONT)
    rest, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert events(rest)[-1]["event"] == "done"

    assert second.returncode == 3, second.stderr
    evs = events(second.stdout)
    assert [e["event"] for e in evs] == ["error"], evs  # refused before any progress
    message = evs[0]["message"]
    assert message.startswith("another render (process ")
    assert f"process {first.pid}," in message
    assert f"is writing {out}; wait for it to finish or choose another output" in message
    assert took < 60
    assert len(decode_all(out)) == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dub.mp4", "dub.mp4.swaptalk.json"]


def test_two_renders_started_together_do_not_both_succeed(clip, dialogue, models_dir, tmp_path):
    out = tmp_path / "same.mp4"
    procs = [spawn(render_args(clip, dialogue, models_dir / "tint", out)) for _ in range(2)]
    results = [(p, *p.communicate(timeout=600)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 3], [err for _, _, err in results]
    loser = next(events(stdout) for p, stdout, _ in results if p.returncode == 3)[-1]
    # refused by the lock, or (if the first had already finished) by the file it left
    assert ("another render" in loser["message"]
            or "already exists" in loser["message"]), loser
    assert len(decode_all(out)) == 40
    assert not lock_path(out).exists()


def test_render_refused_while_the_lock_is_held(clip, dialogue, models_dir, tmp_path, capsys):
    out = tmp_path / "held.mp4"
    with output_lock(out):
        t = time.monotonic()
        code = main(render_args(clip, dialogue, models_dir / "tint", out)[:-1])
        took = time.monotonic() - t
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(lines) == 1, lines
    assert lines[0] == (f"error: another render (process {os.getpid()}, started "
                        f"{lines[0].split('started ')[1].split(')')[0]}) is writing {out}; "
                        "wait for it to finish or choose another output")
    assert took < 30
    assert list(tmp_path.iterdir()) == []


HOLD = ("import sys, time\n"
        "from swaptalk_desktop.core.output_lock import output_lock\n"
        "held = output_lock(sys.argv[1])\n"
        "held.__enter__()\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n")


def test_lock_of_a_killed_process_does_not_block(tmp_path):
    out = tmp_path / "x.mp4"
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(OutputBusyError, match=f"process {child.pid}, started"):
            with output_lock(out):
                pass
    finally:
        child.kill()  # SIGKILL: no cleanup runs, the lock file stays behind
        child.wait(timeout=30)
    assert lock_path(out).exists()
    with output_lock(out) as path:  # the kernel dropped the dead process's lock
        assert path == lock_path(out)
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not lock_path(out).exists()


def test_leftover_lock_file_does_not_block(tmp_path):
    out = tmp_path / "y.mp4"
    lock_path(out).write_text('{"pid": 999999, "started": "yesterday"}')
    with output_lock(out):
        pass
    assert list(tmp_path.iterdir()) == []


def test_same_output_spelled_two_ways_shares_one_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with output_lock("sub/../z.mp4"):
        with pytest.raises(OutputBusyError):
            with output_lock(tmp_path / "z.mp4"):
                pass


# -- writability before any work ------------------------------------------------------------------

@pytest.fixture
def unwritable(tmp_path):
    """A folder no new file can go in, even for root (immutable), or skip where none can be made."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)],
                                            capture_output=True).returncode != 0:
            pytest.skip("cannot make an immutable folder here")
        yield folder
        subprocess.run([chattr, "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)


def test_unwritable_output_fails_before_any_work(unwritable, clip, dialogue, models_dir,
                                                 capsys):
    out = unwritable / "out.mp4"
    t = time.monotonic()
    code = main(render_args(clip, dialogue, models_dir / "tint", out))
    took = time.monotonic() - t
    evs = events(capsys.readouterr().out)
    assert code == 3
    assert [e["event"] for e in evs] == ["error"], evs  # no tracking, no render progress
    assert evs[0]["message"] == f"cannot write {out}: no permission to write in {unwritable}"
    assert took < 1.0
    assert list(unwritable.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc")
def test_folder_whose_permissions_lie_fails_before_any_work(clip, dialogue, models_dir, capsys):
    """/proc passes ``os.access`` for root but takes no new file, like a FUSE or a root-squashed
    NFS folder: only a real write finds that out, and it must before the render, not after."""
    out = Path("/proc/out.mp4")
    t = time.monotonic()
    code = main(render_args(clip, dialogue, models_dir / "tint", out))
    took = time.monotonic() - t
    evs = events(capsys.readouterr().out)
    assert code == 3 and [e["event"] for e in evs] == ["error"], evs
    assert evs[0]["message"].startswith(f"cannot write {out}: ")
    assert took < 1.0


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None,
                    reason="needs root to run a check as another user")
def test_file_of_another_user_in_a_sticky_folder_is_refused_before_work():
    """With --overwrite, os.replace would only fail at the very end; the check says so first."""
    folder = Path(tempfile.mkdtemp(prefix="swaptalk-sticky-", dir="/tmp"))
    try:
        folder.chmod(0o1777)
        (folder / "theirs.mp4").write_bytes(b"someone else's export")
        check = ("import sys; from pathlib import Path\n"
                 "from swaptalk_desktop.core.atomic import probe_writable_dir\n"
                 "for name in sys.argv[1:]:\n"
                 "    try:\n"
                 "        probe_writable_dir(Path(name)); print('ok')\n"
                 "    except Exception as err:\n"
                 "        print(err)\n")
        src = str(Path(__file__).resolve().parents[2])
        result = subprocess.run([SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups",
                                 sys.executable, "-c", check, str(folder / "theirs.mp4"),
                                 str(folder / "mine.mp4")], capture_output=True, text=True,
                                timeout=120, env=dict(os.environ, PYTHONPATH=src), cwd="/")
        if result.returncode != 0 and "Permission denied" in result.stderr:
            pytest.skip("the interpreter is not readable by another user here")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            f"cannot replace {folder / 'theirs.mp4'}: it belongs to another user in a shared "
            "folder; choose another name", "ok"]
        assert sorted(p.name for p in folder.iterdir()) == ["theirs.mp4"]
    finally:
        shutil.rmtree(folder)


def test_output_that_is_a_folder_fails_before_any_work(clip, dialogue, models_dir, tmp_path,
                                                       capsys):
    out = tmp_path / "take.mp4"
    out.mkdir()
    t = time.monotonic()
    code = main(render_args(clip, dialogue, models_dir / "tint", out, "--overwrite"))
    took = time.monotonic() - t
    evs = events(capsys.readouterr().out)
    assert code == 3 and [e["event"] for e in evs] == ["error"]
    assert "is a folder" in evs[0]["message"]
    assert took < 1.0


def test_unwritable_export_fails_before_tracking(unwritable, clip, dialogue, ctx):
    from swaptalk_desktop.core.errors import OutputError
    from swaptalk_desktop.engine import RangeJob, export_clip
    seen = []
    with pytest.raises(OutputError, match="no permission to write"):
        export_clip(clip, [RangeJob(video=clip, start=0, stop=10, audio=dialogue)],
                    unwritable / "o.mp4", ctx=ctx, progress=seen.append)
    assert seen == []


# -- probe of something that is not a clip ---------------------------------------------------------

def _error_line(capsys, argv) -> tuple[int, str]:
    code = main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return code, lines[0]


@pytest.mark.parametrize("kind", ["jpeg", "png", "text"])
def test_probe_refuses_non_media_like_render(kind, face_photo, dialogue, models_dir, tmp_path,
                                             capsys):
    if kind == "jpeg":
        path = tmp_path / "portrait.jpg"
        shutil.copy(face_photo, path)
    elif kind == "png":
        path = tmp_path / "still.png"
        save_png(path, np.zeros((64, 64, 3), np.uint8))
    else:
        path = tmp_path / "notes.txt"
        path.write_text("INT. OFFICE - DAY\n")
    code, line = _error_line(capsys, ["probe", str(path)])
    assert code == 2 and line.startswith("error: ")
    json_code, json_line = _error_line(capsys, ["probe", "--json", str(path)])
    assert (json_code, json_line) == (code, line)
    render_code, render_line = _error_line(
        capsys, ["render", "--video", str(path), "--start", "0", "--end", "10", "--audio",
                 str(dialogue), "-o", str(tmp_path / "o.mp4"), "--models-dir",
                 str(models_dir / "tint")])
    assert (render_code, render_line) == (code, line)
    if kind != "text":
        assert "is an image, not a video clip" in line


def test_probe_still_describes_clips_and_sound(clip, dialogue, capsys):
    assert main(["probe", str(clip)]) == 0
    assert main(["probe", str(dialogue)]) == 0
    out = capsys.readouterr().out
    assert "video: h264" in out and "video: none" in out  # the sound file has no picture


# -- syncing to the clip's own track ------------------------------------------------------------

def _clip_with_sound(path: Path, loud: bool) -> Path:
    from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
    from swaptalk_desktop.media import AudioClip, make_test_clip
    n, fps, rate = 30, 25, 48000
    t = np.arange(int(rate * n / fps)) / rate
    wave = (0.1 * np.sin(2 * np.pi * 220 * t) if loud else np.zeros_like(t)).astype(np.float32)
    make_test_clip(path, moving_face_frames(n, 320, 240, face_height=0.95), fps=fps,
                   audio=AudioClip(np.repeat(wave[:, None], 2, axis=1), rate, None))
    return path


@contextlib.contextmanager
def engine_warnings():
    """The engine's warnings (main() stops the package logger propagating to caplog's root)."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                seen.append(record.getMessage())

    logger, handler = logging.getLogger("swaptalk_desktop"), Keep()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.parametrize("loud", [False, True])
def test_sync_to_the_clips_own_silent_track_warns(loud, ctx, tmp_path):
    from swaptalk_desktop.engine import EditOptions, RangeJob
    from swaptalk_desktop.engine.prepare import prepare_job
    video = _clip_with_sound(tmp_path / ("loud.mp4" if loud else "quiet.mp4"), loud)
    job = RangeJob(video=video, start=5, stop=20, edit=EditOptions(sync=True))
    with engine_warnings() as warnings:
        prepare_job(job, None, ctx)
    if loud:
        assert not [w for w in warnings if "silent" in w], warnings
    else:
        assert (f"the sound of {video.name} is silent in frames 5-19 (00:00:00:05-00:00:00:20); "
                "the mouth will stay closed") in warnings


def test_silent_dialogue_file_still_warns(ctx, clip, tmp_path):
    import soundfile

    from swaptalk_desktop.engine import RangeJob
    from swaptalk_desktop.engine.prepare import prepare_job
    quiet = tmp_path / "quiet.wav"
    soundfile.write(str(quiet), np.zeros(16000, np.float32), 16000)
    with engine_warnings() as warnings:
        prepare_job(RangeJob(video=clip, start=0, stop=10, audio=quiet), None, ctx)
    assert "quiet.wav is silent; the mouth will stay closed" in warnings
