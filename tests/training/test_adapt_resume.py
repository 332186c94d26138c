"""``swaptalk adapt`` resumes: killed (SIGKILL) after its first checkpoint, the same command
continues the decoder fine-tune from it; stopped with SIGTERM (the editor's Cancel) it saves a
checkpoint, says "cancelled" and exits 130; the third run finishes from there."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapt_helpers import BASE_ID, json_lines, talking_clip, tiny_base_dir

from swaptalk_desktop.cli import main

STEPS = 200  # checkpoints every 50 steps: room to land a kill between two


def step_of(run: Path) -> int:
    try:
        return int(json.loads((run / "state.json").read_text()).get("step", 0))
    except (OSError, ValueError):
        return 0


def run_until(args: list[str], stop: callable, sig: int, timeout: float = 600):
    """Start the command, read its JSON lines until ``stop(events)``, send ``sig``."""
    proc = subprocess.Popen([sys.executable, "-m", "swaptalk_desktop", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stdout:
            if line.startswith("{"):
                events.append(json.loads(line))
            if stop(events):
                proc.send_signal(sig)
                break
            assert time.monotonic() < deadline, "the adaptation did not get there in time"
        else:
            raise AssertionError(f"the command ended first: {events[-1:]}")
        events += json_lines(proc.stdout.read())
        return proc.wait(timeout=120), events
    finally:
        if proc.poll() is None:
            proc.kill()


def test_kill_then_rerun_resumes(tmp_path, tmp_path_factory, capsys):
    base, clip = tiny_base_dir(tmp_path_factory), talking_clip(tmp_path_factory)
    work = tmp_path / "work"
    args = ["adapt", "--video", str(clip), "--base-set", BASE_ID, "--models-dir", str(base),
            "--set-id", "tiny-resume", "--work", str(work), "--minutes", "0", "--exclude",
            "30:45", "--steps", str(STEPS), "--threads", "1", "--no-fp16", "--json-progress"]

    # 1. SIGKILL once the decoder's first checkpoint is on disk
    code, _ = run_until(args, lambda ev: step_of(work / "vqgan") > 0, signal.SIGKILL)
    assert code == -signal.SIGKILL
    killed_at = step_of(work / "vqgan")
    assert 0 < killed_at < STEPS

    # 2. the same command continues from it; SIGTERM during the sync fine-tune stops it cleanly
    code, events = run_until(args, lambda ev: step_of(work / "sync") > 0, signal.SIGTERM)
    messages = [e.get("message", "") for e in events]
    assert any("already prepared" in m for m in messages)  # the footage is not prepared again
    assert f"resuming vqgan from step {killed_at}" in " ".join(messages)
    first = next(e for e in events if e.get("stage") == "train vqgan")
    assert first["done"] == killed_at and first["fraction"] > 0.1
    assert code == 130 and events[-1]["event"] == "cancelled"
    stopped_at = step_of(work / "sync")
    assert 0 < stopped_at < STEPS
    assert not (work / "adapt.lock").exists()

    # 3. and the third run finishes the sync fine-tune from where SIGTERM left it
    capsys.readouterr()
    assert main(args) == 0
    lines = json_lines(capsys.readouterr().out)
    text = " ".join(x.get("message", "") for x in lines)
    assert f"resuming sync from step {stopped_at}" in text
    assert "vqgan is already at step" in text
    assert lines[-1]["event"] == "done" and lines[-1]["set_id"] == "tiny-resume"
    assert step_of(work / "vqgan") == STEPS and step_of(work / "sync") == STEPS
