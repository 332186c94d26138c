"""The paper's comparison: swap + lip sync in one latent space vs two cascades through RGB.

With the same four ONNX stages of one model set, a held-out frame gets a new identity (an
identity photo) and a mouth driven by its own audio (self-driven) in three ways:

- ``unified`` (the product's path): encode -> swap -> sync -> decode, all in latent space; the
  sync reference is the swapped reference frame, exactly as ``engine.FaceProcessor`` does it;
- ``swap_then_sync``: the product's swap-only path makes RGB frames (encode -> swap ->
  decode), which a sync-only pass re-encodes (encode -> sync -> decode), its reference being
  the swapped reference frame in RGB;
- ``sync_then_swap``: the sync-only path on the original frames first (encode -> sync ->
  decode), then the swap-only path on its RGB result (encode -> swap -> decode).

The cascades work on the same aligned crop (no paste-back and re-alignment in between), so
they differ from the unified path only by the extra decode -> encode round trip: what the
paper says blurs the face and lets the two tasks interfere. Frames, reference and audio are
chosen as in ``model_eval.sync_self_driven``: the first held-out frame of a clip is the
reference, frames at least ``REFERENCE_GAP`` after it are measured, with the clip's own mel.

Per path: LMD of the mouth landmarks against the real crop's, SSIM against the real crop,
identity cosine of the result to the photo and to the original face, and identity
consistency (mean pairwise cosine of a clip's result frames x100, averaged over clips).
Identity embeddings come from any object with ``embed(rgb, detection) -> ndarray`` (dlib's
``IdentityEmbedder`` or ``identity_net.MobileFaceNetEmbedder``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..engine.frames import FaceProcessor
from ..faces import alignment_matrix, load_identity_photo, warp_to_crop
from ..faces.identity_net import embedder_info
from ..faces.image_io import read_image
from ..media import mel_windows
from ..media.crops_io import read_crops
from ..media.dataset_layout import (
    ClipRecord,
    DatasetLayout,
    load_index,
    read_landmarks,
    read_mel,
)
from .metrics import cosine, identity_consistency, lmd, ssim
from .model_eval import REFERENCE_GAP, _even

PATHS = ("unified", "swap_then_sync", "sync_then_swap")
ROWS = ("original", "round_trip", *PATHS)
"""The three paths after two reference rows: the input crops, and encode -> decode alone."""
LABELS = {"original": "original crops (input)",
          "round_trip": "VQGAN round trip only (encode → decode)",
          "unified": "unified: encode → swap → sync → decode",
          "swap_then_sync": "Swap→Sync cascade through RGB",
          "sync_then_swap": "Sync→Swap cascade through RGB"}

PathFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(crops uint8 [B, S, S, 3], mel windows [B, 80, T]) -> generated crops uint8 [B, S, S, 3]."""


def make_paths(runners, source_latent: np.ndarray, reference: np.ndarray,
               names: tuple[str, ...] = PATHS) -> dict[str, PathFn]:
    """The three ways (or those in ``names``), for one clip whose sync reference is the crop
    ``reference``.

    Built from the engine's own ``FaceProcessor`` (swap+sync, swap-only, sync-only), so the
    unified path is the product's and each cascade is two product passes chained through RGB.
    Reference latents are computed here, once per clip.
    """
    unknown = set(names) - set(PATHS)
    if unknown:
        raise ValueError(f"unknown path(s) {sorted(unknown)}; choose from {PATHS}")
    paths: dict[str, PathFn] = {}
    swap_only = FaceProcessor(runners, source_latent=source_latent, swap=True, sync=False)
    if "unified" in names:
        both = FaceProcessor(runners, source_latent=source_latent, swap=True, sync=True)
        both.set_reference(reference)
        paths["unified"] = both.process
    if "swap_then_sync" in names:
        after_swap = FaceProcessor(runners, source_latent=None, swap=False, sync=True)
        # a lip-sync model that only sees RGB takes its reference from the swapped video
        after_swap.set_reference(swap_only.process(reference[None], None)[0])
        paths["swap_then_sync"] = lambda crops, mel: after_swap.process(
            swap_only.process(crops, None), mel)
    if "sync_then_swap" in names:
        sync_only = FaceProcessor(runners, source_latent=None, swap=False, sync=True)
        sync_only.set_reference(reference)
        paths["sync_then_swap"] = lambda crops, mel: swap_only.process(
            sync_only.process(crops, mel), None)
    return paths


@dataclass
class PathScores:
    """Per-frame values of one row (NaN where the result or the real crop shows no face)."""

    ssim: list[float] = field(default_factory=list)
    lmd: list[float] = field(default_factory=list)
    cos_photo: list[float] = field(default_factory=list)
    cos_original: list[float] = field(default_factory=list)
    consistency: list[float] = field(default_factory=list)  # one per clip

    def extend(self, other: PathScores) -> None:
        for name in ("ssim", "lmd", "cos_photo", "cos_original", "consistency"):
            getattr(self, name).extend(getattr(other, name))

    @property
    def has_face(self) -> np.ndarray:
        return np.isfinite(np.asarray(self.lmd, np.float64))

    def summary(self, common: np.ndarray | None = None) -> dict:
        def mean(v, mask=None, digits: int = 4) -> float | None:
            v = np.asarray(v, np.float64)
            v = v[mask] if mask is not None else v
            v = v[np.isfinite(v)]
            return round(float(v.mean()), digits) if len(v) else None
        out = {"frames": len(self.ssim), "frames_with_face": int(self.has_face.sum()),
               "lmd": mean(self.lmd), "ssim": mean(self.ssim),
               "cos_to_photo": mean(self.cos_photo),
               "cos_to_original": mean(self.cos_original),
               "consistency": mean(self.consistency, digits=2)}
        if common is not None:
            out["common"] = {"frames": int(common.sum()), "lmd": mean(self.lmd, common),
                             "ssim": mean(self.ssim, common),
                             "cos_to_photo": mean(self.cos_photo, common),
                             "cos_to_original": mean(self.cos_original, common)}
        return out


def common_frames(scores: dict[str, PathScores]) -> np.ndarray:
    """Frames where the real crop and every generated row show a face: the paired subset on
    which the rows' LMD and identity cosines are compared."""
    rows = [sc.has_face for name, sc in scores.items() if name != "original"]
    return np.logical_and.reduce(rows) if rows else np.zeros(0, bool)


@dataclass
class Photo:
    """The identity given to every measured clip: its aligned crop, embedding and origin."""

    crop: np.ndarray
    embedding: np.ndarray
    label: str
    identity: str | None = None


def _largest(landmarker, rgb: np.ndarray):
    found = landmarker.detect(rgb)
    return max(found, key=lambda d: d.area) if found else None


def photo_from_file(path: Path, landmarker, embedder, crop_size: int) -> Photo:
    """An identity photo aligned the way the engine aligns one (``engine.prepare``)."""
    rgb, det = load_identity_photo(path, landmarker)
    crop = warp_to_crop(rgb, alignment_matrix(det.landmarks, crop_size), crop_size)
    return Photo(crop=crop, embedding=embedder.embed(rgb, det), label=str(path))


def photo_from_dataset(data: Path, landmarker, embedder, split: str = "val_unseen") -> Photo:
    """A held-out identity's photo from the dataset: a still when there is one, else the first
    crop of the longest clip (that identity's clips are then left out of the measure)."""
    index, layout = load_index(data), DatasetLayout(data)
    held = index.select(split)
    stills = [r for r in held if r.kind == "still"]
    pick: ClipRecord | None = stills[0] if stills else max(
        (r for r in held if r.kind == "video"), key=lambda r: r.frames, default=None)
    if pick is None:
        raise InputError(f"{data} has no held-out clip or still ({split}); give an identity "
                         "photo with --cascade-photo")
    path, first = layout.root / pick.crop, pick.val_range[0]
    crop = read_image(path) if pick.kind == "still" else read_crops(path, first, first + 1)[0]
    det = _largest(landmarker, crop)
    if det is None:
        raise InputError(f"no face found in the crop of {pick.id}; give an identity photo with "
                         "--cascade-photo")
    return Photo(crop=np.ascontiguousarray(crop), embedding=embedder.embed(crop, det),
                 label=f"{pick.id} ({pick.kind} of held-out identity {pick.identity})",
                 identity=pick.identity)


def _score_clip(paths: dict[str, PathFn], crops: np.ndarray, mel: np.ndarray, landmarker,
                embedder, photo: Photo, batch: int) -> dict[str, PathScores]:
    names = ("original", *paths)
    scores = {n: PathScores() for n in names}
    embeddings: dict[str, list[np.ndarray]] = {n: [] for n in names}
    nan = float("nan")
    for s in range(0, len(crops), batch):
        real, windows = crops[s:s + batch], mel[s:s + batch]
        outputs = {"original": real} | {n: run(real, windows) for n, run in paths.items()}
        for i in range(len(real)):
            truth = _largest(landmarker, real[i])
            origin = embedder.embed(real[i], truth) if truth is not None else None
            for name, out in outputs.items():
                sc = scores[name]
                sc.ssim.append(ssim(real[i], out[i]))
                det = truth if name == "original" else _largest(landmarker, out[i])
                if det is None or truth is None:
                    for v in (sc.lmd, sc.cos_photo, sc.cos_original):
                        v.append(nan)
                    continue
                sc.lmd.append(lmd(det.landmarks[None], truth.landmarks[None]))
                e = origin if name == "original" else embedder.embed(out[i], det)
                embeddings[name].append(e)
                sc.cos_photo.append(cosine(e, photo.embedding))
                sc.cos_original.append(cosine(e, origin))
    for name in names:
        if len(embeddings[name]) >= 2:
            scores[name].consistency.append(identity_consistency(np.stack(embeddings[name])))
    return scores


def cascade_compare(runners, landmarker, embedder, data: Path, *, photo: Photo | None = None,
                    split: str = "val_unseen", clip_ids: list[str] | None = None,
                    per_clip: int = 40, batch: int = 8,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Unified vs the two RGB cascades on the held-out clips of a prepared dataset."""
    index, layout = load_index(data), DatasetLayout(data)
    if photo is None:
        photo = photo_from_dataset(data, landmarker, embedder, split)
    if photo.crop.shape != (runners.crop_size, runners.crop_size, 3):
        raise InputError(f"the identity photo's crop is {photo.crop.shape[0]} px, the model set "
                         f"takes {runners.crop_size} px")
    source_latent = runners.encode(photo.crop[None])
    totals = {n: PathScores() for n in ROWS}
    clips, skipped = [], []
    for rec in index.select(split, kind="video"):
        if clip_ids is not None and rec.id not in clip_ids:
            continue
        why = None
        mel = read_mel(layout, rec)
        a, b = rec.val_range
        if photo.identity is not None and rec.identity == photo.identity:
            why = "the photo's own identity"
        elif mel is None or rec.audio_silent:
            why = "no sound"
        elif b - a <= REFERENCE_GAP + 1:
            why = f"{b - a} held-out frames (needs more than {REFERENCE_GAP + 1})"
        if why:
            skipped.append({"clip": rec.id, "reason": why})
            continue
        if progress:
            progress(rec.id)
        crops = read_crops(layout.root / rec.crop, a, b)
        times = read_landmarks(layout, rec)["times"][a:b]
        ks = REFERENCE_GAP + _even(len(crops) - REFERENCE_GAP, per_clip)
        paths = {"round_trip": lambda x, _: runners.decode(runners.encode(x))} | make_paths(
            runners, source_latent, crops[0])
        windows = mel_windows(mel, times[ks], window=runners.mel_window)
        scores = _score_clip(paths, crops[ks], windows, landmarker, embedder, photo, batch)
        for name, sc in scores.items():
            totals[name].extend(sc)
        common = common_frames(scores)
        clips.append({"clip": rec.id, "identity": rec.identity,
                      **{name: sc.summary(common) for name, sc in scores.items()}})
    if clip_ids is not None:
        missing = sorted(set(clip_ids) - {r.id for r in index.select(split, kind="video")})
        if missing:
            raise InputError(f"no held-out ({split}) video clip named {', '.join(missing)} in "
                             f"{data}")
    return {"split": split, "embedder": embedder_info(embedder), "photo": photo.label,
            "photo_identity": photo.identity, "reference_gap": REFERENCE_GAP, "per_clip": per_clip,
            "paths": {name: sc.summary(common_frames(totals)) for name, sc in totals.items()},
            "clips": clips, "skipped": skipped}


def run_cascade(runners, landmarker, data: Path, *, photo: Path | None = None,
                clip_ids: list[str] | None = None, per_clip: int = 40, embedder=None,
                say: Callable[[str], None] | None = None) -> dict:
    """``swaptalk eval --cascade``: the embedder defaults to MobileFaceNet when its weights are
    found (``identity_net.best_embedder``), else dlib's."""
    if embedder is None:
        from ..faces.identity_net import best_embedder
        embedder = best_embedder()
    chosen = (photo_from_file(photo, landmarker, embedder, runners.crop_size)
              if photo is not None else None)
    progress = (lambda clip: say(f"cascade comparison: {clip}...")) if say else None
    return cascade_compare(runners, landmarker, embedder, data, photo=chosen,
                           clip_ids=clip_ids, per_clip=per_clip, progress=progress)


def _cell(v, fmt: str) -> str:
    return "–" if v is None else format(v, fmt)


def markdown_table(result: dict, title: str | None = None) -> str:
    """The comparison as a Markdown table: the two reference rows, then the three paths."""
    paths = result["paths"]
    n_common = paths["unified"]["common"]["frames"]
    lines = [f"### {title}" if title else "### Unified latent path vs RGB cascades", "",
             f"{len(result['clips'])} held-out clip(s) ({result['split']}), identity photo: "
             f"{result['photo']}; self-driven audio (each clip's own).", "",
             "| path | frames | face found | LMD ↓ | SSIM ↑ | ID cos to photo ↑ "
             "| ID cos to original face | consistency ↑ |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in ROWS:
        s, c = paths[name], paths[name]["common"]
        original = name == "original"
        lines.append(
            f"| {LABELS[name]} | {s['frames']} | {s['frames_with_face']} | "
            f"{'–' if original else _cell(c['lmd'], '.3f')} | "
            f"{'–' if original else _cell(s['ssim'], '.3f')} | "
            f"{_cell(c['cos_to_photo'], '.3f')} | {_cell(c['cos_to_original'], '.3f')} | "
            f"{_cell(s['consistency'], '.2f')} |")
    embedder = result.get("embedder", {}).get("embedder", "?")
    lines += ["", f"LMD and identity cosines on the {n_common} frames where the real crop and "
              "every generated row show a face (MediaPipe); SSIM on all frames; consistency = "
              "mean pairwise cosine of a clip's frames x100, averaged over clips. Identity "
              f"embeddings: {embedder}."]
    return "\n".join(lines) + "\n"
