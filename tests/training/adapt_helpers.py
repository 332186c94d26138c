"""A tiny installed base set for the adaptation tests (imported by name, like
training_data_helpers): the tiny training runs exported once per test session into their own
models folder, so every test passes it with --models-dir instead of sharing the user folder."""

from __future__ import annotations

import json
from pathlib import Path

from training_data_helpers import synthetic_videos, tiny_dataset, tiny_runs

BASE_ID = "tiny-base"
_CACHE: dict[str, Path] = {}


def tiny_base_dir(tmp_path_factory) -> Path:
    """Folder holding the installed set ``tiny-base`` (manifest, ONNX, training weights)."""
    if "base" not in _CACHE:
        from swaptalk_desktop.cli import main

        out = tmp_path_factory.mktemp("tiny_base") / BASE_ID
        code = main(["train", "export", "--runs", str(tiny_runs(tmp_path_factory)), "--set-id",
                     BASE_ID, "--no-fp16", "--out", str(out), "--quiet",
                     "--data", str(tiny_dataset(tmp_path_factory))])
        assert code == 0
        _CACHE["base"] = out
    return _CACHE["base"]


def talking_clip(tmp_path_factory) -> Path:
    """3 s, 75 frames at 25 fps of the (public-domain) astronaut speaking a syllable track."""
    return synthetic_videos(tmp_path_factory) / "astronaut.mp4"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
