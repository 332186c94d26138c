"""The one render path used by preview, render and export."""

from .context import EngineContext
from .job import EditOptions, RangeJob, RunOptions
from .preview import PreviewResult, preview_frame
from .progress import ProgressEvent, StageMeter
from .render import RenderResult, render_range

__all__ = ["EditOptions", "EngineContext", "PreviewResult", "ProgressEvent", "RangeJob",
           "RenderResult", "RunOptions", "StageMeter", "preview_frame", "render_range"]
