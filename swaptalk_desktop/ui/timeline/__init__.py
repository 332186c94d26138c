"""The timeline: ruler, picture, clip audio and replacement dialogue lanes, with range edits."""

from ...app.timeline_model import EditView, MarkerView
from .widget import TimelineWidget

__all__ = ["EditView", "MarkerView", "TimelineWidget"]
