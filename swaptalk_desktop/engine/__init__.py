"""The one render path used by preview, render and export."""

from .context import EngineContext
from .job import EditOptions, RangeJob, RunOptions
from .jobs import JobQueue, JobRecord
from .preview import PreviewResult, preview_frame
from .process import ProcessResult, process_range, range_status
from .render import AUDIO_MODES, RenderResult, export_clip, render_range

__all__ = ["AUDIO_MODES", "EditOptions", "EngineContext", "JobQueue", "JobRecord",
           "PreviewResult", "ProcessResult", "RangeJob", "RenderResult",
           "RunOptions", "export_clip", "preview_frame", "process_range",
           "range_status", "render_range"]
