"""Export a clip with one or more edited ranges to a finished MP4 in one pass.

Each range is processed first (:mod:`.process`: track -> latent stages in cached chunks, reused
when already there), then the clip is written once: frames outside every range pass through
untouched, each range's frames get its generated faces pasted back, and the sound is the
source's with every edit's dialogue spliced in. By default the write is a *smart render*
(:mod:`..media.smart_render`): the source's GOPs without an edited frame are copied packet for
packet and only the GOPs with one are re-encoded; where that cannot be done the whole clip is
encoded and the result says why. The MP4 is written to a temporary file and renamed, so a
cancelled or failed export leaves no output.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..core.atomic import write_text_atomic
from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError
from ..core.output_lock import output_lock
from ..core.progress import ProgressCallback, StageMeter
from ..media import (
    AudioClip,
    EncodeSettings,
    VideoInfo,
    load_audio,
    probe_video,
    splice_audio,
    write_clip,
)
from .context import EngineContext
from .frames import compose
from .job import RangeJob
from .metadata import export_metadata, sidecar_path
from .prepare import PreparedJob, check_output, prepare_job, remember_prepared
from .process import ensure_chunks, ensure_track, open_folders
from .range_cache import RangeCache
from .workdir import prune_cache

log = logging.getLogger(__name__)

AudioMode = Literal["replace", "keep", "mute"]
AUDIO_MODES = ("replace", "keep", "mute")
"""replace: every edit's dialogue spliced into the source sound; keep: the source sound as is;
mute: no sound at all."""


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
    write: dict = field(default_factory=dict)
    """How the file was written: ``mode`` ("smart" or "full"), ``reason`` (why a smart render
    fell back to the full encode, else None), ``frames_copied``, ``frames_reencoded``,
    ``reencoded_ranges`` (source frames [start, stop) of the re-encoded GOPs)."""


@dataclass
class _Edit:
    p: PreparedJob
    landmarks: np.ndarray
    present: np.ndarray
    chunks: RangeCache | None

    def replace(self, index: int, rgb: np.ndarray) -> np.ndarray:
        k = index - self.p.job.start
        if self.chunks is None:
            return rgb
        crop = self.chunks.crop(index) if self.present[k] else None
        if crop is None:
            return rgb
        edit = self.p.job.edit
        return compose(rgb, crop, self.landmarks[k], region=self.p.job.mask_region,
                       feather=edit.feather, strength=edit.strength,
                       color_match=edit.color_match)


def render_range(job: RangeJob, output: Path | str, *, ctx: EngineContext | None = None,
                 encode: EncodeSettings | None = None, overwrite: bool = False,
                 progress: ProgressCallback | None = None, cancel: CancelToken = NEVER,
                 info: VideoInfo | None = None, full_encode: bool = False) -> RenderResult:
    """Render ``job`` to ``output``; ``info`` saves a second probe when the caller has one."""
    return export_clip(job.video, [job], output, ctx=ctx, encode=encode, overwrite=overwrite,
                       progress=progress, cancel=cancel, info=info, full_encode=full_encode)


def export_clip(video: Path | str, jobs: list[RangeJob], output: Path | str, *,
                ctx: EngineContext | None = None, encode: EncodeSettings | None = None,
                overwrite: bool = False, progress: ProgressCallback | None = None,
                cancel: CancelToken = NEVER, audio_mode: AudioMode = "replace",
                info: VideoInfo | None = None,
                span: tuple[int, int] | None = None,
                full_encode: bool = False) -> RenderResult:
    """Write ``video`` with every job's range edited to ``output`` (one atomic MP4).

    All inputs of all jobs are checked before any long work; ranges must not overlap.
    ``span=(a, b)`` writes only frames ``a .. b-1`` (the marked range) as its own file; edits
    outside it are left out. The write is a smart render (untouched GOPs copied) unless
    ``full_encode`` or the source rules it out; ``RenderResult.write`` says which ran and why.
    """
    t_begin = time.monotonic()
    video, output = Path(video), Path(output)
    ctx = ctx or EngineContext()
    if audio_mode not in AUDIO_MODES:
        raise ValueError(f"audio_mode must be one of {', '.join(AUDIO_MODES)}")
    if not jobs:
        raise InputError(f"nothing to export: {video.name} has no edits; add one first")
    for job in jobs:
        if not _same_file(Path(job.video), video):
            raise InputError(f"the edit at frames {job.start}-{job.stop - 1} belongs to "
                             f"{Path(job.video).name}, not {video.name}; export each clip "
                             "on its own")
    check_output(video, output, overwrite)
    # One writer per output: a second render of the same file is refused here, at once, and
    # creating the lock file proves the folder takes new files before any long work.
    with output_lock(output):
        check_output(video, output, overwrite)  # another render may have finished it meanwhile
        return _export_locked(video, jobs, output, ctx=ctx, encode=encode, progress=progress,
                              cancel=cancel, audio_mode=audio_mode, info=info, span=span,
                              t_begin=t_begin, full_encode=full_encode)


def _export_locked(video: Path, jobs: list[RangeJob], output: Path, *, ctx: EngineContext,
                   encode: EncodeSettings | None, progress: ProgressCallback | None,
                   cancel: CancelToken, audio_mode: AudioMode, info: VideoInfo | None,
                   span: tuple[int, int] | None, t_begin: float,
                   full_encode: bool = False) -> RenderResult:
    info = info if info is not None and info.path == video else probe_video(video)
    if span is not None:
        if not 0 <= span[0] < span[1] <= info.frame_count:
            raise InputError(f"the range {span[0]}-{span[1] - 1} to export is outside "
                             f"{video.name} ({info.frame_count} frames)")
        jobs = [j for j in jobs if j.start < span[1] and j.stop > span[0]]
        if not jobs:
            raise InputError(f"no edit lies in frames {span[0]}-{span[1] - 1}; move the marks "
                             "over an edit or export the whole clip")
    ordered = sorted(jobs, key=lambda j: (j.start, j.stop))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.stop:
            raise InputError(f"edits at frames {a.start}-{a.stop - 1} and {b.start}-"
                             f"{b.stop - 1} overlap; trim one of them")
    prepared = [prepare_job(job, None, ctx, info=info) for job in ordered]
    for p in prepared:
        remember_prepared(p, ctx)
    folders = [open_folders(p) if p.job.changes_picture else None for p in prepared]
    prune_cache(keep={f.path for pair in folders if pair for f in pair})
    clock = {"prepare": time.monotonic() - t_begin, "track": 0.0, "render": 0.0}

    edits: list[_Edit] = []
    reused = rendered = missing = 0
    for k, (p, pair) in enumerate(zip(prepared, folders, strict=True)):
        if pair is None:  # dialogue only: the picture of this range passes through
            edits.append(_Edit(p, np.zeros((0, 478, 2), np.float32), np.zeros(0, bool), None))
            continue
        tracks, chunks = pair
        sink = _labelled(progress, k, len(prepared))
        t = time.monotonic()
        track = ensure_track(p, tracks, ctx, sink, cancel)
        clock["track"] += time.monotonic() - t
        t = time.monotonic()
        r, n = ensure_chunks(p, track, chunks, sink, cancel, ctx)
        clock["render"] += time.monotonic() - t
        reused, rendered = reused + r, rendered + n
        missing += int((~track.present).sum())
        lo, hi = p.job.start - track.start, p.job.stop - track.start
        edits.append(_Edit(p, track.landmarks[lo:hi], track.present[lo:hi],
                           RangeCache(chunks, p.job)))

    t = time.monotonic()
    starts = [e.p.job.start for e in edits]

    def replace(index: int, rgb: np.ndarray) -> np.ndarray:
        # Frames between two edits come here too (one write range spans them all); returned
        # unchanged, the writer keeps their decoded pixels exactly.
        k = bisect.bisect_right(starts, index) - 1
        if k < 0 or index >= edits[k].p.job.stop:
            return rgb
        return edits[k].replace(index, rgb)

    record = export_metadata(prepared, output, audio_mode)
    first, last = span or (0, info.frame_count)
    if span is not None:
        record["span"] = {"frames": [first, last], "note": "the output starts at this frame "
                          "of the source; edit frame numbers are the source's"}
    meter = StageMeter("write", last - first, progress)
    lo = max(ordered[0].start, first)
    hi = min(max(j.stop for j in ordered), last)
    # Only edits that change the picture make their GOPs re-encoded; a dialogue-only edit's
    # frames pass through as the source's packets.
    picture = [(e.p.job.start, e.p.job.stop) for e in edits if e.chunks is not None]
    sound = export_audio(prepared, info, audio_mode)
    # where the spliced sound differs from the source's (splice_audio leaves the rest exact),
    # so a smart render copies the source's AAC packets elsewhere
    changes = [(p.t_start - p.job.edit.crossfade_s / 2, p.t_stop + p.job.edit.crossfade_s / 2)
               for p in prepared if p.dialogue is not None] if isinstance(sound, AudioClip) \
        else None
    report = write_clip(info, output, replace_range=(lo, hi), replace_frame=replace,
                        audio=sound, audio_changes=changes,
                        settings=encode or EncodeSettings(),
                        metadata={"comment": record["summary"],
                                  "swaptalk_edits": json.dumps(record)},
                        progress=meter.callback(), cancel=cancel, span=span,
                        smart=not full_encode, edit_ranges=picture)
    if report.reason:
        # Not a warning: the output is complete and as good; the result and sidecar say why.
        log.info("smart render was not possible, the whole clip was encoded: %s",
                 report.reason)
    sidecar = sidecar_path(output)
    record["write"] = report.as_dict()  # the sidecar only: the MP4's tags were written first
    write_text_atomic(sidecar, json.dumps(record, indent=2))
    clock["write"] = time.monotonic() - t
    edited = sum(min(j.stop, last) - max(j.start, first) for j in ordered) - missing
    return RenderResult(output, sidecar, last - first, edited, missing, reused, rendered,
                        record["provider"], round(time.monotonic() - t_begin, 2),
                        {k: round(v, 3) for k, v in clock.items()}, report.as_dict())


def export_audio(prepared: list[PreparedJob], info: VideoInfo,
                 audio_mode: str) -> AudioClip | Literal["copy"] | None:
    """The output's sound: the source's packets untouched unless some dialogue goes in."""
    if audio_mode == "mute":
        return None
    lines = [p for p in prepared if p.dialogue is not None]
    if audio_mode == "keep" or not lines:
        return "copy"
    track = load_audio(info.path) if info.audio is not None else None
    total = info.audio_time(0) + float(info.duration_s)
    if track is not None:
        total = max(total, track.duration_s)
    for p in lines:
        # Each splice leaves samples away from its range bit-exact, so they compose.
        track = splice_audio(track, p.dialogue, t0=p.t_start, t1=p.t_stop,
                             offset=p.job.audio_offset, total_duration=total,
                             crossfade=p.job.edit.crossfade_s)
    return track


def _labelled(progress: ProgressCallback | None, k: int, n: int) -> ProgressCallback | None:
    if progress is None or n == 1:
        return progress
    return lambda ev: progress(dataclasses.replace(ev, message=f"edit {k + 1} of {n}"))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return a == b
