"""One processed frame through exactly the render path, for scrubbing and A/B views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..faces import FaceTrack, track_faces
from ..media import VideoReader
from .context import EngineContext
from .frame_processors import apply_processors
from .frames import FaceProcessor, compose, crop_frame, crop_marks
from .job import RangeJob
from .mouth_sync import uses_mouth_library
from .prepare import PreparedJob, prepare_job
from .process import mel_for_frames, render_folder, set_sync_reference, track_folder
from .range_cache import RangeCache


@dataclass(frozen=True)
class PreviewResult:
    index: int
    original: np.ndarray
    processed: np.ndarray
    face_found: bool
    from_cache: bool
    needs_processing: bool = False
    """The edit's look needs the whole range processed first (a sync-only edit with a lips
    stage picks each mouth along the range): ``processed`` is the source frame until then."""


def _track(p: PreparedJob, ctx: EngineContext, index: int,
           rgb: np.ndarray) -> tuple[np.ndarray | None, FaceTrack | None]:
    """This frame's landmarks from the range's smoothed track when it exists (with the track),
    else from a detection on this frame alone."""
    cached = track_folder(p).path / "track.npz"
    if cached.exists():
        track = FaceTrack.load(cached)
        k = index - track.start
        return (track.landmarks[k] if track.present[k] else None), track
    embedder = ctx.embedder if p.target.mode == "reference" else None
    single = track_faces([(index, rgb)], ctx.landmarker, p.target, embedder=embedder)
    return (single.landmarks[0] if single.present[0] else None), None


def preview_frame(job: RangeJob, index: int, *, ctx: EngineContext | None = None,
                  prepared: PreparedJob | None = None,
                  rgb: np.ndarray | None = None) -> PreviewResult:
    """``rgb``: the frame, when the caller has just decoded it (scrubbing: a second decode
    from the keyframe was most of a cached frame's wait)."""
    ctx = ctx or EngineContext()
    p = prepared or prepare_job(job, None, ctx)
    if rgb is None:
        with VideoReader(p.info) as reader:
            rgb = reader.frame(index)
    if not job.start <= index < job.stop or not job.changes_picture:
        return PreviewResult(index, rgb, rgb, False, False)
    cache = RangeCache(render_folder(p), job)
    generated = cache.crop(index) if cache.has(index) else None
    from_cache = generated is not None
    if generated is None and uses_mouth_library(p):
        # a mouth is picked for the whole range at once (runs of library frames), so one
        # frame on its own would not be the frame the export shows; tracking the library
        # takes seconds, too long to hold up scrubbing (known before looking for the face)
        return PreviewResult(index, rgb, rgb, True, False, needs_processing=True)
    landmarks, track = _track(p, ctx, index, rgb)
    if landmarks is None:
        return PreviewResult(index, rgb, rgb, False, False)
    if generated is None:
        processor = FaceProcessor(p.runners, source_latent=p.source_latent,
                                  swap=job.do_swap, sync=job.do_sync,
                                  source_face=p.source_face)
        if track is not None and job.do_sync and not processor.warp:  # the render's reference
            with VideoReader(p.info) as reader:
                set_sync_reference(processor, p, track, reader)
        size = p.runners.crop_size
        crop = crop_frame(rgb, landmarks, size)
        marks = crop_marks(landmarks, size)[None]
        generated = processor.process(crop[None], mel_for_frames(p, np.array([index])),
                                      marks)
        generated = apply_processors(p.processors, generated, marks)[0]
    edit = job.edit
    processed = compose(rgb, generated, landmarks, region=job.mask_region, feather=edit.feather,
                        strength=edit.strength, color_match=edit.color_match)
    return PreviewResult(index, rgb, processed, True, from_cache)
