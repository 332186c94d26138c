"""Device choice, seeding and data parallelism across processes started by ``torchrun``.

``torchrun --nproc_per_node N -m swaptalk_desktop train ...`` sets RANK, WORLD_SIZE and
LOCAL_RANK; every process then trains a replica on its own batches (drawn per rank) and the
gradients are averaged before each optimizer step, so the replicas stay identical. The
averaging is an explicit bucketed all-reduce rather than the DistributedDataParallel wrapper:
the stage recipes call sub-module methods (``vqgan.encode``, ``decode``) and the GAN alternates
generator and discriminator phases, neither of which goes through one ``forward`` that DDP's
hooks could follow. NCCL on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ...core.errors import InputError


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def choose_device(preference: str = "auto", local_rank: int = 0) -> torch.device:
    if preference not in ("auto", "cpu", "cuda"):
        raise InputError(f"--device must be auto, cpu or cuda, got {preference!r}")
    if preference == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    if preference == "cuda":
        raise InputError("--device cuda was asked for but PyTorch sees no CUDA GPU; install "
                         "the CUDA build of torch or use --device cpu")
    return torch.device("cpu")


def setup(preference: str = "auto") -> DistInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = choose_device(preference, local)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, init_method="env://", rank=rank,
                                world_size=world)
    return DistInfo(rank, world, local, device)


def teardown(info: DistInfo) -> None:
    if info.distributed and dist.is_initialized():
        dist.destroy_process_group()


def seed_everything(seed: int) -> None:
    """Same seed on every rank: replicas start identical (checked again by a broadcast)."""
    random.seed(seed)
    np.random.seed(seed & 0xFFFFFFFF)
    torch.manual_seed(seed)


def step_generator(seed: int, step: int, rank: int = 0, salt: int = 0,
                   device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator that depends only on (seed, step, rank, salt): resumable randomness."""
    mixed = (seed * 1_000_003 + step * 9_176 + rank * 7_919 + salt * 104_729) & (2 ** 63 - 1)
    g = torch.Generator(device=device)
    g.manual_seed(mixed)
    return g


def broadcast_module(module: nn.Module, info: DistInfo) -> None:
    """Rank 0's parameters and buffers on every rank."""
    if not info.distributed:
        return
    for tensor in [*module.parameters(), *module.buffers()]:
        dist.broadcast(tensor.data, src=0)


def average_gradients(params: list[nn.Parameter], info: DistInfo,
                      bucket_bytes: int = 32 << 20) -> None:
    """Mean of every rank's gradients, in place. A parameter without a gradient this step
    gets zeros, so every rank reduces the same tensors in the same order."""
    if not info.distributed:
        return
    grads = []
    for p in params:
        if not p.requires_grad:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        grads.append(p.grad)
    bucket: list[torch.Tensor] = []
    size = 0
    for g in grads:
        bucket.append(g)
        size += g.numel() * g.element_size()
        if size >= bucket_bytes:
            _reduce_bucket(bucket, info.world)
            bucket, size = [], 0
    if bucket:
        _reduce_bucket(bucket, info.world)


def _reduce_bucket(bucket: list[torch.Tensor], world: int) -> None:
    flat = torch.cat([g.reshape(-1).float() for g in bucket])
    dist.all_reduce(flat)
    flat.div_(world)
    offset = 0
    for g in bucket:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def all_min_(tensor: torch.Tensor, info: DistInfo) -> None:
    if info.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
