"""Tracking the edited face over a span of a clip, with progress and cancel (used for the range
itself and for the footage around it that the mouth library draws on)."""

from __future__ import annotations

from ..core.cancel import CancelToken
from ..core.progress import ProgressCallback, StageMeter
from ..faces import FaceTrack, track_faces
from ..media import VideoReader
from .prepare import PreparedJob


def track_span(p: PreparedJob, ctx, lo: int, hi: int, stage: str,
               progress: ProgressCallback | None, cancel: CancelToken) -> FaceTrack:
    meter = StageMeter(stage, hi - lo, progress)
    embedder = ctx.embedder if p.target.mode == "reference" else None
    with VideoReader(p.info) as reader:
        frames = enumerate(reader.read(lo, hi), start=lo)
        return track_faces(frames, ctx.landmarker, p.target, embedder=embedder,
                           progress=meter.callback(), cancel=cancel, total=hi - lo)
