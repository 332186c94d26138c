"""Preparing one source file: track the largest face, align, store crops, mel and landmarks.

Every output file is written atomically and the clip's record last, so an interrupted run
leaves either a complete clip (skipped on the next run) or nothing that counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ...core.atomic import atomic_path
from ...core.cancel import NEVER, CancelToken
from ...core.errors import InputError
from ...engine.adapt_plan import merge_ranges, usable_mask
from ...faces import (
    FaceDetection,
    FaceLandmarker,
    TargetSpec,
    alignment_matrix,
    read_image,
    track_faces,
    transform_points,
    warp_to_crop,
)
from ...media import VideoInfo, VideoReader, load_audio, log_mel, probe_video, to_mono_16k
from ...media.crops_io import DEFAULT_CRF, DEFAULT_PRESET, CropVideoWriter
from ...media.dataset_layout import (
    LOW_RES_EYE_PX,
    ClipRecord,
    DatasetLayout,
    classify_resolution,
    measure_face,
    save_npy_atomic,
    save_npz_atomic,
)
from .sources import Source

SILENT_MEL = -3.5
"""A clip whose loudest mel value stays below this (on the [-4, 4] scale, -4 = silence) has a
silent track (e.g. a muted phone video); sync stages skip it."""


@dataclass(frozen=True)
class PrepareOptions:
    crop_size: int = 256
    val_fraction: float = 0.25
    holdout_identities: tuple[str, ...] = ()
    holdout_fraction: float = 0.1
    min_face_fraction: float = 0.5
    max_seconds: float | None = None
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    workers: int = 1
    exclude: tuple[tuple[int, int], ...] = ()
    """Source frame ranges [start, stop) to leave out (adaptation: the edit ranges being
    replaced), with the frames whose sound window reaches into them."""
    low_res_eye_px: float = LOW_RES_EYE_PX
    max_images_per_identity: int | None = None   # --images only
    max_images: int | None = None                # --images only, per folder


FrameProgress = Callable[[int, int], None]


def new_record(src: Source, opts: PrepareOptions) -> ClipRecord:
    st = src.path.stat()
    return ClipRecord(id=src.clip_id, kind=src.kind, identity=src.identity,
                      source=str(src.path), source_size=st.st_size,
                      source_mtime_ns=st.st_mtime_ns, crop_size=opts.crop_size,
                      max_seconds=opts.max_seconds if src.kind == "video" else None,
                      exclude=[list(r) for r in merge_ranges(opts.exclude, 1 << 62)]
                      if src.kind == "video" else [],
                      origin=src.origin)


def is_current(rec: ClipRecord | None, src: Source, opts: PrepareOptions) -> bool:
    """Whether an existing record still describes ``src`` as these options would prepare it."""
    if rec is None:
        return False
    fresh = new_record(src, opts)
    same = (rec.source == fresh.source and rec.source_size == fresh.source_size
            and rec.source_mtime_ns == fresh.source_mtime_ns and rec.crop_size == fresh.crop_size
            and rec.max_seconds == fresh.max_seconds and rec.identity == fresh.identity
            and rec.exclude == fresh.exclude)
    # a clip skipped for too few faces is redone when the threshold is relaxed
    if same and rec.status == "skipped" and rec.present_fraction > 0:
        return rec.present_fraction < opts.min_face_fraction
    return same


def frames_to_use(info: VideoInfo, max_seconds: float | None) -> int:
    if max_seconds is None:
        return info.frame_count
    return int(np.searchsorted(info.frame_times, max_seconds, side="left")) or 1


def prepare_video(src: Source, layout: DatasetLayout, opts: PrepareOptions,
                  landmarker: FaceLandmarker, progress: FrameProgress | None = None,
                  cancel: CancelToken = NEVER) -> ClipRecord:
    rec = new_record(src, opts)
    try:
        info = probe_video(src.path)
    except InputError as err:
        return _skip(layout, rec, str(err))
    n = frames_to_use(info, opts.max_seconds)
    rec.fps = float(info.fps)
    rec.source_frames = n
    rec.image_size = [int(info.width), int(info.height)]
    with VideoReader(info) as reader:
        # every frame detected: the landmarks a dataset stores are the ground truth the
        # metrics compare with landmarks detected on single frames, so they are found the
        # same way (following faces between detections shifts them by ~1 px at eye 256)
        track = track_faces(enumerate(reader.read(0, n)), landmarker, TargetSpec("largest"),
                            progress=progress, cancel=cancel, total=n, redetect_every=1)
        present = track.present & np.isfinite(track.landmarks).all(axis=(1, 2))
        # excluded frames are tracked (the track needs its neighbours) but never stored
        allowed = usable_mask(info.frame_times, info.duration_s, opts.exclude)[:n]
        if not allowed.any():
            return _skip(layout, rec, f"all {n} frames are inside excluded ranges")
        present &= allowed
        rec.present_fraction = round(float(present.sum() / allowed.sum()), 4)
        if rec.present_fraction < opts.min_face_fraction or present.sum() == 0:
            return _skip(layout, rec, f"a face was found in only {100 * rec.present_fraction:.0f}%"
                         f" of {int(allowed.sum())} frames (need "
                         f"{100 * opts.min_face_fraction:.0f}%)")
        S = opts.crop_size
        kept = np.flatnonzero(present)
        lms = np.empty((len(kept), track.landmarks.shape[1], 2), np.float32)
        mats = np.empty((len(kept), 2, 3), np.float32)
        writer = CropVideoWriter(layout.crops(rec.id), S, rec.fps, opts.crf, opts.preset)
        try:
            k = 0
            for i, rgb in enumerate(reader.read(0, n)):
                if not present[i]:
                    continue
                cancel.raise_if_cancelled()
                m = alignment_matrix(track.landmarks[i], S)
                writer.write(warp_to_crop(rgb, m, S))
                lms[k] = transform_points(track.landmarks[i], m)
                mats[k] = m
                k += 1
            writer.close()
        except BaseException:
            writer.abort()
            raise
    rec.frames = len(kept)
    rec.eye_px, rec.face_px = measure_face(lms, mats)
    classify_resolution(rec, opts.low_res_eye_px)
    rec.crop = layout.crops(rec.id).relative_to(layout.root).as_posix()
    rec.duration_s = round(float(info.frame_times[n - 1]) + 1 / max(rec.fps, 1e-6), 4)
    times = np.array([info.audio_time(int(i)) for i in kept], np.float64)
    if info.audio is not None:
        try:
            mel = log_mel(to_mono_16k(load_audio(src.path)))
        except InputError:
            mel = None
        if mel is not None and mel.shape[1] > 0:
            save_npy_atomic(layout.mel(rec.id), mel.astype(np.float16))
            rec.mel = layout.mel(rec.id).relative_to(layout.root).as_posix()
            rec.has_audio = True
            rec.audio_silent = bool(mel.max() < SILENT_MEL)
    save_npz_atomic(layout.landmarks(rec.id), landmarks=lms.astype(np.float16), times=times,
                    source_index=kept.astype(np.int32), matrices=mats, present=present)
    rec.landmarks = layout.landmarks(rec.id).relative_to(layout.root).as_posix()
    layout.write_record(rec)
    return rec


def prepare_still(src: Source, layout: DatasetLayout, opts: PrepareOptions,
                  landmarker: FaceLandmarker) -> ClipRecord:
    rec = new_record(src, opts)
    try:
        rgb = read_image(src.path)
    except InputError as err:
        return _skip(layout, rec, str(err))
    faces = landmarker.detect(rgb)
    rec.source_frames = 1
    rec.image_size = [int(rgb.shape[1]), int(rgb.shape[0])]
    if not faces:
        faces = _detect_padded(rgb, landmarker)
    if not faces:
        return _skip(layout, rec, "no face found in the photo")
    face = max(faces, key=lambda f: f.area)
    S = opts.crop_size
    m = alignment_matrix(face.landmarks, S)
    crop = warp_to_crop(rgb, m, S)
    path = layout.crops(rec.id, still=True)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR)):
            raise InputError(f"cannot write {path}")
    lms = transform_points(face.landmarks, m)[None]
    save_npz_atomic(layout.landmarks(rec.id), landmarks=lms.astype(np.float16),
                    times=np.zeros(1), source_index=np.zeros(1, np.int32),
                    matrices=m[None].astype(np.float32), present=np.ones(1, bool))
    rec.frames, rec.present_fraction = 1, 1.0
    rec.eye_px, rec.face_px = measure_face(lms, m[None])
    classify_resolution(rec, opts.low_res_eye_px)
    rec.crop = path.relative_to(layout.root).as_posix()
    rec.landmarks = layout.landmarks(rec.id).relative_to(layout.root).as_posix()
    layout.write_record(rec)
    return rec


STILL_PAD = 0.25
"""A photo whose face fills it (UTKFace's tight crops) is missed by the face detectors; the
second try pads it by this fraction of its size on every side (edges repeated)."""


def _detect_padded(rgb: np.ndarray, landmarker: FaceLandmarker) -> list[FaceDetection]:
    pad = int(round(STILL_PAD * max(rgb.shape[:2])))
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return [FaceDetection(bbox=f.bbox - pad, landmarks=f.landmarks - pad, score=f.score)
            for f in landmarker.detect(padded)]


def _skip(layout: DatasetLayout, rec: ClipRecord, reason: str) -> ClipRecord:
    rec.status, rec.reason = "skipped", reason
    layout.write_record(rec)
    return rec
