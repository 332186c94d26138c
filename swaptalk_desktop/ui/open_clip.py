"""The clip the editor shows, as the window hands it to its controllers."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.project import ClipState
from ..media import VideoInfo


@dataclass(frozen=True)
class OpenClip:
    """The open clip: its id, its state in the document and its video."""

    clip_id: str
    clip: ClipState
    info: VideoInfo
