"""Resume is exact: N steps in one go == N/2, stop, resume, N/2 (bit for bit on CPU)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from training_data_helpers import STAGE_PLAN, context, read_log, settings, tiny_dataset, tiny_runs

from swaptalk_desktop.core.cancel import CancelToken
from swaptalk_desktop.core.errors import Cancelled, InputError
from swaptalk_desktop.training.checkpoint_io import read_checkpoint
from swaptalk_desktop.training.configs import model_config
from swaptalk_desktop.training.stages import vqgan as vqgan_stage
from swaptalk_desktop.training.trainer.loop import train_stage

STEPS = 10


def _train(stage, tmp_path_factory, run, **kw):
    data = tiny_dataset(tmp_path_factory)
    runs = tiny_runs(tmp_path_factory)
    _, batch, lr, needs = STAGE_PLAN[stage]
    s = settings(run, STEPS, min(batch, 8), lr, validate_every=3, checkpoint_every=4, **kw)
    ctx = context(data, s, {k: runs / k for k in needs})
    # codes unused for 2 steps count as dead, so restarts happen inside the window
    cfg = ctx.config
    ctx.config = dataclasses.replace(cfg, vqgan=dataclasses.replace(cfg.vqgan,
                                                                    dead_code_threshold=2))
    return train_stage(stage, ctx)


def _tensors(run):
    return read_checkpoint(run / "checkpoint.safetensors").tensors


@pytest.mark.parametrize("stage", list(STAGE_PLAN))
def test_resume_is_bit_exact(stage, tmp_path, tmp_path_factory, monkeypatch):
    # a dead-code restart and EMA inside the window, gradient accumulation for one stage
    monkeypatch.setattr(vqgan_stage, "RESTART_EVERY", 3)
    restarts = []
    if stage == "vqgan":
        original = vqgan_stage.VQGANRecipe.after_step

        def counting(self, step):
            before = self.vqgan.quant_upper.codebook.detach().clone()
            original(self, step)
            restarts.append(not torch.equal(before, self.vqgan.quant_upper.codebook))

        monkeypatch.setattr(vqgan_stage.VQGANRecipe, "after_step", counting)
    extra = {"ema_decay": 0.9} if stage in ("vqgan", "sync") else {}
    if stage == "identity":
        extra["accumulate"] = 2
    _train(stage, tmp_path_factory, tmp_path / "once", **extra)
    first = _train(stage, tmp_path_factory, tmp_path / "twice", stop_after=STEPS // 2, **extra)
    assert first.step == STEPS // 2
    _train(stage, tmp_path_factory, tmp_path / "twice", **extra)
    a, b = _tensors(tmp_path / "once"), _tensors(tmp_path / "twice")
    assert a.keys() == b.keys()
    assert any(k.startswith("optim/") for k in a)
    if extra.get("ema_decay"):
        assert any(k.startswith(f"module/ema-{stage}/") for k in a)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
    assert stage != "vqgan" or any(restarts)
    # the log of the resumed run reads like the uninterrupted one
    steps = [r["step"] for r in read_log(tmp_path / "twice") if "loss" in r]
    assert steps == [r["step"] for r in read_log(tmp_path / "once") if "loss" in r]


def test_cancel_saves_and_resumes(tmp_path, tmp_path_factory):
    data = tiny_dataset(tmp_path_factory)
    cancel = CancelToken()
    stopped_at = []

    def progress(ev):  # events are rate-limited, so stop at the first one from step 2 on
        if ev.stage == "train vqgan" and ev.done >= 2 and not cancel.cancelled:
            stopped_at.append(ev.done)
            cancel.cancel()

    s = settings(tmp_path / "run", 30, checkpoint_every=100)
    with pytest.raises(Cancelled, match="training stopped at step"):
        train_stage("vqgan", context(data, s, progress=progress, cancel=cancel))
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["step"] == stopped_at[0] < 30
    messages = []
    result = train_stage("vqgan", context(data, s, message=messages.append))
    assert result.step == 30
    assert any(f"resuming vqgan from step {stopped_at[0]}" in m for m in messages)


def test_run_folder_guards(tmp_path, tmp_path_factory):
    data = tiny_dataset(tmp_path_factory)
    run = tmp_path / "run"
    train_stage("vqgan", context(data, settings(run, 2)))
    with pytest.raises(InputError, match="leave out --no-resume"):
        train_stage("vqgan", context(data, settings(run, 4, resume=False)))
    with pytest.raises(InputError, match="holds a vqgan run"):
        train_stage("identity", context(data, settings(run, 4)))
    ctx = context(data, settings(run, 4))
    ctx.config = model_config("small")
    with pytest.raises(InputError, match="256 px"):
        train_stage("vqgan", ctx)
    messages = []
    done = train_stage("vqgan", context(data, settings(run, 2), message=messages.append))
    assert done.step == 2 and "raise --steps" in messages[-1]
    # EMA switched on when resuming starts from the current weights
    train_stage("vqgan", context(data, settings(run, 3, ema_decay=0.9)))
    assert "ema-vqgan" in read_checkpoint(run / "checkpoint.safetensors").module_names
