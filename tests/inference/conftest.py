"""Shared fixtures: synthetic model sets built once per session, model folders isolated per test."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from swaptalk_desktop.eval.synthetic_models import build_synthetic_set
from swaptalk_desktop.inference import load_manifest


@pytest.fixture(autouse=True)
def isolated_model_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test sees the developer's own model folders or SWAPTALK_MODELS_DIR."""
    monkeypatch.delenv("SWAPTALK_MODELS_DIR", raising=False)
    data_home = tmp_path / "xdg-data"
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(data_home))  # exercises platformdirs for real
    else:
        monkeypatch.setattr(platformdirs, "user_data_dir",
                            lambda appname=None, *args, **kwargs: str(data_home / appname))
    return data_home


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder holding several synthetic sets (read-only for tests: copy before tampering)."""
    pytest.importorskip("onnx")
    folder = tmp_path_factory.mktemp("synthetic-models")
    build_synthetic_set(folder, set_id="synthetic")
    build_synthetic_set(folder, set_id="syn-source", swap_mode="source", make_default=False)
    build_synthetic_set(folder, set_id="syn-zero", sync_mode="zero", make_default=False)
    build_synthetic_set(folder, set_id="syn-mel", sync_mode="mel", make_default=False)
    build_synthetic_set(folder, set_id="syn-tint", tint=(0.2, 0.0, -0.2), make_default=False)
    build_synthetic_set(folder, set_id="syn-fp16", fp16_variants=True, make_default=False)
    return folder


@pytest.fixture(scope="session")
def synthetic_sets(synthetic_dir: Path) -> dict:
    return load_manifest(synthetic_dir / "manifest.json").sets
