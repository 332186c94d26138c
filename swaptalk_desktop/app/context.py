"""The engine as the editor's widgets reach it: one ``EngineContext`` per worker thread over
the configured model folders, the edit's job types, a job's checks and models prepared once
(``prepared_for``) and one frame through the render path (``preview_frame``)."""

from __future__ import annotations

from pathlib import Path

from ..engine import EngineContext, PreviewResult, RangeJob, RunOptions, preview_frame
from ..engine.prepare import PreparedJob, prepared_for
from ..inference import ModelRegistry

__all__ = ["EngineContext", "PreparedJob", "PreviewResult", "RangeJob", "RunOptions",
           "make_context", "prepared_for", "preview_frame"]


def make_context(model_dirs: list[Path]) -> EngineContext:
    """A fresh context over the shipped, user and ``model_dirs`` model folders."""
    return EngineContext(ModelRegistry(extra_dirs=model_dirs))
