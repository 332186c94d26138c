"""``swaptalk adapt``: a clip of the actor -> an adapted set in the user model folder whose
decode and sync are new and whose encode and swap are the base set's, referenced by id."""

from __future__ import annotations

import json

import torch
from training_data_helpers import synthetic_videos, tiny_dataset, tiny_runs

from swaptalk_desktop.cli import main
from swaptalk_desktop.inference import ModelRegistry, user_model_dir
from swaptalk_desktop.training.checkpoint_io import read_checkpoint


def test_adapt_installs_a_set_reusing_the_base(tmp_path, tmp_path_factory, capsys,
                                               isolated_user_folders):
    runs = tiny_runs(tmp_path_factory)
    assert str(user_model_dir()).startswith(str(isolated_user_folders))
    assert main(["train", "export", "--runs", str(runs), "--set-id", "tiny-base", "--no-fp16",
                 "--data", str(tiny_dataset(tmp_path_factory))]) == 0
    base_folder = user_model_dir() / "tiny-base"
    assert (base_folder / "tiny-base.train.safetensors").is_file()
    capsys.readouterr()

    clip = synthetic_videos(tmp_path_factory) / "astronaut.mp4"
    args = ["adapt", "--video", str(clip), "--base-set", "tiny-base", "--set-id", "tiny-actor",
            "--steps", "6", "--minutes", "0.04", "--threads", "1", "--no-fp16",
            "--json-progress"]
    assert main(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    stages = {x["stage"] for x in lines if x["event"] == "progress"}
    assert {"astronaut", "dataset", "train vqgan", "encode", "train sync"} <= stages
    assert all(x["eta_s"] is not None for x in lines
               if x["event"] == "progress" and x["stage"].startswith("train") and x["done"] > 1)
    done = lines[-1]
    assert done["event"] == "done" and done["frames"] == 60  # 0.04 min = 2.4 s of 3 s
    assert done["stages_new"] == ["decode", "sync"] and done["stages_reused"] == ["encode",
                                                                                 "swap"]

    registry = ModelRegistry()
    assert registry.problems == []
    base, actor = registry.get_set("tiny-base"), registry.get_set("tiny-actor")
    for stage in ("encode", "swap"):
        assert [e.id for e in actor.stages[stage]] == [e.id for e in base.stages[stage]]
    for stage in ("decode", "sync"):
        assert [e.id for e in actor.stages[stage]] == [f"tiny-actor-{stage}"]
        assert actor.stages[stage][0].path.parent == user_model_dir() / "tiny-actor"
    assert all(ok for _, ok, _ in registry.verify_all())

    # the decoder moved, the encoder and codebooks did not
    old = read_checkpoint(base_folder / "tiny-base.train.safetensors")
    new = read_checkpoint(user_model_dir() / "tiny-actor" / "tiny-actor.train.safetensors")
    a, b = old.module_state("vqgan"), new.module_state("vqgan")
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith(("encoder.", "quant_")))
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("decoder."))


def test_adapt_needs_training_weights(tmp_path_factory, capsys):
    clip = synthetic_videos(tmp_path_factory) / "astronaut.mp4"
    code = main(["adapt", "--video", str(clip), "--base-set", "pipeline-check"])
    assert code == 2
    assert "has no training weights" in capsys.readouterr().err
