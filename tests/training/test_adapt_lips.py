"""Adapting a set with a lips stage: the stage is fine-tuned on the actor's own speech and the
adapted set uses it, with the before/after error on the held-back seconds reported."""

from __future__ import annotations

import json

import numpy as np
from training_data_helpers import synthetic_videos, tiny_dataset, tiny_runs

from swaptalk_desktop.cli import main
from swaptalk_desktop.inference import ModelRegistry, StageRunners, user_model_dir
from swaptalk_desktop.inference.manifest_write import add_model_set
from swaptalk_desktop.training.lips import LipsConfig, LipsNet, install_lips_model


def test_adapt_fine_tunes_the_lips_stage(tmp_path_factory, capsys):
    runs = tiny_runs(tmp_path_factory)
    assert main(["train", "export", "--runs", str(runs), "--set-id", "tiny-lipsbase",
                 "--no-fp16", "--data", str(tiny_dataset(tmp_path_factory))]) == 0
    folder = user_model_dir() / "tiny-lipsbase"
    base = ModelRegistry().get_set("tiny-lipsbase")
    cfg = LipsConfig()
    install_lips_model(LipsNet(cfg).eval(), cfg, folder, "tiny-lipsbase-lips", license="MIT",
                       training_data="none (random weights)")
    stages = {st: [e.id for e in entries] for st, entries in base.stages.items()}
    add_model_set(folder / "manifest.json", id="tiny-lipsbase",
                  stages={**stages, "lips": ["tiny-lipsbase-lips"]}, crop_size=base.crop_size,
                  mel_window=base.mel_window, replace=True)
    capsys.readouterr()

    clip = synthetic_videos(tmp_path_factory) / "astronaut.mp4"
    assert main(["adapt", "--video", str(clip), "--base-set", "tiny-lipsbase", "--set-id",
                 "tiny-lipsactor", "--steps", "4", "--minutes", "0.04", "--threads", "1",
                 "--no-fp16", "--json-progress"]) == 0
    done = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert done["event"] == "done"
    assert "lips" in done["stages_new"] and "lips" not in done["stages_reused"]
    before, after = done["lips"]["held_back_before"], done["lips"]["held_back_after"]
    assert before["frames"] > 0 and after["frames"] == before["frames"]
    assert done["lips"]["kept"] == (after["lmd"] < before["lmd"])

    registry = ModelRegistry()
    assert registry.problems == []
    actor = registry.get_set("tiny-lipsactor")
    [lips] = actor.stages["lips"]
    assert lips.id == "tiny-lipsactor-lips" and lips.path.parent == user_model_dir() / \
        "tiny-lipsactor"
    assert lips.metadata["held_back_before"]["lmd"] == before["lmd"]
    runners = StageRunners(actor, provider="cpu")
    shape = runners.lips(np.zeros((2, 80, runners.lips_window), np.float32))
    assert shape.shape == (2, 40, 2) and np.isfinite(shape).all()
