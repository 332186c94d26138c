"""``swaptalk adapt --estimate``: the expected time of an adaptation on this machine, from the
measured table, without training and without the training extras (torch blocked here); the
real adaptation then says how to install them."""

from __future__ import annotations

import json
import subprocess
import sys

BLOCKER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "safetensors", "onnx"):
            raise ImportError(f"{name} is only in the training extras")
sys.meta_path.insert(0, Block())
from swaptalk_desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""


def adapt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER, "adapt", *args],
                          capture_output=True, text=True, timeout=300)


def test_estimate_without_torch(clip, tmp_path):
    # the shipped default set (small) has the training weights adaptation starts from
    work = tmp_path / "work"
    run = adapt("--video", str(clip), "--exclude", "10:20", "--work", str(work), "--estimate",
                "--json-progress")
    assert run.returncode == 0, run.stderr[-2000:]
    done = json.loads(run.stdout.splitlines()[-1])
    assert done["event"] == "done" and done["config"] == "small" and done["steps"] == 1500
    # 40 frames; 10:20 and the 0.1 s of sound either side (frames 8-22) are left out
    assert done["usable_frames"] == 40 - 15 and done["excluded"] == [[10, 20]]
    est = done["estimate"]
    assert set(est["phases"]) == {"prepare", "decoder", "encode", "sync", "export"}
    assert est["total_s"] == sum(est["phases"].values()) or \
        abs(est["total_s"] - sum(est["phases"].values())) < 1
    assert done["per_footage_minute_s"] > 0
    assert not work.exists()  # nothing prepared, nothing trained

    human = adapt("--video", str(clip), "--steps", "3000", "--estimate")
    assert human.returncode == 0, human.stderr[-2000:]
    assert "expected time on" in human.stderr and "each minute of footage costs" in human.stderr
    assert "3000 steps" in human.stderr

    training = adapt("--video", str(clip), "--work", str(work))
    assert training.returncode == 2
    assert "bash scripts/setup.sh --dev" in training.stderr
