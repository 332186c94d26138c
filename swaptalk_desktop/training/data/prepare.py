"""``swaptalk train prepare``: folders of talking-head videos, stills and photo collections
(``--images``) -> a dataset.

Resumable: each clip's files are written atomically and its record last; a rerun skips every
clip whose record matches the source file (size, mtime) and the options, so an interrupted
run continues where it stopped and adding videos to the folder only prepares the new ones.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ...core.cancel import NEVER, CancelToken
from ...core.errors import InputError
from ...core.progress import ProgressCallback, StageMeter
from ...faces import FaceLandmarker
from ...media.dataset_layout import (
    ClipRecord,
    DatasetIndex,
    DatasetLayout,
    load_index,
    measure_face,
    read_landmarks,
)
from .clip_prep import (
    PrepareOptions,
    frames_to_use,
    is_current,
    prepare_still,
    prepare_video,
)
from .sources import (
    ImageFolder,
    Source,
    compile_identity_regex,
    discover,
    image_folder,
    read_identity_map,
)
from .split import build_index, choose_holdout, holdout_groups

log = logging.getLogger(__name__)

PHOTOS_PER_TASK = 16
"""Photos handed to a worker at a time (one video is one task): few enough round trips that
thousands of small photos keep every worker busy."""
INDEX_EVERY_S = 10.0
"""While photos are prepared, ``dataset.json`` is rewritten at most this often (rebuilding it
reads every record; after every clip, as for videos, would be quadratic in the photos)."""


@dataclass
class PrepareReport:
    index: DatasetIndex
    prepared: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0           # source frames processed in this run
    seconds: float = 0.0

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _check_crop_size(layout: DatasetLayout, crop_size: int) -> None:
    if layout.index.is_file():
        existing = load_index(layout.root).crop_size
        if existing != crop_size:
            raise InputError(f"{layout.root} was prepared with --crop-size {existing}; use "
                             f"that size or another --out folder")


def _short(clip_id: str, width: int = 28) -> str:
    return clip_id if len(clip_id) <= width else clip_id[: width - 3] + "..."


def _source_frames(src: Source, opts: PrepareOptions) -> int:
    if src.kind == "still":
        return 1
    from ...media import probe_video
    try:
        return frames_to_use(probe_video(src.path), opts.max_seconds)
    except InputError:
        return 0


_WORKER_LANDMARKER: FaceLandmarker | None = None


def _worker_init() -> None:
    global _WORKER_LANDMARKER
    from ...faces import default_landmarker
    _WORKER_LANDMARKER = default_landmarker()


def _worker_run(src: Source, root: str, opts: PrepareOptions) -> ClipRecord:
    assert _WORKER_LANDMARKER is not None
    layout = DatasetLayout(root)
    if src.kind == "still":
        return prepare_still(src, layout, opts, _WORKER_LANDMARKER)
    return prepare_video(src, layout, opts, _WORKER_LANDMARKER)


def _worker_run_many(srcs: list[Source], root: str, opts: PrepareOptions) -> list[ClipRecord]:
    return [_worker_run(src, root, opts) for src in srcs]


def _check_options(options: PrepareOptions) -> None:
    if not 0 <= options.val_fraction < 1:
        raise InputError("--val-fraction must be at least 0 and below 1")
    if options.crop_size % 16 or options.crop_size < 32:
        raise InputError("--crop-size must be a multiple of 16 and at least 32 (the models "
                         "compress 16x)")
    for name, value in (("--max-images-per-identity", options.max_images_per_identity),
                        ("--max-images", options.max_images)):
        if value is not None and value < 1:
            raise InputError(f"{name} must be at least 1 (leave it out to keep every photo)")
    if options.low_res_eye_px < 0:
        raise InputError("--low-res-eye-px must be 0 (nothing is low resolution) or more")


def _backfill_resolution(layout: DatasetLayout, records: dict[str, ClipRecord]) -> int:
    """Measure the face size of records prepared before it was recorded, from their stored
    landmarks and matrices (no decoding, no detection); returns how many were updated."""
    count = 0
    for rec in records.values():
        if rec.status != "ok" or rec.eye_px > 0 or not rec.landmarks:
            continue
        try:
            lm = read_landmarks(layout, rec)
            rec.eye_px, rec.face_px = measure_face(lm["landmarks"], lm["matrices"])
        except (OSError, KeyError, ValueError):
            continue
        if rec.eye_px > 0:
            layout.write_record(rec)
            count += 1
    return count


def prepare_dataset(videos: list[Path], out: Path, *, stills: list[Path] | None = None,
                    images: list[Path | str | ImageFolder] | None = None,
                    identity_map: Path | None = None, identity_regex: str | None = None,
                    options: PrepareOptions | None = None,
                    progress: ProgressCallback | None = None, cancel: CancelToken = NEVER,
                    landmarker: FaceLandmarker | None = None,
                    message: Callable[[str], None] | None = None) -> PrepareReport:
    """Prepare every video under ``videos``, image under ``stills`` and photo under ``images``
    (``DIR`` or ``NAME=DIR``; see ``sources``) into ``out``."""
    options = options or PrepareOptions()
    _check_options(options)
    say = message or (lambda text: log.info("%s", text))
    folders = [image_folder(f) for f in images or []]
    sources = discover(list(videos), list(stills or []), read_identity_map(identity_map),
                       compile_identity_regex(identity_regex), folders,
                       options.max_images_per_identity, options.max_images)
    layout = DatasetLayout(out)
    _check_crop_size(layout, options.crop_size)
    existing = {r.id: r for r in layout.read_records()}
    # photos of this run's --images folders that its caps no longer choose stay on disk but
    # leave the index
    chosen = {s.clip_id for s in sources}
    names = {f.name for f in folders}
    exclude = {i for i, r in existing.items() if r.origin in names and i not in chosen}
    if exclude:
        say(f"{len(exclude)} photos prepared earlier are outside this run's --max-images "
            f"choice; they are left out of the index (their files are kept)")
    kept = [r for i, r in existing.items() if r.status == "ok" and i not in exclude]
    identities = sorted({s.identity for s in sources} | {r.identity for r in kept})
    groups = holdout_groups([(s.identity, s.kind, s.origin) for s in sources] +
                            [(r.identity, r.kind, r.origin) for r in kept])
    choose_holdout(identities, list(options.holdout_identities), options.holdout_fraction,
                   groups)
    out.mkdir(parents=True, exist_ok=True)
    layout.make_dirs()
    measured = _backfill_resolution(layout, existing)
    if measured:
        say(f"measured the face size of {measured} items prepared before it was recorded")

    report = PrepareReport(index=None)  # type: ignore[arg-type]
    todo: list[Source] = []
    for src in sources:
        rec = existing.get(src.clip_id)
        if rec is not None and rec.identity != src.identity and is_current(
                dataclasses.replace(rec, identity=src.identity), src, options):
            rec.identity = src.identity  # a changed identity map needs no new crops
            layout.write_record(rec)
        if is_current(rec, src, options):
            report.reused.append(src.clip_id)
        else:
            todo.append(src)
    if report.reused:
        say(f"{len(report.reused)} of {len(sources)} files already prepared; skipping them")
    sizes = {s.clip_id: _source_frames(s, options) for s in todo}
    overall = StageMeter("dataset", max(sum(sizes.values()), 1), progress, min_interval_s=0)
    t0 = time.monotonic()
    done_frames = 0
    last_index = time.monotonic()

    def index(partial: bool) -> DatasetIndex:
        return build_index(layout, options.crop_size, options.val_fraction,
                           list(options.holdout_identities), options.holdout_fraction,
                           partial=partial, exclude=exclude,
                           low_res_eye_px=options.low_res_eye_px)

    def finished(rec: ClipRecord) -> None:
        nonlocal done_frames, last_index
        done_frames += sizes.get(rec.id, 0)
        if rec.status == "ok":
            report.prepared.append(rec.id)
        else:
            report.skipped.append((rec.id, rec.reason))
            say(f"skipped {Path(rec.source).name}: {rec.reason}")
        overall.update(done_frames, message=f"{len(report.prepared) + len(report.skipped)}/"
                                            f"{len(todo)} files")
        if rec.kind == "video" or time.monotonic() - last_index >= INDEX_EVERY_S:
            index(partial=True)
            last_index = time.monotonic()

    if options.workers > 1 and len(todo) > 1:
        _run_parallel(todo, layout, options, cancel, finished)
    else:
        if todo and landmarker is None:
            from ...faces import default_landmarker
            landmarker = default_landmarker()
        for src in todo:
            cancel.raise_if_cancelled()
            if src.kind == "still":
                rec = prepare_still(src, layout, options, landmarker)
            else:
                meter = StageMeter(_short(src.clip_id), max(sizes[src.clip_id], 1), progress)
                rec = prepare_video(src, layout, options, landmarker, meter.callback(), cancel)
            finished(rec)
    report.frames, report.seconds = done_frames, time.monotonic() - t0
    report.index = index(partial=False)
    if not report.index.clips:
        raise InputError(f"no usable faces in any of the {len(sources)} files; see the skipped "
                         f"list in {layout.index}")
    return report


def _tasks(todo: list[Source]) -> list[list[Source]]:
    """One task per video; photos in groups of ``PHOTOS_PER_TASK``."""
    tasks: list[list[Source]] = []
    photos: list[Source] = []
    for src in todo:
        if src.kind == "video":
            tasks.append([src])
        else:
            photos.append(src)
    tasks += [photos[i:i + PHOTOS_PER_TASK] for i in range(0, len(photos), PHOTOS_PER_TASK)]
    return tasks


def _run_parallel(todo: list[Source], layout: DatasetLayout, options: PrepareOptions,
                  cancel: CancelToken, finished: Callable[[ClipRecord], None]) -> None:
    # spawn: MediaPipe and PyAV hold threads that a fork would copy in an undefined state
    ctx = get_context("spawn")
    queue = deque(_tasks(todo))
    # a few tasks in flight per worker, not thousands: waiting on a future set costs its size
    in_flight = 2 * options.workers
    with ProcessPoolExecutor(options.workers, mp_context=ctx, initializer=_worker_init) as pool:
        pending: set = set()
        try:
            while queue or pending:
                while queue and len(pending) < in_flight:
                    pending.add(pool.submit(_worker_run_many, queue.popleft(),
                                            str(layout.root), options))
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    for rec in fut.result():
                        finished(rec)
                cancel.raise_if_cancelled()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
