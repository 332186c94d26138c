"""What the training commands are asked to do, as typed records the CLI fills in from its
arguments (cli/train_cmd.py, cli/adapt_cmd.py); training never sees an argparse namespace or a
display, only these, a ``message`` callback for lines of text, a progress callback and a cancel
token. Torch-free, so the CLI builds them before the training extras are imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Message = Callable[[str], None]
"""One line of text for the user (the CLI's display, or nothing)."""


@dataclass(frozen=True)
class StageOptions:
    """``swaptalk train vqgan|identity|expert|sync|swap``: one stage's run. None: the stage's
    default for the config (trainer/defaults.py)."""

    data: Path
    run_dir: Path
    config: str | None = None
    steps: int | None = None
    batch: int | None = None
    lr: float | None = None
    accumulate: int = 1
    seed: int = 0
    device: str = "auto"
    amp: bool | None = None
    resume: bool = True
    checkpoint_every: int | None = None
    validate_every: int | None = None
    log_every: int | None = None
    ema: float = 0.0
    threads: int | None = None
    cache_gb: float = 4.0
    stop_after: int | None = None
    vqgan: Path | None = None
    identity: Path | None = None
    expert: Path | None = None
    identity_teacher: str | None = None
    init: Path | None = None
    gan: bool | None = None
    low_res_weight: float = 0.0


@dataclass(frozen=True)
class EncodeOptions:
    """``swaptalk train encode``: the dataset's VQGAN latents (and optionally a data pack)."""

    data: Path
    vqgan: Path
    config: str | None = None
    device: str = "auto"
    batch: int = 64
    threads: int | None = None
    pack: Path | None = None


@dataclass(frozen=True)
class ExportOptions:
    """``swaptalk train export``: trained runs to an installed model set."""

    runs: Path
    set_id: str
    out: Path | None = None
    data: Path | None = None
    fp16: bool = True
    description: str = ""
    license: str = ""
    training_data: str = ""
    card: Path | None = None
    default: bool = False


@dataclass(frozen=True)
class AdaptOptions:
    """``swaptalk adapt``: fine-tune a model set (or training runs) to the actor of one clip."""

    video: Path
    exclude: tuple[str, ...] = ()
    """Ranges (``START:END`` positions) whose frames and sound margin are not learnt from."""
    minutes: float = 3.0
    """Footage to learn from; 0: all of it."""
    steps: int | None = None
    base_set: str | None = None
    set_id: str | None = None
    runs: Path | None = None
    work: Path | None = None
    device: str = "auto"
    batch: int | None = None
    threads: int | None = None
    fp16: bool = True
    models_dirs: tuple[Path, ...] = ()
