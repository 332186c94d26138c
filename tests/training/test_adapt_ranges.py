"""``swaptalk adapt --exclude``: the edit ranges being replaced (and the frames whose sound
window reaches into them) are never in the prepared dataset; progress carries the whole job's
fraction and time left."""

from __future__ import annotations

import numpy as np
from adapt_helpers import BASE_ID, json_lines, talking_clip, tiny_base_dir

from swaptalk_desktop.cli import main
from swaptalk_desktop.inference import ModelRegistry


def test_excluded_ranges_are_not_prepared(tmp_path, tmp_path_factory, capsys):
    base, clip = tiny_base_dir(tmp_path_factory), talking_clip(tmp_path_factory)
    work = tmp_path / "work"
    capsys.readouterr()
    code = main(["adapt", "--video", str(clip), "--base-set", BASE_ID, "--models-dir",
                 str(base), "--set-id", "tiny-ranges", "--work", str(work), "--minutes", "0",
                 "--exclude", "20:30", "--exclude", "1.6s..2s", "--steps", "4",
                 "--threads", "1", "--no-fp16", "--json-progress"])
    lines = json_lines(capsys.readouterr().out)
    assert code == 0, lines[-1]
    done = lines[-1]
    assert done["event"] == "done" and done["excluded"] == [[20, 30], [40, 50]]

    # 0.1 s (2.5 frames at 25 fps) either side of a range hears its sound: left out too
    with np.load(work / "data" / "landmarks" / "astronaut.npz") as z:
        kept = set(z["source_index"].tolist())
    assert kept and max(kept) < 75
    assert not kept & set(range(18, 33)) and not kept & set(range(38, 53))
    assert {17, 33, 37, 53} <= kept  # the margin is no wider than the sound window
    assert done["frames"] == len(kept) and done["usable_frames"] == 75 - 30

    progress = [x for x in lines if x["event"] == "progress"]
    fractions = [x["fraction"] for x in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(x["job_eta_s"] is not None for x in progress)
    assert {"train vqgan", "train sync", "export"} <= {x["stage"] for x in progress}
    adapted = ModelRegistry(extra_dirs=[base]).get_set("tiny-ranges")
    assert adapted.stages["decode"][0].id == "tiny-ranges-decode"


def test_changed_ranges_start_the_fine_tunes_over(tmp_path, tmp_path_factory, capsys):
    base, clip = tiny_base_dir(tmp_path_factory), talking_clip(tmp_path_factory)
    work = tmp_path / "work"
    args = ["adapt", "--video", str(clip), "--base-set", BASE_ID, "--models-dir", str(base),
            "--set-id", "tiny-changed", "--work", str(work), "--minutes", "0", "--steps", "2",
            "--threads", "1", "--no-fp16", "--json-progress"]
    assert main(args + ["--exclude", "10:20"]) == 0
    capsys.readouterr()
    assert main(args + ["--exclude", "30:40"]) == 0
    messages = [x.get("message", "") for x in json_lines(capsys.readouterr().out)]
    assert any("starting the fine-tunes over" in m for m in messages)
    assert not any(m.startswith("resuming") for m in messages)
    with np.load(work / "data" / "landmarks" / "astronaut.npz") as z:
        kept = set(z["source_index"].tolist())
    assert 15 in kept and not kept & set(range(28, 43))
