"""What a stage recipe provides to the generic training loop (``trainer/loop.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ...core.cancel import NEVER, CancelToken
from ...core.progress import ProgressCallback
from ..configs import ModelConfig
from ..trainer.distributed import DistInfo
from ..trainer.settings import TrainSettings


@dataclass
class StageContext:
    config: ModelConfig
    settings: TrainSettings
    dist: DistInfo
    data: Path | None = None
    runs: dict[str, Path] = field(default_factory=dict)   # frozen inputs: {"vqgan": RUN, ...}
    message: Callable[[str], None] = lambda text: None
    progress: ProgressCallback | None = None
    cancel: CancelToken = NEVER
    options: dict[str, Any] = field(default_factory=dict)  # stage-specific extras

    @property
    def device(self) -> torch.device:
        return self.dist.device


class Recipe:
    """One training stage. The loop owns optimisation, precision, distribution, checkpoints,
    logging and validation timing; the recipe owns models, batches, losses and metrics.

    Subclasses set ``modules`` (trainable, saved in the checkpoint) and ``param_groups``
    (optimizer name -> parameters) in ``__init__`` (on CPU, from the seeded RNG), and may load
    data and frozen networks in :meth:`prepare`, which runs after the device is known.
    """

    name = ""
    best_metric = ""          # validation metric that picks best.safetensors
    best_mode = "max"         # "max" | "min"
    ema_modules: tuple[str, ...] = ()
    betas = (0.9, 0.99)
    weight_decay = 0.0

    def __init__(self, ctx: StageContext) -> None:
        self.ctx = ctx
        self.modules: dict[str, nn.Module] = {}
        self.param_groups: dict[str, list[nn.Parameter]] = {}
        self.lr_scale: dict[str, float] = {}

    # -- set-up --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Load data and frozen networks (after the modules were moved to the device)."""

    def meta(self) -> dict[str, Any]:
        """Recorded in state.json and the checkpoint (frozen inputs, data, fingerprints)."""
        return {}

    # -- per step ------------------------------------------------------------------------
    def make_batch(self, step: int, micro: int, rank: int) -> Any:
        """Numpy batch for (step, micro-batch, rank); runs on a prefetch thread."""
        raise NotImplementedError

    def to_device(self, batch: Any) -> Any:
        return batch

    def phases(self, step: int) -> list[str]:
        """Optimizer names stepped this step, in order (a GAN adds "disc")."""
        return ["main"]

    def loss(self, phase: str, batch: Any, step: int, micro: int) -> tuple[Tensor, dict]:
        """Scalar loss to minimise for ``phase`` and a dict of floats to log."""
        raise NotImplementedError

    def after_step(self, step: int) -> None:
        """After the optimizer steps (dead-code restarts, schedules)."""

    # -- evaluation ----------------------------------------------------------------------
    @torch.no_grad()
    def validate(self, step: int) -> dict[str, float]:
        return {}

    def train_mode(self, training: bool) -> None:
        for m in self.modules.values():
            m.train(training)
