"""Per-stage defaults of the training commands (batch, learning rate, steps, intervals).

``small`` and ``base`` runs are long (the step counts below are where the small model's
validation metrics flattened on our trial runs, see docs/training.md); ``tiny`` is for tests and
smoke runs on a laptop.
"""

from __future__ import annotations

STAGE_DEFAULTS: dict[str, dict[str, float]] = {
    "vqgan": {"batch": 8, "lr": 4e-4, "steps": 100_000},
    "identity": {"batch": 32, "lr": 1e-3, "steps": 20_000},
    "expert": {"batch": 64, "lr": 5e-4, "steps": 30_000},
    "sync": {"batch": 16, "lr": 5e-4, "steps": 50_000},
    "swap": {"batch": 16, "lr": 3e-4, "steps": 50_000},
}
TINY_OVERRIDES: dict[str, dict[str, float]] = {
    "vqgan": {"lr": 2e-3, "steps": 300},
    "identity": {"steps": 200},
    "expert": {"batch": 32, "lr": 1e-3, "steps": 400},
    "sync": {"batch": 8, "lr": 1e-3, "steps": 300},
    "swap": {"batch": 8, "lr": 1e-3, "steps": 200},
}


def stage_default(stage: str, config: str, key: str) -> float:
    if config == "tiny" and key in TINY_OVERRIDES.get(stage, {}):
        return TINY_OVERRIDES[stage][key]
    return STAGE_DEFAULTS[stage][key]


def interval_default(config: str, key: str) -> int:
    """Checkpoint / validation / log intervals in steps."""
    tiny = config == "tiny"
    return {"checkpoint_every": 100 if tiny else 1000, "validate_every": 100 if tiny else 1000,
            "log_every": 20 if tiny else 100}[key]
