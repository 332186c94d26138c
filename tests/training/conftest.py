"""Fixtures for the training stack's tests: tiny networks, seeded, on one CPU thread."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from swaptalk_desktop.training.archs import build_module  # noqa: E402
from swaptalk_desktop.training.configs import ModelConfig, model_config  # noqa: E402

# One thread: the tiny networks are dominated by per-op overhead, and a second thread only
# spins against whatever else the machine runs (the test suite runs beside renders).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny() -> ModelConfig:
    return model_config("tiny")


@pytest.fixture
def seed() -> int:
    torch.manual_seed(0)
    return 0


@pytest.fixture
def modules(tiny, seed) -> dict[str, torch.nn.Module]:
    return {name: build_module(name, tiny) for name in
            ("vqgan", "identity", "swap", "sync", "expert")}
