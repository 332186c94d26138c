"""What a training run is asked to do (CLI options) and the per-stage defaults behind them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainSettings:
    run_dir: Path
    steps: int
    batch: int
    lr: float
    seed: int = 0
    device: str = "auto"
    amp: bool | None = None          # None: on for CUDA, off on CPU
    accumulate: int = 1              # micro-batches per optimizer step
    checkpoint_every: int = 500
    validate_every: int = 500
    log_every: int = 20
    keep_checkpoints: int = 2
    resume: bool = True
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1        # cosine decay to lr * this at the last step
    grad_clip: float = 1.0
    ema_decay: float = 0.0           # 0 = off
    threads: int | None = None       # torch CPU threads
    cache_bytes: int = 4 << 30       # RAM for decoded crops
    stop_after: int | None = None    # stop this session after N steps (tests, time boxes)
    val_samples: int = 64

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "accumulate", "checkpoint_every", "validate_every",
                     "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    def replace(self, **changes) -> TrainSettings:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["run_dir"] = str(self.run_dir)
        return d
