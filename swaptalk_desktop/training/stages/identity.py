"""Stage: the identity encoder, distilled from dlib's 128-D face descriptor (the teacher).

The student sees the aligned crops the swap stage will decode, with light photometric jitter
(the teacher saw the untouched crop) so that it keys on face shape, not exposure.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ...media.dataset_layout import DatasetLayout
from .. import losses
from ..archs import build_module
from ..data.dataset import FrameStore, step_rng
from ..data.latents import images_to_tensor
from ..data.teacher import compute_teacher, load_teacher
from ..trainer.distributed import barrier
from .base import Recipe, StageContext
from .common import dataset_for

TEACHER_STRIDE = 4


class _Frames:
    """(clip, crop, teacher row) triples of one split, drawn per step."""

    def __init__(self, index, split: str, teacher, store: FrameStore, seed: int) -> None:
        self.items: list[tuple] = []
        for rec in index.select(split):
            a, b = rec.train_range if split == "train" else rec.val_range
            idx, emb = teacher[rec.id]
            for row, k in enumerate(idx):
                if a <= k < b:
                    self.items.append((rec, int(k), emb[row]))
        self.store, self.seed = store, seed

    def take(self, picks) -> tuple[np.ndarray, np.ndarray]:
        crops = np.stack([self.store.frames(self.items[i][0])[self.items[i][1]] for i in picks])
        return crops, np.stack([self.items[i][2] for i in picks])


class IdentityRecipe(Recipe):
    name = "identity"
    best_metric = "cosine"
    best_mode = "max"
    ema_modules = ("identity",)

    def __init__(self, ctx: StageContext) -> None:
        super().__init__(ctx)
        self.index = dataset_for(ctx)
        self.student = build_module("identity", ctx.config)
        self.modules = {"identity": self.student}
        self.param_groups = {"main": list(self.student.parameters())}
        self.weight_decay = 1e-4

    def prepare(self) -> None:
        s = self.ctx.settings
        store = FrameStore(DatasetLayout(self.index.root), s.cache_bytes)
        if self.ctx.dist.main:
            compute_teacher(self.index, store, TEACHER_STRIDE, progress=self.ctx.progress,
                            cancel=self.ctx.cancel, message=self.ctx.message)
        barrier(self.ctx.dist)
        teacher = load_teacher(self.index, TEACHER_STRIDE)
        self.train_frames = _Frames(self.index, "train", teacher, store, s.seed)
        val = _Frames(self.index, "val", teacher, store, s.seed)
        self.val_frames = val if val.items else self.train_frames
        if not self.train_frames.items:
            raise ValueError("the dataset has no training frames for the identity stage")

    def meta(self) -> dict:
        return {"data": str(self.index.root), "teacher": "dlib_face_recognition_resnet_v1"}

    def make_batch(self, step: int, micro: int, rank: int):
        rng = step_rng(self.ctx.settings.seed, step, micro, rank, salt=31)
        picks = rng.integers(len(self.train_frames.items), size=self.ctx.settings.batch)
        crops, emb = self.train_frames.take(picks)
        gain = rng.uniform(0.85, 1.15, (len(picks), 1, 1, 1))
        bias = rng.uniform(-12, 12, (len(picks), 1, 1, 1))
        crops = np.clip(crops.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
        return crops, emb

    def to_device(self, batch) -> tuple[Tensor, Tensor]:
        crops, emb = batch
        return images_to_tensor(crops, self.ctx.device), torch.from_numpy(emb).to(
            self.ctx.device)

    def loss(self, phase: str, batch, step: int, micro: int) -> tuple[Tensor, dict]:
        x, teacher = batch
        total, terms = losses.distillation_loss(self.student(x), teacher)
        return total, {k: v.item() for k, v in terms.items()}

    @torch.no_grad()
    def validate(self, step: int) -> dict[str, float]:
        n = min(len(self.val_frames.items), max(self.ctx.settings.val_samples, 2))
        picks = np.linspace(0, len(self.val_frames.items) - 1, n).astype(np.int64)
        cos, rel = [], []
        for i in range(0, n, 32):
            crops, emb = self.val_frames.take(picks[i:i + 32])
            x, t = self.to_device((crops, emb))
            _, terms = losses.distillation_loss(self.student(x), t)
            cos.append(terms["cosine"].item() * len(crops))
            rel.append(terms["relation"].item() * len(crops))
        return {"cosine": sum(cos) / n, "relation_mse": sum(rel) / n}
