"""The render command as a user runs it: a real process, progress lines, Ctrl-C, rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from render_helpers import decode_all

from swaptalk_desktop.eval.synthetic_clip import write_moving_face_clip


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    return write_moving_face_clip(tmp_path_factory.mktemp("long") / "take3.mp4", n=120,
                                  width=640, height=480, face_height=0.95)


def command(clip, audio, models, out):
    return [sys.executable, "-m", "swaptalk_desktop", "render", "--video", str(clip),
            "--start", "0", "--end", "120", "--audio", str(audio), "-o", str(out),
            "--models-dir", str(models), "--chunk-frames", "8", "--batch-size", "4",
            "--preset", "ultrafast", "--json-progress"]


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_sigint_leaves_no_output_and_rerun_resumes(long_clip, dialogue, models_dir, tmp_path):
    out = tmp_path / "take3_dub.mp4"
    args = command(long_clip, dialogue, models_dir / "tint", out)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:
        ev = json.loads(line)
        seen.append(ev)
        if ev["event"] == "progress" and ev["stage"] == "render" and ev["done"] >= 8:
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=120)
    seen += events(rest)
    assert proc.returncode == 130, err
    assert seen[-1]["event"] == "cancelled" and "resume" in seen[-1]["message"]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [], "cancel left a partial file"

    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    done = events(again.stdout)[-1]
    assert done["event"] == "done" and done["chunks_reused"] >= 1
    assert done["chunks_reused"] + done["chunks_rendered"] == 15

    env = dict(os.environ, SWAPTALK_CACHE_DIR=str(tmp_path / "other-cache"))
    whole = tmp_path / "whole.mp4"
    once = subprocess.run(command(long_clip, dialogue, models_dir / "tint", whole),
                          capture_output=True, text=True, timeout=300, env=env)
    assert once.returncode == 0, once.stderr
    assert events(once.stdout)[-1]["chunks_reused"] == 0
    for a, b in zip(decode_all(out), decode_all(whole), strict=True):
        assert np.array_equal(a, b)


def test_json_progress_reports_every_stage(clip, dialogue, models_dir, tmp_path):
    out = tmp_path / "o.mp4"
    proc = subprocess.run([sys.executable, "-m", "swaptalk_desktop", "render", "--video",
                           str(clip), "--start", "4", "--end", "00:00:01:00", "--audio",
                           str(dialogue), "-o", str(out), "--models-dir",
                           str(models_dir / "tint"), "--json-progress"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    stages = {e["stage"] for e in evs if e["event"] == "progress"}
    assert stages == {"track", "render", "write"}
    for e in evs:
        if e["event"] == "progress":
            assert 0 <= e["done"] <= e["total"] and e["fps"] >= 0
    final = evs[-1]
    assert final["event"] == "done" and final["edited"] == 21 and final["provider"] == "CPU"
    assert Path(final["output"]) == out and out.exists()


def test_swap_method_is_chosen_on_the_command_line(clip, face_photo, models_dir, tmp_path):
    made = {}
    for method in ("warp", "latent"):
        out = tmp_path / f"{method}.mp4"
        extra = [] if method == "warp" else ["--swap-method", "latent"]
        proc = subprocess.run([sys.executable, "-m", "swaptalk_desktop", "render", "--video",
                               str(clip), "--start", "5", "--end", "9", "--face", str(face_photo),
                               "-o", str(out), "--models-dir", str(models_dir / "tint"),
                               "--preset", "ultrafast", *extra], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        sidecar = json.loads(out.with_name(out.name + ".swaptalk.json").read_text())
        made[method] = sidecar
        assert sidecar["edits"][0]["swap_method"] == method
    assert made["warp"]["models"] == []
    assert "swap" in {m["stage"] for m in made["latent"]["models"]}
    bad = subprocess.run([sys.executable, "-m", "swaptalk_desktop", "render", "--video",
                          str(clip), "--start", "5", "--end", "9", "--face", str(face_photo),
                          "-o", str(tmp_path / "x.mp4"), "--swap-method", "paint"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "warp" in bad.stderr
