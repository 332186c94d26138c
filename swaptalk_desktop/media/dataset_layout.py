"""The prepared dataset on disk: folder layout, per-clip records and the ``dataset.json`` index
(written by training/data, read by training and eval; torch-free).

```
DATA/dataset.json          index: settings, identities, every usable clip with its split
DATA/clips/<id>.json       one record per source file, written last (its presence = complete)
DATA/crops/<id>.mp4        aligned crops, H.264 yuv444p (stills and --images photos: <id>.png)
DATA/mel/<id>.npy          float16 [80, T] log-mel of the clip's audio (absent without audio)
DATA/landmarks/<id>.npz    landmarks float16 [n, 478, 2] in crop pixels, times float64 [n]
                           (seconds on the audio track, for mel_windows), source_index int32 [n],
                           matrices float32 [n, 2, 3] (frame -> crop), present bool [frames]
```

Frame ``k`` of a clip means the ``k``-th stored crop; frames without a face are not stored, so
``source_index`` maps back to the source and consecutive crops are consecutive source frames
only where ``source_index`` steps by one.

Records and the index only ever gain fields, each with a default, so a dataset prepared by an
earlier version reads as before (``origin`` is then derived from ``kind``; a resolution of 0
means "not measured", which never counts as low resolution).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path, write_text_atomic
from ..core.errors import InputError

FORMAT = "swaptalk-dataset"
VERSION = 1

LOW_RES_EYE_PX = 60.0
"""Default threshold: a face whose eye centres lie fewer source pixels apart is low resolution
(the 256 crop template puts them 68 px apart, so such a face is upscaled into its crop)."""

USE_ALL = "all"
USE_IDENTITY = "identity"
"""``ClipRecord.use``: "all" = every stage; "identity" = identity encoder, identity losses and
swap pairs, but not a VQGAN reconstruction target (low-resolution photos: the VQGAN would learn
to reproduce upscaling blur)."""


def legacy_origin(kind: str) -> str:
    """Source name of a clip from ``--videos`` / ``--stills`` (the only kinds before images)."""
    return "videos" if kind == "video" else "stills"


@dataclass
class ClipRecord:
    """What prepare made of one source file (a video or a still)."""

    id: str
    kind: str                 # "video" | "still"
    identity: str
    source: str               # absolute path of the source file
    source_size: int
    source_mtime_ns: int
    crop_size: int
    max_seconds: float | None = None
    exclude: list[list[int]] = field(default_factory=list)  # source frame ranges left out
    status: str = "ok"        # "ok" | "skipped"
    reason: str = ""
    fps: float = 0.0
    source_frames: int = 0    # frames of the source considered (after --max-seconds)
    frames: int = 0           # crops stored
    present_fraction: float = 0.0
    has_audio: bool = False
    audio_silent: bool = False
    duration_s: float = 0.0
    crop: str = ""
    mel: str | None = None
    landmarks: str = ""
    # where it came from: "videos", "stills", or the name of an --images folder (identities
    # from an --images folder are "<origin>:<person>")
    origin: str = ""
    # resolution of the face in the source, in source pixels (median over a clip's frames;
    # 0 = not measured): distance of the eye centres, width of the landmarks' box measured
    # along the eye line, and the source's width x height
    eye_px: float = 0.0
    face_px: float = 0.0
    image_size: list[int] = field(default_factory=list)
    # set when the index is built
    split: str = ""           # "train" | "val" (held-out identity)
    train_range: list[int] = field(default_factory=list)
    val_range: list[int] = field(default_factory=list)
    low_res: bool = False     # 0 < eye_px < the dataset's low_res_eye_px
    use: str = USE_ALL        # USE_ALL | USE_IDENTITY (low-resolution photos)

    def __post_init__(self) -> None:
        if not self.origin:
            self.origin = legacy_origin(self.kind)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ClipRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class DatasetLayout:
    """Paths of one prepared dataset folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def index(self) -> Path:
        return self.root / "dataset.json"

    def record(self, clip_id: str) -> Path:
        return self.root / "clips" / f"{clip_id}.json"

    def crops(self, clip_id: str, still: bool = False) -> Path:
        return self.root / "crops" / f"{clip_id}.{'png' if still else 'mp4'}"

    def mel(self, clip_id: str) -> Path:
        return self.root / "mel" / f"{clip_id}.npy"

    def landmarks(self, clip_id: str) -> Path:
        return self.root / "landmarks" / f"{clip_id}.npz"

    def make_dirs(self) -> None:
        for sub in ("clips", "crops", "mel", "landmarks"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def read_records(self) -> list[ClipRecord]:
        folder = self.root / "clips"
        if not folder.is_dir():
            return []
        out = []
        for path in sorted(folder.glob("*.json")):
            try:
                out.append(ClipRecord.from_json(json.loads(path.read_text("utf-8"))))
            except (OSError, ValueError, TypeError):
                continue  # a damaged record is treated as not prepared: the clip is redone
        return out

    def write_record(self, rec: ClipRecord) -> None:
        write_text_atomic(self.record(rec.id), json.dumps(rec.to_json(), indent=1) + "\n")


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def classify_resolution(rec: ClipRecord, low_res_eye_px: float) -> ClipRecord:
    """Set ``low_res`` and ``use`` from the measured eye distance.

    Only photos lose the VQGAN: a low-resolution video clip stays a reconstruction target,
    because the lip-sync stages train on its VQGAN latents and the renderer upscales such
    clips the same way when editing them.
    """
    rec.low_res = bool(0 < rec.eye_px < low_res_eye_px)
    rec.use = USE_IDENTITY if rec.low_res and rec.kind == "still" else USE_ALL
    return rec


def measure_face(crop_landmarks: np.ndarray, matrices: np.ndarray) -> tuple[float, float]:
    """(eye_px, face_px) in source pixels from crop-space landmarks ``[n, 478, 2]`` and the
    frame -> crop similarity matrices ``[n, 2, 3]``: medians over the ``n`` frames.

    The crop is upright, so the landmarks' box width in the crop, divided by the crop's scale,
    is the face's width along its eye line whatever its roll in the source.
    """
    lm = np.asarray(crop_landmarks, np.float64)
    m = np.asarray(matrices, np.float64)
    if lm.ndim != 3 or len(lm) == 0:
        return 0.0, 0.0
    scale = np.sqrt(np.abs(np.linalg.det(m[:, :, :2])))
    eye_a = lm[:, [33, 133]].mean(axis=1)
    eye_b = lm[:, [362, 263]].mean(axis=1)
    eye = np.linalg.norm(eye_b - eye_a, axis=1) / scale
    width = (lm[..., 0].max(axis=1) - lm[..., 0].min(axis=1)) / scale
    ok = np.isfinite(eye) & np.isfinite(width) & (scale > 0)
    if not ok.any():
        return 0.0, 0.0
    return round(float(np.median(eye[ok])), 2), round(float(np.median(width[ok])), 2)


@dataclass
class DatasetIndex:
    """``dataset.json``: the dataset's settings and its usable clips with their splits."""

    root: Path
    crop_size: int
    val_fraction: float
    holdout_identities: list[str]
    clips: list[ClipRecord]
    skipped: list[dict]
    low_res_eye_px: float = LOW_RES_EYE_PX

    @property
    def identities(self) -> list[str]:
        return sorted({c.identity for c in self.clips})

    def select(self, split: str, kind: str | None = None) -> list[ClipRecord]:
        """Clips with frames in ``split``: "train" (training ranges), "val" (held-out seconds
        and held-out identities), "val_seen" (held-out seconds only), "val_unseen"."""
        out = []
        for c in self.clips:
            if kind is not None and c.kind != kind:
                continue
            if split == "train" and c.split == "train" and _length(c.train_range) > 0:
                out.append(c)
            elif split in ("val", "val_seen", "val_unseen") and _length(c.val_range) > 0:
                unseen = c.split == "val"
                if split == "val" or (split == "val_unseen") == unseen:
                    out.append(c)
        return out

    def split_summary(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per split ("train", "val_seen", "val_unseen"), per source: how many identities,
        items (clips or photos with frames in the split), frames, and of those items how many
        are low resolution."""
        out: dict[str, dict[str, dict]] = {}
        for split in ("train", "val_seen", "val_unseen"):
            per: dict[str, dict] = {}
            people: dict[str, set[str]] = {}
            for c in self.select(split):
                r = c.train_range if split == "train" else c.val_range
                entry = per.setdefault(c.origin, {"identities": 0, "items": 0, "frames": 0,
                                                  "low_res_items": 0})
                entry["items"] += 1
                entry["frames"] += _length(r)
                entry["low_res_items"] += int(c.low_res)
                people.setdefault(c.origin, set()).add(c.identity)
            for origin, names in people.items():
                per[origin]["identities"] = len(names)
            out[split] = dict(sorted(per.items()))
        return out

    def to_json(self) -> dict:
        ids: dict[str, dict] = {}
        for c in self.clips:
            entry = ids.setdefault(c.identity, {"split": c.split, "clips": 0, "frames": 0,
                                                "source": c.origin})
            entry["clips"] += 1
            entry["frames"] += c.frames
        return {"format": FORMAT, "version": VERSION, "crop_size": self.crop_size,
                "val_fraction": self.val_fraction, "holdout_identities": self.holdout_identities,
                "low_res_eye_px": self.low_res_eye_px,
                "mel": {"sample_rate": 16000, "hop": 200, "frames_per_s": 80, "n_mels": 80},
                "splits": self.split_summary(),
                "identities": ids, "clips": [c.to_json() for c in self.clips],
                "skipped": self.skipped}

    def write(self) -> None:
        write_text_atomic(self.root / "dataset.json",
                          json.dumps(self.to_json(), indent=1) + "\n")


def _length(r: list[int]) -> int:
    return r[1] - r[0] if len(r) == 2 else 0


def load_index(root: Path | str) -> DatasetIndex:
    """Read ``DATA/dataset.json``; a missing or foreign file is an actionable error."""
    root = Path(root)
    path = root / "dataset.json"
    if not path.is_file():
        raise InputError(f"{root} is not a prepared dataset (no dataset.json); run "
                         f"`swaptalk train prepare --videos DIR --out {root}` first")
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path} cannot be read ({err}); run `swaptalk train prepare` "
                         "again to rebuild it") from err
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise InputError(f"{path} is not a version-{VERSION} SwapTalk dataset; prepare it "
                         "again with this version")
    clips = [ClipRecord.from_json(c) for c in data.get("clips", [])]
    return DatasetIndex(root=root, crop_size=int(data["crop_size"]),
                        val_fraction=float(data["val_fraction"]),
                        holdout_identities=list(data.get("holdout_identities", [])),
                        clips=clips, skipped=list(data.get("skipped", [])),
                        low_res_eye_px=float(data.get("low_res_eye_px", LOW_RES_EYE_PX)))


def read_landmarks(layout: DatasetLayout, rec: ClipRecord) -> dict[str, np.ndarray]:
    with np.load(layout.root / rec.landmarks, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def read_mel(layout: DatasetLayout, rec: ClipRecord) -> np.ndarray | None:
    if not rec.mel:
        return None
    return np.load(layout.root / rec.mel, allow_pickle=False).astype(np.float32)
