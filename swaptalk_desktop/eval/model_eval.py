"""Held-out measurements of an installed model set, through the product's own ONNX path.

- reconstruction: encode -> decode of held-out crops (PSNR, SSIM on 256² aligned crops);
- lip sync, self-driven: each held-out frame's mouth is generated from its own upper half, a
  reference frame of the same clip at least a second away, and the clip's own audio; LMD and
  SSIM against the real crop, next to a no-audio baseline that copies the reference's mouth;
- face swap: a range rendered by the engine with an identity photo; identity cosine of the
  result to the photo and to the original face, and frame-to-frame consistency, measured by the
  MobileFaceNet when its weights are found (dlib otherwise; the result names which).

Reads a dataset made by ``swaptalk train prepare`` (its layout module has no torch).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..media import mel_windows
from ..media.crops_io import read_crops
from ..media.dataset_layout import DatasetLayout, load_index, read_landmarks, read_mel
from .metrics import cosine, identity_consistency, lmd, psnr, ssim

REFERENCE_GAP = 25
"""Frames between the reference and an evaluated frame (a second at 25 fps): the reference
must not show the mouth that is being predicted."""


@dataclass
class SyncScores:
    frames: int = 0
    detected: int = 0
    lmd: list[float] = field(default_factory=list)
    lmd_baseline: list[float] = field(default_factory=list)
    lmd_reconstruction: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    ssim_baseline: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        mean = lambda v: round(float(np.mean(v)), 4) if v else None  # noqa: E731
        return {"frames": self.frames, "frames_with_landmarks": self.detected,
                "lmd": mean(self.lmd), "lmd_no_audio_baseline": mean(self.lmd_baseline),
                "lmd_vqgan_reconstruction": mean(self.lmd_reconstruction),
                "ssim": mean(self.ssim), "ssim_no_audio_baseline": mean(self.ssim_baseline)}


def _even(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def reconstruction(runners, data: Path, split: str = "val_unseen",
                   per_clip: int = 40) -> dict:
    """PSNR/SSIM of encode -> decode on the split's crops (held-out identities by default)."""
    index, layout = load_index(data), DatasetLayout(data)
    scores, clips = [], []
    for rec in index.select(split):
        a, b = rec.val_range
        crops = read_crops(layout.root / rec.crop, a, b)
        pick = crops[_even(len(crops), per_clip)]
        out = np.concatenate([runners.decode(runners.encode(pick[i:i + 8]))
                              for i in range(0, len(pick), 8)])
        vals = [(psnr(x, y), ssim(x, y)) for x, y in zip(pick, out, strict=True)]
        scores += vals
        clips.append({"clip": rec.id, "identity": rec.identity, "frames": len(vals),
                      "psnr": round(float(np.mean([v[0] for v in vals])), 2),
                      "ssim": round(float(np.mean([v[1] for v in vals])), 4)})
    return {"split": split, "frames": len(scores),
            "psnr": round(float(np.mean([v[0] for v in scores])), 2) if scores else None,
            "ssim": round(float(np.mean([v[1] for v in scores])), 4) if scores else None,
            "clips": clips}


def _landmarks(landmarker, crop: np.ndarray) -> np.ndarray | None:
    found = landmarker.detect(crop)
    return max(found, key=lambda d: d.area).landmarks if found else None


def sync_self_driven(runners, landmarker, data: Path, *, split: str = "val",
                     clip_ids: list[str] | None = None, frame_range: tuple[int, int] | None = None,
                     per_clip: int = 40) -> dict:
    """LMD/SSIM of audio-driven mouths on held-out frames vs the copy-the-reference baseline."""
    index, layout = load_index(data), DatasetLayout(data)
    total, per = SyncScores(), []
    half = runners.latent_shape[1] // 2
    for rec in index.select(split, kind="video"):
        if clip_ids is not None and rec.id not in clip_ids:
            continue
        mel = read_mel(layout, rec)
        if mel is None or rec.audio_silent:
            continue
        a, b = frame_range or tuple(rec.val_range)
        if b - a <= REFERENCE_GAP + 1:
            continue
        crops = read_crops(layout.root / rec.crop, a, b)
        times = read_landmarks(layout, rec)["times"][a:b]
        ref = crops[:1]
        ref_latent = runners.encode(ref)
        ks = REFERENCE_GAP + _even(len(crops) - REFERENCE_GAP, per_clip)
        scores = SyncScores()
        for s in range(0, len(ks), 8):
            k = ks[s:s + 8]
            real = crops[k]
            latent = runners.encode(real)
            upper = np.ascontiguousarray(latent[:, :, :half])
            lower = runners.sync(upper, np.repeat(ref_latent, len(k), 0),
                                 mel_windows(mel, times[k], window=runners.mel_window))
            generated = runners.decode(np.concatenate([upper, lower], axis=2))
            copied = np.concatenate([upper, np.repeat(ref_latent[:, :, half:], len(k), 0)], 2)
            baseline = runners.decode(copied)
            recon = runners.decode(latent)
            for i in range(len(k)):
                scores.frames += 1
                marks = [_landmarks(landmarker, x) for x in
                         (real[i], generated[i], baseline[i], recon[i])]
                scores.ssim.append(ssim(real[i], generated[i]))
                scores.ssim_baseline.append(ssim(real[i], baseline[i]))
                if any(m is None for m in marks):
                    continue
                scores.detected += 1
                truth = marks[0][None]
                scores.lmd.append(lmd(marks[1][None], truth))
                scores.lmd_baseline.append(lmd(marks[2][None], truth))
                scores.lmd_reconstruction.append(lmd(marks[3][None], truth))
        for name in ("lmd", "lmd_baseline", "lmd_reconstruction", "ssim", "ssim_baseline"):
            getattr(total, name).extend(getattr(scores, name))
        total.frames += scores.frames
        total.detected += scores.detected
        per.append({"clip": rec.id, "identity": rec.identity, "split": rec.split,
                    **scores.summary()})
    return {**total.summary(), "clips": per}


def face_swap(ctx, model_set: str, clip: Path, photo: Path, start: int, stop: int,
              every: int = 3, embedder=None) -> dict:
    """Render ``clip[start:stop]`` with ``photo``'s identity; identity cosines of the result
    (``embedder`` defaults to ``identity_net.best_embedder()``)."""
    from ..engine import RangeJob, RunOptions, render_range
    from ..faces import identity_net, load_identity_photo
    from ..media import EncodeSettings, VideoReader, probe_video
    job = RangeJob(video=clip, start=start, stop=stop, face=photo,
                   run=RunOptions(model_set=model_set))
    embed = embedder if embedder is not None else identity_net.best_embedder()
    landmarker = ctx.landmarker
    measured_by = identity_net.embedder_info(embed)
    rgb, det = load_identity_photo(photo, landmarker)
    source = embed.embed(rgb, det)
    with tempfile.TemporaryDirectory(prefix="swaptalk-eval-") as tmp:
        out = Path(tmp) / "swap.mp4"
        render_range(job, out, ctx=ctx, encode=EncodeSettings(crf=16, preset="veryfast"))
        results, originals = [], []
        with VideoReader(probe_video(clip)) as before, VideoReader(probe_video(out)) as after:
            for i in range(start, stop, every):
                a, b = before.frame(i), after.frame(i)
                da, db = landmarker.detect(a), landmarker.detect(b)
                if not da or not db:
                    continue
                fa = max(da, key=lambda d: d.area)
                fb = max(db, key=lambda d: d.area)
                originals.append(embed.embed(a, fa))
                results.append(embed.embed(b, fb))
    if not results:
        return {"clip": clip.name, "photo": photo.name, "frames": 0, "embedder": measured_by}
    res = np.stack(results)
    return {"clip": clip.name, "photo": photo.name, "frames": len(results),
            "embedder": measured_by,
            "cos_to_photo": round(float(np.mean([cosine(r, source) for r in res])), 4),
            "cos_to_original_face": round(float(np.mean(
                [cosine(r, o) for r, o in zip(res, originals, strict=True)])), 4),
            "original_cos_to_photo": round(float(np.mean([cosine(o, source)
                                                           for o in originals])), 4),
            "consistency": round(identity_consistency(res), 2)}
