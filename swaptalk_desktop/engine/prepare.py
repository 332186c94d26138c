"""Check every input of a range job before any long work, and load what the job needs.

All the ways a job can be wrong are found here, in the order a user would fix them, so a
render either fails within a second with one clear line or runs to the end.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.atomic import probe_writable_dir
from ..core.errors import InputError, ModelError, OutputError, SwapTalkError
from ..core.hashing import content_fingerprint, file_sha256
from ..core.timebase import frame_to_timecode
from ..faces import (
    TargetSpec,
    alignment_matrix,
    load_identity_photo,
    transform_points,
    warp_to_crop,
)
from ..faces.warp_swap import SourceFace
from ..media import AudioClip, VideoInfo, load_audio, probe_video
from ..media.splice import COVERAGE_TOLERANCE_S
from .context import EngineContext
from .frame_processors import FrameStage, resolve_processors
from .job import RangeJob

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = {".mp4", ".m4v", ".mov"}
SILENCE_PEAK = 1e-4
"""A sound whose peak stays below this (about -80 dBFS) counts as silent."""


@dataclass
class PreparedJob:
    job: RangeJob
    info: VideoInfo
    runners: object
    source_latent: np.ndarray | None
    dialogue: AudioClip | None
    target: TargetSpec
    hashes: dict
    """Content hashes of every input: video fingerprint, photo, audio, models."""
    source_face: SourceFace | None = None
    """The identity photo's aligned crop and landmarks, for a mesh-warp swap."""
    processors: tuple[FrameStage, ...] = ()
    """The edit's frame processors from plugins, their code loaded (frame_processors.py)."""

    @property
    def t_start(self) -> float:
        """Where the range starts on the clip's audio timeline (seconds)."""
        return self.info.audio_time(self.job.start)

    @property
    def t_stop(self) -> float:
        if self.job.stop < self.info.frame_count:
            return self.info.audio_time(self.job.stop)
        return self.info.audio_time(0) + float(self.info.duration_s)

    def range_label(self) -> str:
        fps = self.info.nominal_fps
        return (f"frames {self.job.start}-{self.job.stop - 1} "
                f"({frame_to_timecode(self.job.start, fps)}-"
                f"{frame_to_timecode(self.job.stop, fps)})")


def check_output(video: Path, output: Path, overwrite: bool) -> None:
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise OutputError(f"output {output.name} must end in .mp4 (or .m4v/.mov)")
    if output.exists() and video.exists() and output.resolve() == video.resolve():
        raise OutputError(f"output {output} is the source clip; choose another name "
                          "(the source is never overwritten)")
    if output.is_dir():
        raise OutputError(f"output {output} is a folder; give a file name ending in .mp4")
    if output.exists() and not overwrite:
        raise OutputError(f"{output} already exists; pass --overwrite to replace it")
    probe_writable_dir(output)


def check_range(job: RangeJob, info: VideoInfo) -> None:
    n = info.frame_count
    if job.start < 0 or job.stop > n or job.start >= job.stop:
        raise InputError(
            f"range {job.start}-{job.stop} is outside {info.path.name}, which has {n} frames "
            f"(0-{n - 1}, {frame_to_timecode(n, info.nominal_fps)}); the end must be after "
            "the start and at most the clip's length")


def _load_dialogue(job: RangeJob, info: VideoInfo,
                   warnings: list[str]) -> AudioClip | None:
    if job.audio is None:
        return None
    clip = load_audio(job.audio)
    if clip.samples.shape[0] == 0:
        raise InputError(f"{Path(job.audio).name} contains no audio samples; choose another file")
    duration = clip.samples.shape[0] / clip.sample_rate
    t0 = float(info.frame_times[job.start])
    t1 = float(info.frame_times[job.stop]) if job.stop < info.frame_count else info.duration_s
    span = t1 - t0
    covered = min(span, job.audio_offset + duration) - max(0.0, job.audio_offset)
    name = Path(job.audio).name
    if covered <= 0:
        raise InputError(f"{name} does not overlap the range with offset {job.audio_offset:+.2f} s;"
                         " adjust --audio-offset")
    if covered < span - COVERAGE_TOLERANCE_S:
        warnings.append(f"{name} covers {covered:.2f} s of the {span:.2f} s range; the rest of "
                        "the range is silent")
    elif duration - max(0.0, -job.audio_offset) > span + COVERAGE_TOLERANCE_S:
        warnings.append(f"{name} is {duration:.2f} s long; only {span:.2f} s of it fits the "
                        "range")
    if float(np.max(np.abs(clip.samples))) < SILENCE_PEAK:
        warnings.append(f"{name} is silent; the mouth will stay closed")
    return clip


def _check_own_sound(job: RangeJob, info: VideoInfo, warnings: list[str]) -> None:
    """Lips synced to the clip's own track: warn, as for a silent dialogue file, when the
    range's stretch of that track is silent."""
    clip = load_audio(info.path)
    rate = clip.sample_rate
    t0 = info.audio_time(job.start)
    t1 = (info.audio_time(job.stop) if job.stop < info.frame_count
          else info.audio_time(0) + float(info.duration_s))
    part = clip.samples[max(0, int(t0 * rate)):max(0, int(np.ceil(t1 * rate)))]
    if part.size == 0 or float(np.max(np.abs(part))) < SILENCE_PEAK:
        fps = info.nominal_fps
        warnings.append(f"the sound of {info.path.name} is silent in frames {job.start}-"
                        f"{job.stop - 1} ({frame_to_timecode(job.start, fps)}-"
                        f"{frame_to_timecode(job.stop, fps)}); the mouth will stay closed")


def _target_spec(job: RangeJob, ctx: EngineContext) -> TargetSpec:
    edit = job.edit
    if edit.target != "reference":
        return TargetSpec(mode=edit.target, index=edit.target_index)
    if edit.target_photo is None:
        raise InputError("choosing the face by reference needs a photo of that person")
    rgb, det = load_identity_photo(edit.target_photo, ctx.landmarker)
    return TargetSpec(mode="reference", reference=ctx.embedder.embed(rgb, det))


def prepare_job(job: RangeJob, output: Path | None, ctx: EngineContext,
                overwrite: bool = False, info: VideoInfo | None = None) -> PreparedJob:
    """Validate the job; ``output=None`` for previews, which write nothing."""
    if output is not None:
        check_output(Path(job.video), Path(output), overwrite)
    info = info if info is not None and info.path == Path(job.video) else probe_video(job.video)
    if info.truncated:
        raise InputError(f"{info.path.name} is truncated: only {info.frame_count} frames can be "
                         "read; copy or export the clip again")
    check_range(job, info)
    if not job.changes_picture and job.audio is None:
        if info.audio is None:
            raise InputError(f"{info.path.name} has no audio stream; give --audio with the new "
                             "dialogue (and/or --face with a new identity)")
        raise InputError("nothing to change: give --face (a new identity) and/or --audio "
                         "(new dialogue)")
    if job.do_swap and job.face is None:
        raise InputError("a face swap needs an identity photo (--face)")
    if job.do_sync and job.audio is None and info.audio is None:
        raise InputError(f"{info.path.name} has no audio stream to sync the lips to; "
                         "give --audio with the new dialogue")
    warnings: list[str] = []
    dialogue = _load_dialogue(job, info, warnings)
    if job.do_sync and job.audio is None:
        _check_own_sound(job, info, warnings)
    hashes: dict = {"video": content_fingerprint(Path(job.video))}
    if job.audio is not None:
        hashes["audio"] = file_sha256(Path(job.audio))

    target = _target_spec(job, ctx)
    if job.edit.target_photo is not None:
        hashes["target_photo"] = file_sha256(Path(job.edit.target_photo))
    if not job.changes_picture:  # a dialogue replacement alone: no faces, no models
        hashes["models"], hashes["provider"] = [], "none"
        for text in warnings:
            log.warning(text)
        return PreparedJob(job, info, None, None, dialogue, target, hashes)

    # a missing, disabled or broken processor plugin fails the job now, in a second
    processors = resolve_processors(job.edit.processors)
    if processors:
        hashes["processors"] = [stage.record() for stage in processors]
    run = job.run
    runners = ctx.runners(run.model_set, run.provider, run.batch_size)
    stages = _stages(job, runners)
    for stage in stages:
        if not runners.has_stage(stage):
            raise InputError(f"model set {runners.model_set.id} has no {stage} stage; "
                             "choose a set that does")
    # Building the sessions now verifies every model file's sha256 and settles the provider
    # before any long work, and both are part of the cache key of the chunks.
    if stages:
        runners.load(stages)
    source_latent = source_face = None
    if job.do_swap:
        rgb, det = load_identity_photo(job.face, ctx.landmarker)
        hashes["face"] = file_sha256(Path(job.face))
        m = alignment_matrix(det.landmarks, runners.crop_size)
        crop = warp_to_crop(rgb, m, runners.crop_size)
        if "swap" in stages:
            source_latent = ctx.identity_latent(hashes["face"], runners, crop)
        if job.edit.swap_method == "warp":
            source_face = SourceFace(crop, transform_points(det.landmarks, m))
    hashes["models"] = [{"id": m.id, "stage": m.stage, "sha256": m.sha256}
                        for m in runners.selected_models() if m.stage in stages]
    hashes["provider"] = runners.provider_report.used if stages else "none"
    for text in warnings:  # only once every check passed, so a failing job prints one line
        log.warning(text)
    return PreparedJob(job, info, runners, source_latent, dialogue, target, hashes, source_face,
                       processors)


def _stages(job: RangeJob, runners) -> tuple[str, ...]:
    """The model stages a picture-changing job runs (their files are verified up front)."""
    lips = runners.has_stage("lips")
    warp = job.do_swap and job.edit.swap_method == "warp"
    if warp and not job.do_sync:
        return ()  # the mesh warp alone needs no model
    if job.do_sync and lips and (warp or not job.do_swap):
        # the mouth-library path (engine/mouth_sync.py); the latent stages stay listed because
        # a shot with too few tracked frames falls back to them
        return ("lips", "encode", "decode") + (("swap",) if job.do_swap else ()) + ("sync",)
    return ("encode", "decode") + (("swap",) if job.do_swap else ()) + \
        (("sync",) if job.do_sync else ())


# -- prepared jobs kept per context ------------------------------------------------------------

_PREPARED_PER_CONTEXT = 64
_prepared: weakref.WeakKeyDictionary[EngineContext, OrderedDict] = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()


def _inputs_signature(job: RangeJob) -> tuple:
    """Size and modification time of every input file, so an edited file is checked again."""
    def stat(path: Path | None) -> tuple | None:
        if path is None:
            return None
        try:
            st = Path(path).stat()
        except OSError:
            return (str(path), None)
        return (str(path), st.st_size, st.st_mtime_ns)
    return tuple(stat(p) for p in (job.video, job.face, job.audio, job.edit.target_photo))


def remember_prepared(p: PreparedJob, ctx: EngineContext) -> None:
    _remember(ctx, (p.job, _inputs_signature(p.job)), p)


def _remember(ctx: EngineContext, key: tuple, value: PreparedJob | SwapTalkError) -> None:
    with _prepared_lock:
        cache = _prepared.setdefault(ctx, OrderedDict())
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > _PREPARED_PER_CONTEXT:
            cache.popitem(last=False)


def prepared_for(job: RangeJob, ctx: EngineContext) -> PreparedJob:
    """``prepare_job(job, None, ctx)``, reused while the job and its input files are unchanged.

    A job that fails its checks fails again from memory with the same message until one of
    its files changes, so polling the status of a broken edit stays cheap.
    """
    key = (job, _inputs_signature(job))
    with _prepared_lock:
        found = _prepared.get(ctx, {}).get(key)
    if isinstance(found, SwapTalkError):
        raise type(found)(str(found))
    if found is not None:
        return found
    try:
        p = prepare_job(job, None, ctx)
    except (InputError, ModelError) as err:
        _remember(ctx, key, type(err)(str(err)))  # a fresh copy: no traceback keeps frames alive
        raise
    remember_prepared(p, ctx)
    return p
