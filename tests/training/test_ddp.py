"""Data parallel training: two CPU processes (gloo) train the tiny VQGAN together and end with
identical weights, having trained on different batches."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from training_data_helpers import context, settings, tiny_dataset

from swaptalk_desktop.training.checkpoint_io import read_checkpoint, save_checkpoint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, run: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    from swaptalk_desktop.training.stages.vqgan import VQGANRecipe
    from swaptalk_desktop.training.trainer.distributed import teardown
    from swaptalk_desktop.training.trainer.loop import Trainer

    ctx = context(Path(data), settings(Path(run), 6, batch=4, checkpoint_every=3,
                                       validate_every=3))
    assert ctx.dist.world == world and ctx.dist.rank == rank
    trainer = Trainer(VQGANRecipe, ctx)
    trainer.run()
    first_batch = trainer.recipe.make_batch(0, 0, rank)
    save_checkpoint(Path(out) / f"rank{rank}.safetensors", trainer.recipe.modules,
                    extra={"batch": torch.from_numpy(first_batch.copy())})
    teardown(ctx.dist)


@pytest.mark.timeout(300)
def test_two_gloo_processes_keep_identical_weights(tmp_path, tmp_path_factory):
    data = tiny_dataset(tmp_path_factory)
    mp.spawn(_worker, args=(2, _free_port(), str(data), str(tmp_path / "run"), str(tmp_path)),
             nprocs=2, join=True)
    a = read_checkpoint(tmp_path / "rank0.safetensors")
    b = read_checkpoint(tmp_path / "rank1.safetensors")
    params = [k for k in a.tensors if k.startswith("module/vqgan/")]
    assert params and all(torch.equal(a.tensors[k], b.tensors[k]) for k in params)
    assert not torch.equal(a.extra["batch"], b.extra["batch"])  # each rank had its own data
    state = (tmp_path / "run" / "state.json").read_text()
    assert '"world_size": 2' in state and '"step": 6' in state
    # the run rank 0 saved resumes in a single process
    saved = read_checkpoint(tmp_path / "run" / "checkpoint.safetensors")
    assert all(torch.equal(saved.tensors[k], a.tensors[k]) for k in params)
