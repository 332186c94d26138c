"""Process a range into the chunk cache: track faces -> latent stages, no MP4 written.

Work is split so that an interruption loses little: the face track and every finished chunk of
generated crops are kept in the job folder, and a rerun of the same job skips them. Exports
(:mod:`.render`) run the same steps first, so a range processed ahead of time exports without
touching the models again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError
from ..core.progress import ProgressCallback, StageMeter
from ..faces import FaceTrack
from ..media import VideoReader, load_audio, log_mel, mel_windows, to_mono_16k
from . import mouth_sync
from .context import EngineContext
from .frame_processors import apply_processors
from .frames import FaceProcessor, crop_frame, crop_marks, reference_frame
from .job import RangeJob
from .prepare import PreparedJob, prepare_job, prepared_for, remember_prepared
from .track_span import track_span
from .workdir import JobFolder, prune_cache, stable_key

log = logging.getLogger(__name__)
ENGINE_REVISION = 10
"""Bump when a change makes old cached chunks wrong."""


@dataclass(frozen=True)
class ProcessResult:
    chunks_reused: int
    chunks_rendered: int
    frames_without_face: int
    provider: str


def track_folder(p: PreparedJob, root=None) -> JobFolder:
    job = p.job
    return JobFolder(stable_key({
        "rev": ENGINE_REVISION, "video": p.hashes["video"], "start": job.start,
        "stop": job.stop, "target": job.edit.target, "index": job.edit.target_index,
        "ref": p.hashes.get("target_photo")}), root)


def render_folder(p: PreparedJob, root=None) -> JobFolder:
    job = p.job
    key = {
        "track": track_folder(p, root).key, "face": p.hashes.get("face"),
        "audio": p.hashes.get("audio"), "offset": round(job.audio_offset, 6),
        "swap": job.do_swap, "sync": job.do_sync, "swap_method": job.edit.swap_method,
        "models": p.hashes["models"],
        "provider": p.hashes["provider"], "batch": job.run.batch_size,
        "chunk": job.run.chunk_frames}
    if p.hashes.get("processors"):  # only then: the keys of edits without one stay as they were
        key["processors"] = p.hashes["processors"]
    return JobFolder(stable_key(key), root)


def open_folders(p: PreparedJob) -> tuple[JobFolder, JobFolder]:
    """The range's (track, chunks) folders, created with their descriptions."""
    tracks, folder = track_folder(p), render_folder(p)
    tracks.ensure({"kind": "track", "job": p.job.describe(), "hashes": p.hashes})
    folder.ensure({"kind": "render", "job": p.job.describe(), "hashes": p.hashes,
                   "track": tracks.key})
    return tracks, folder


def ensure_track(p: PreparedJob, folder: JobFolder, ctx: EngineContext,
                 progress: ProgressCallback | None, cancel: CancelToken) -> FaceTrack:
    path = folder.path / "track.npz"
    if path.exists():
        return FaceTrack.load(path)
    job = p.job
    if mouth_sync.uses_mouth_library(p):
        # the footage the mouth library tracks holds the range: one pass gives both, and the
        # range's face is the very face whose mouths the library offers
        track = mouth_sync.ensure_library(p, folder, ctx, progress, cancel).span(job.start,
                                                                                 job.stop)
    else:
        track = track_span(p, ctx, job.start, job.stop, "track", progress, cancel)
    if not track.present.any():
        raise InputError(f"no face found in {p.range_label()} of {p.info.path.name}; choose a "
                         "range where the face is visible")
    missing = int((~track.present).sum())
    if missing:
        log.warning("no face in %d of %d frames of the range; those frames are left unchanged",
                    missing, len(track.present))
    track.save(path)
    return track


def mel_for_frames(p: PreparedJob, frames: np.ndarray,
                   window: int | None = None) -> np.ndarray | None:
    """One mel window per frame (``window`` mel frames, default the sync stage's), taken from
    the audio that drives the lips."""
    if not p.job.do_sync:
        return None
    if p.dialogue is not None:
        wave = to_mono_16k(p.dialogue)
        local = p.info.frame_times[frames] - p.info.frame_times[p.job.start] - p.job.audio_offset
    else:
        wave = to_mono_16k(load_audio(p.info.path))
        local = np.array([p.info.audio_time(int(i)) for i in frames])
    return mel_windows(log_mel(wave), local, window=window or p.runners.mel_window)


def chunk_bounds(job: RangeJob) -> list[tuple[int, int]]:
    size = max(1, job.run.chunk_frames)
    return [(s, min(s + size, job.stop)) for s in range(job.start, job.stop, size)]


def ensure_chunks(p: PreparedJob, track: FaceTrack, folder: JobFolder,
                  progress: ProgressCallback | None, cancel: CancelToken,
                  ctx: EngineContext | None = None) -> tuple[int, int]:
    job = p.job
    bounds = chunk_bounds(job)
    todo = [i for i in range(len(bounds)) if not folder.has_chunk(i)]
    if todo and mouth_sync.uses_mouth_library(p):
        rendered = ensure_mouth_chunks(p, track, folder, todo, progress, cancel,
                                       ctx or EngineContext())
        if rendered is not None:
            return len(bounds) - len(todo), rendered
    meter = StageMeter("render", job.stop - job.start, progress)
    done = sum(b - a for i, (a, b) in enumerate(bounds) if i not in todo)
    meter.skip_to(done)
    if not todo:
        return len(bounds), 0
    mel = mel_for_frames(p, np.arange(job.start, job.stop))
    processor = FaceProcessor(p.runners, source_latent=p.source_latent, swap=job.do_swap,
                              sync=job.do_sync, source_face=p.source_face)
    size, batch = p.runners.crop_size, max(1, job.run.batch_size)
    with VideoReader(p.info) as reader:
        set_sync_reference(processor, p, track, reader)
        for index in todo:
            a, b = bounds[index]
            present = track.present[a - track.start:b - track.start].copy()
            crops = np.zeros((b - a, size, size, 3), np.uint8)
            marks = np.zeros((b - a, 478, 2), np.float32)
            for k, rgb in enumerate(reader.read(a, b)):
                if present[k]:
                    lm = track.landmarks[a + k - track.start]
                    crops[k], marks[k] = crop_frame(rgb, lm, size), crop_marks(lm, size)
            out = np.zeros_like(crops)
            rows = np.flatnonzero(present)
            for s in range(0, len(rows), batch):
                cancel.raise_if_cancelled()
                sel = rows[s:s + batch]
                windows = None if mel is None else mel[a - job.start + sel]
                out[sel] = processor.process(crops[sel], windows, marks[sel])
                meter.update(done + int(sel[-1]) + 1)
            out = apply_processors(p.processors, out, marks, present)
            folder.save_chunk(index, out, present)
            done += b - a
            meter.update(done)
    return len(bounds) - len(todo), len(todo)


def ensure_mouth_chunks(p: PreparedJob, track: FaceTrack, folder: JobFolder, todo: list[int],
                        progress: ProgressCallback | None, cancel: CancelToken,
                        ctx: EngineContext) -> int | None:
    """The sync-only chunks from the actor's own mouths (engine/mouth_sync.py); None when the
    shot holds too few tracked frames for a library, and the latent path should run."""
    job, size = p.job, p.runners.crop_size
    library_track = mouth_sync.ensure_library(p, track_folder(p), ctx, progress, cancel)
    library = mouth_sync.library_of(library_track, job.start, job.stop, size)
    if len(library) < mouth_sync.MIN_LIBRARY:
        log.warning("only %d tracked frames in the shot around %s; using the latent lip sync",
                    len(library), p.range_label())
        return None
    frames = np.arange(job.start, job.stop)
    mel = mel_for_frames(p, frames, window=p.runners.lips_window)
    sound = mouth_sync.library_sound(p, library)
    actor = None if sound is None else mouth_sync.fit_actor(p.runners, sound, library.landmarks)
    picks = mouth_sync.plan(p, track, library, mel, actor)
    crops = mouth_sync.library_crops(p, library, picks, library_track)
    bounds = chunk_bounds(job)
    meter = StageMeter("render", job.stop - job.start, progress)
    done = sum(b - a for i, (a, b) in enumerate(bounds) if i not in todo)
    meter.skip_to(done)
    with VideoReader(p.info) as reader:
        for index in todo:
            cancel.raise_if_cancelled()
            a, b = bounds[index]
            present = track.present[a - track.start:b - track.start].copy()
            present &= picks[a - job.start:b - job.start] >= 0
            targets = np.zeros((b - a, size, size, 3), np.uint8)
            marks = np.zeros((b - a, 478, 2), np.float32)
            for k, rgb in enumerate(reader.read(a, b)):
                if present[k]:
                    lm = track.landmarks[a + k - track.start]
                    targets[k], marks[k] = crop_frame(rgb, lm, size), crop_marks(lm, size)
            out = mouth_sync.render_crops(p, track, a, b, picks, library, crops, targets)
            out = apply_processors(p.processors, out, marks, present)
            folder.save_chunk(index, out, present)
            done += b - a
            meter.update(done)
    return len(todo)


def set_sync_reference(processor: FaceProcessor, p: PreparedJob, track: FaceTrack,
                       reader: VideoReader) -> None:
    """Give the sync stage the range's most closed-mouth frame as its reference."""
    if not p.job.do_sync or processor.warp:
        return
    lo, hi = p.job.start - track.start, p.job.stop - track.start
    frame = reference_frame(track.landmarks[lo:hi], track.present[lo:hi], p.job.start)
    if frame is None:
        return
    rgb = reader.frame(frame)
    processor.set_reference(crop_frame(rgb, track.landmarks[frame - track.start],
                                       p.runners.crop_size))


def process_range(job: RangeJob, *, ctx: EngineContext | None = None,
                  progress: ProgressCallback | None = None,
                  cancel: CancelToken = NEVER) -> ProcessResult:
    """Track and run the latent stages over ``job``'s range into the chunk cache.

    Finished chunks are kept when cancelled (:class:`Cancelled`) or failing, and reused by a
    later process_range or export of the same edit.
    """
    ctx = ctx or EngineContext()
    p = prepare_job(job, None, ctx)
    remember_prepared(p, ctx)
    if not job.changes_picture:
        return ProcessResult(0, 0, 0, p.hashes["provider"])
    tracks, folder = open_folders(p)
    prune_cache(keep={tracks.path, folder.path})
    track = ensure_track(p, tracks, ctx, progress, cancel)
    reused, rendered = ensure_chunks(p, track, folder, progress, cancel, ctx)
    return ProcessResult(reused, rendered, int((~track.present).sum()), p.hashes["provider"])


def range_status(job: RangeJob, ctx: EngineContext) -> tuple[int, int]:
    """``(finished, total)`` chunks of ``job`` in the cache.

    The first call for a job checks its inputs and loads its models (as a render would, and
    raising the same one-line errors); later calls only list the job folder.
    """
    p = prepared_for(job, ctx)
    if not job.changes_picture:
        return 0, 0
    total = len(chunk_bounds(job))
    finished = [i for i in render_folder(p).finished_chunks() if i < total]
    return len(finished), total
