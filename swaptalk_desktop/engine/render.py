"""Render a range job to a finished MP4: track -> latent stages in chunks -> paste back -> mux.

Work is split so that an interruption loses little: the face track and every finished chunk of
generated crops are kept in the job folder, and a rerun of the same job skips them. The final
MP4 is written to a temporary file and renamed, so a cancelled or failed run leaves no output.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.atomic import write_text_atomic
from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError
from ..faces import FaceTrack, track_faces
from ..media import (
    EncodeSettings,
    VideoInfo,
    VideoReader,
    load_audio,
    log_mel,
    mel_windows,
    splice_audio,
    to_mono_16k,
    write_clip,
)
from .context import EngineContext
from .frames import FaceProcessor, compose, crop_frame
from .job import RangeJob
from .metadata import edit_metadata, sidecar_path
from .prepare import PreparedJob, prepare_job
from .progress import ProgressCallback, StageMeter
from .workdir import JobFolder, prune_cache, stable_key

log = logging.getLogger(__name__)
ENGINE_REVISION = 1
"""Bump when a change makes old cached chunks wrong."""


@dataclass(frozen=True)
class RenderResult:
    output: Path
    sidecar: Path
    frames_total: int
    frames_edited: int
    frames_without_face: int
    chunks_reused: int
    chunks_rendered: int
    provider: str
    seconds: float
    stage_seconds: dict


def track_folder(p: PreparedJob, root: Path | None = None) -> JobFolder:
    job = p.job
    return JobFolder(stable_key({
        "rev": ENGINE_REVISION, "video": p.hashes["video"], "start": job.start,
        "stop": job.stop, "target": job.edit.target, "index": job.edit.target_index,
        "ref": p.hashes.get("target_photo")}), root)


def render_folder(p: PreparedJob, root: Path | None = None) -> JobFolder:
    job = p.job
    return JobFolder(stable_key({
        "track": track_folder(p, root).key, "face": p.hashes.get("face"),
        "audio": p.hashes.get("audio"), "offset": round(job.audio_offset, 6),
        "swap": job.do_swap, "sync": job.do_sync, "models": p.hashes["models"],
        "provider": p.hashes["provider"], "batch": job.run.batch_size,
        "chunk": job.run.chunk_frames}), root)


def ensure_track(p: PreparedJob, folder: JobFolder, ctx: EngineContext,
                 progress: ProgressCallback | None, cancel: CancelToken) -> FaceTrack:
    path = folder.path / "track.npz"
    if path.exists():
        return FaceTrack.load(path)
    job = p.job
    meter = StageMeter("track", job.stop - job.start, progress)
    embedder = ctx.embedder if p.target.mode == "reference" else None
    with VideoReader(p.info) as reader:
        frames = enumerate(reader.read(job.start, job.stop), start=job.start)
        track = track_faces(frames, ctx.landmarker, p.target, embedder=embedder,
                            progress=meter.callback(), cancel=cancel, total=job.stop - job.start)
    if not track.present.any():
        raise InputError(f"no face found in {p.range_label()} of {p.info.path.name}; choose a "
                         "range where the face is visible")
    missing = int((~track.present).sum())
    if missing:
        log.warning("no face in %d of %d frames of the range; those frames are left unchanged",
                    missing, len(track.present))
    track.save(path)
    return track


def mel_for_frames(p: PreparedJob, frames: np.ndarray) -> np.ndarray | None:
    """One mel window per frame, taken from the audio that drives the lips."""
    if not p.job.do_sync:
        return None
    if p.dialogue is not None:
        wave = to_mono_16k(p.dialogue)
        local = p.info.frame_times[frames] - p.info.frame_times[p.job.start] - p.job.audio_offset
    else:
        wave = to_mono_16k(load_audio(p.info.path))
        local = np.array([p.info.audio_time(int(i)) for i in frames])
    return mel_windows(log_mel(wave), local, window=p.runners.mel_window)


def chunk_bounds(job: RangeJob) -> list[tuple[int, int]]:
    size = max(1, job.run.chunk_frames)
    return [(s, min(s + size, job.stop)) for s in range(job.start, job.stop, size)]


def ensure_chunks(p: PreparedJob, track: FaceTrack, folder: JobFolder,
                  progress: ProgressCallback | None, cancel: CancelToken) -> tuple[int, int]:
    job = p.job
    bounds = chunk_bounds(job)
    todo = [i for i in range(len(bounds)) if not folder.has_chunk(i)]
    meter = StageMeter("render", job.stop - job.start, progress)
    done = sum(b - a for i, (a, b) in enumerate(bounds) if i not in todo)
    meter.skip_to(done)
    if not todo:
        return len(bounds), 0
    mel = mel_for_frames(p, np.arange(job.start, job.stop))
    processor = FaceProcessor(p.runners, source_latent=p.source_latent, swap=job.do_swap,
                              sync=job.do_sync)
    size, batch = p.runners.crop_size, max(1, job.run.batch_size)
    with VideoReader(p.info) as reader:
        for index in todo:
            a, b = bounds[index]
            present = track.present[a - track.start:b - track.start].copy()
            crops = np.zeros((b - a, size, size, 3), np.uint8)
            for k, rgb in enumerate(reader.read(a, b)):
                if present[k]:
                    crops[k] = crop_frame(rgb, track.landmarks[a + k - track.start], size)
            out = np.zeros_like(crops)
            rows = np.flatnonzero(present)
            for s in range(0, len(rows), batch):
                cancel.raise_if_cancelled()
                sel = rows[s:s + batch]
                windows = None if mel is None else mel[a - job.start + sel]
                out[sel] = processor.process(crops[sel], windows)
                meter.update(done + int(sel[-1]) + 1)
            folder.save_chunk(index, out, present)
            done += b - a
            meter.update(done)
    return len(bounds) - len(todo), len(todo)


class ChunkReader:
    """Generated crops by frame index, loading one chunk at a time as the writer walks forward."""

    def __init__(self, folder: JobFolder, job: RangeJob):
        self.folder, self.job = folder, job
        self._index, self._crops, self._present = -1, None, None

    def get(self, frame: int) -> np.ndarray | None:
        size = max(1, self.job.run.chunk_frames)
        index, k = divmod(frame - self.job.start, size)
        if index != self._index:
            self._crops, self._present = self.folder.load_chunk(index)
            self._index = index
        return self._crops[k] if self._present[k] else None


def output_audio(p: PreparedJob):
    if p.dialogue is None:
        return "copy"
    source = load_audio(p.info.path) if p.info.audio is not None else None
    total = p.info.audio_time(0) + float(p.info.duration_s)
    if source is not None:
        total = max(total, source.duration_s)
    return splice_audio(source, p.dialogue, t0=p.t_start, t1=p.t_stop, offset=p.job.audio_offset,
                        total_duration=total, crossfade=p.job.edit.crossfade_s)


def render_range(job: RangeJob, output: Path | str, *, ctx: EngineContext | None = None,
                 encode: EncodeSettings | None = None, overwrite: bool = False,
                 progress: ProgressCallback | None = None, cancel: CancelToken = NEVER,
                 info: VideoInfo | None = None) -> RenderResult:
    """Render ``job`` to ``output``; ``info`` saves a second probe when the caller has one."""
    t_begin = time.monotonic()
    output = Path(output)
    ctx = ctx or EngineContext()
    p = prepare_job(job, output, ctx, overwrite, info)
    folder, tracks = render_folder(p), track_folder(p)
    prune_cache(keep={folder.path, tracks.path})
    tracks.ensure({"kind": "track", "job": job.describe(), "hashes": p.hashes})
    folder.ensure({"kind": "render", "job": job.describe(), "hashes": p.hashes,
                   "track": tracks.key})

    clock = {"prepare": time.monotonic() - t_begin}
    t = time.monotonic()
    track = ensure_track(p, tracks, ctx, progress, cancel)
    clock["track"], t = time.monotonic() - t, time.monotonic()
    reused, rendered = ensure_chunks(p, track, folder, progress, cancel)
    clock["render"], t = time.monotonic() - t, time.monotonic()

    edit = job.edit
    chunks = ChunkReader(folder, job)

    def replace(index: int, rgb: np.ndarray) -> np.ndarray:
        crop = chunks.get(index)
        if crop is None:
            return rgb
        return compose(rgb, crop, track.landmarks[index - track.start], region=job.mask_region,
                       feather=edit.feather, strength=edit.strength, color_match=edit.color_match)

    record = edit_metadata(p, output)
    meter = StageMeter("write", p.info.frame_count, progress)
    write_clip(p.info, output, replace_range=(job.start, job.stop), replace_frame=replace,
               audio=output_audio(p), settings=encode or EncodeSettings(),
               metadata={"comment": record["summary"], "swaptalk_edits": json.dumps(record)},
               progress=meter.callback(), cancel=cancel)
    sidecar = sidecar_path(output)
    write_text_atomic(sidecar, json.dumps(record, indent=2))
    clock["write"] = time.monotonic() - t
    missing = int((~track.present).sum())
    return RenderResult(output, sidecar, p.info.frame_count, job.stop - job.start - missing,
                        missing, reused, rendered, p.hashes["provider"],
                        round(time.monotonic() - t_begin, 2),
                        {k: round(v, 3) for k, v in clock.items()})

