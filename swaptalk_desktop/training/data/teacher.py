"""dlib face descriptors of dataset crops: the targets of the identity distillation stage.

dlib takes ~20-90 ms a face on a CPU, so descriptors are computed once, for every
``stride``-th crop, and cached beside the dataset: ``DATA/teacher/<id>.npz`` holding
``index`` int32 [m] (stored-crop indices) and ``embedding`` float32 [m, 128].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...core.cancel import NEVER, CancelToken
from ...core.progress import ProgressCallback, StageMeter
from ...faces import FaceDetection
from ...faces.types import bbox_of
from ...media.dataset_layout import DatasetIndex, DatasetLayout, read_landmarks, save_npz_atomic
from .dataset import FrameStore


def teacher_path(layout: DatasetLayout, clip_id: str, stride: int):
    return layout.root / "teacher" / f"s{stride}" / f"{clip_id}.npz"


def compute_teacher(index: DatasetIndex, store: FrameStore, stride: int = 4,
                    embedder=None, progress: ProgressCallback | None = None,
                    cancel: CancelToken = NEVER,
                    message: Callable[[str], None] | None = None) -> None:
    """Fill the teacher cache for every clip that lacks it."""
    layout = DatasetLayout(index.root)
    todo = [c for c in index.clips if not teacher_path(layout, c.id, stride).is_file()]
    if not todo:
        return
    if embedder is None:
        from ...faces import IdentityEmbedder
        embedder = IdentityEmbedder()
    total = sum(len(range(0, c.frames, stride)) for c in todo)
    if message:
        message(f"computing dlib identity descriptors of {total} crops (teacher targets)")
    meter = StageMeter("teacher", max(total, 1), progress)
    done = 0
    for rec in todo:
        crops = store.frames(rec)
        landmarks = read_landmarks(layout, rec)["landmarks"].astype(np.float32)
        picks = np.arange(0, rec.frames, stride, dtype=np.int32)
        emb = np.empty((len(picks), 128), np.float32)
        for j, k in enumerate(picks):
            cancel.raise_if_cancelled()
            lm = landmarks[k]
            emb[j] = embedder.embed(crops[k], FaceDetection(bbox_of(lm), lm, 1.0))
            done += 1
            meter.update(done)
        path = teacher_path(layout, rec.id, stride)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_npz_atomic(path, index=picks, embedding=emb)


def load_teacher(index: DatasetIndex, stride: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    layout = DatasetLayout(index.root)
    out = {}
    for rec in index.clips:
        with np.load(teacher_path(layout, rec.id, stride), allow_pickle=False) as z:
            out[rec.id] = (z["index"], z["embedding"])
    return out
