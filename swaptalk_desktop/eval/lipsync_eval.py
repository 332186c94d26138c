"""Does the lip sync listen? Self-driven sync on held-out identities against two baselines.

For every measured frame the product's sync-only path is reproduced on the prepared crops: the
frame's own upper half, the range's most closed-mouth frame as the reference (as the engine
picks it), a mel window of (a) the clip's own audio and (b) silence; the decoded crop is pasted
over the real one through the engine's lip-sync ("mouth") mask. LMD (40 lip landmarks,
mean-centred, crop pixels) of each against the real frame, next to a *frozen face* (the reference
frame shown for every frame, and the range's first frame shown for every frame). A model whose
mouth follows the sound scores clearly lower with the real audio than with silence or frozen;
one that ignores the sound scores the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.frames import reference_frame
from ..faces import face_mask, mouth_library
from ..media import mel_windows
from ..media.crops_io import read_crops
from ..media.dataset_layout import DatasetLayout, load_index, read_landmarks, read_mel
from ..media.mel import SILENCE_DB_VALUE
from .metrics import lmd, ssim
from .model_eval import _even
from .model_eval import _landmarks as _marks

PASS_RATIO = 0.75
"""The acceptance line: LMD with the real audio at most this share of each baseline's."""
TEMPLATE_EYE_DISTANCE = 68.0
"""Eye-centre distance of the 256 crop template (px): x256/68 converts to 'px at an eye
distance of 256', the scale the issue tracker's measurements used."""
VARIANTS = ("audio", "silence", "frozen_reference", "frozen_first")


@dataclass
class ClipSync:
    clip: str
    identity: str
    frames: int = 0
    lmd: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    ssim: list[float] = field(default_factory=list)
    ssim_raw: list[float] = field(default_factory=list)

    def add(self, landmarker, real: np.ndarray, audio: np.ndarray, silence: np.ndarray,
            landmarks: np.ndarray, frozen_reference: np.ndarray, frozen_first: np.ndarray,
            feather: float) -> None:
        """Score one frame: the generated crops for the audio and for silence, pasted through
        the mouth mask, and the two frozen faces, against the real crop's lip landmarks."""
        self.frames += 1
        shown = {"audio": _paste(real, audio, landmarks, feather),
                 "silence": _paste(real, silence, landmarks, feather),
                 "frozen_reference": frozen_reference, "frozen_first": frozen_first}
        self.ssim.append(ssim(real, shown["audio"]))
        self.ssim_raw.append(ssim(real, audio))
        truth = _marks(landmarker, real)
        found = {v: _marks(landmarker, shown[v]) for v in VARIANTS}
        if truth is None or any(m is None for m in found.values()):
            return
        for v in VARIANTS:
            self.lmd[v].append(lmd(found[v][None], truth[None]))

    def summary(self) -> dict:
        mean = {v: float(np.mean(x)) if x else None for v, x in self.lmd.items()}
        out: dict = {"clip": self.clip, "identity": self.identity, "frames": self.frames,
                     "frames_with_landmarks": len(self.lmd["audio"])}
        out.update({f"lmd_{v}": _round(m) for v, m in mean.items()})
        out["ssim"] = _round(np.mean(self.ssim)) if self.ssim else None
        out["ssim_without_paste"] = _round(np.mean(self.ssim_raw)) if self.ssim_raw else None
        a = mean["audio"]
        for v in ("silence", "frozen_reference", "frozen_first"):
            b = mean[v]
            out[f"ratio_to_{v}"] = _round(a / b) if a is not None and b else None
        out["passes"] = all(out[f"ratio_to_{v}"] is not None
                            and out[f"ratio_to_{v}"] <= PASS_RATIO
                            for v in ("silence", "frozen_reference", "frozen_first"))
        return out


def _round(x) -> float:
    return round(float(x), 4)


def _paste(real: np.ndarray, generated: np.ndarray, landmarks: np.ndarray,
           feather: float) -> np.ndarray:
    m = face_mask(landmarks.astype(np.float64), "mouth", feather, crop_size=real.shape[0])
    m = m[..., None]
    out = m * generated.astype(np.float32) + (1.0 - m) * real.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def measure_clip(runners, landmarker, crops: np.ndarray, landmarks: np.ndarray,
                 present: np.ndarray, mel: np.ndarray, times: np.ndarray, *, clip: str,
                 identity: str, per_clip: int = 40, feather: float = 12.0) -> ClipSync:
    """Scores of one range of stored crops (``crops[i]`` with ``landmarks[i]`` at ``times[i]``)."""
    scores = ClipSync(clip, identity)
    ref = reference_frame(landmarks, present, 0)
    if ref is None:
        return scores
    half = runners.latent_shape[1] // 2
    ref_latent = runners.encode(crops[ref:ref + 1])
    silence = np.full_like(mel, SILENCE_DB_VALUE)
    others = np.array([k for k in range(len(crops)) if k != ref and present[k]])
    if len(others) == 0:
        return scores
    ks = others[_even(len(others), per_clip)]
    for s in range(0, len(ks), 8):
        k = ks[s:s + 8]
        real = crops[k]
        upper = np.ascontiguousarray(runners.encode(real)[:, :, :half])
        refs = np.repeat(ref_latent, len(k), 0)
        made = {}
        for name, source in (("audio", mel), ("silence", silence)):
            lower = runners.sync(upper, refs, mel_windows(source, times[k],
                                                          window=runners.mel_window))
            made[name] = runners.decode(np.concatenate([upper, lower], axis=2))
        for i, frame in enumerate(k):
            scores.add(landmarker, real[i], made["audio"][i], made["silence"][i],
                       landmarks[frame], crops[ref], crops[0], feather)
    return scores


def measure_clip_library(runners, landmarker, crops: np.ndarray, landmarks: np.ndarray,
                         mel: np.ndarray, times: np.ndarray, library_crops: np.ndarray,
                         library_landmarks: np.ndarray, library_frames: np.ndarray, *,
                         clip: str, identity: str, per_clip: int = 40,
                         feather: float = 12.0, library_mel: np.ndarray | None = None
                         ) -> ClipSync:
    """The lips stage's path (engine/mouth_sync.py) on one range: a mouth per frame picked from
    the library (the same person's footage outside the measured frames) by the lip shape the
    audio, or silence, asks for; scored like :func:`measure_clip`. ``library_mel`` (the
    library frames' own sound, lips windows) refits the stage to the speaker as the engine
    does with the clip's own sound."""
    from ..engine.mouth_sync import fit_actor, wanted_shapes

    scores = ClipSync(clip, identity)
    ref = reference_frame(landmarks, np.ones(len(crops), bool), 0)
    if ref is None or len(library_frames) == 0:
        return scores
    library = mouth_library.MouthLibrary.from_track(library_frames, library_landmarks)
    order = np.argsort(np.asarray(library_frames), kind="stable")
    lib_crops = library_crops[order]
    window = runners.lips_window
    actor = None if library_mel is None else fit_actor(runners, library_mel, library_landmarks)
    made = {}
    for name, source in (("audio", mel), ("silence", np.full_like(mel, SILENCE_DB_VALUE))):
        wanted = wanted_shapes(runners, mel_windows(source, times, window=window),
                               landmarks[ref], actor)
        picks = mouth_library.choose(library, wanted)
        made[name] = [mouth_library.blend_mouth(crops[k], landmarks[k], lib_crops[j],
                                                library.landmarks[j])
                      for k, j in enumerate(picks)]
    for k in _even(len(crops), per_clip):
        scores.add(landmarker, crops[k], made["audio"][k], made["silence"][k], landmarks[k],
                   crops[ref], crops[0], feather)
    return scores


LIBRARY_CLIPS = 12
"""Other clips of a held-out speaker that form the mouth library (when it has several)."""
LIBRARY_SHARE = 0.6
"""A speaker with one clip: its first 60 % is the library, the rest is measured."""


def _library_split(clips: list[dict], i: int) -> tuple[dict, list[dict]]:
    """(measured part of clip ``i``, the library's parts): other clips, else its own start."""
    if len(clips) > 1:
        others = [c for j, c in enumerate(clips) if j != i][:LIBRARY_CLIPS]
        return clips[i], others
    c = clips[i]
    cut = int(len(c["crops"]) * LIBRARY_SHARE)
    part = lambda lo, hi: {k: v[lo:hi] if k in ("crops", "landmarks", "times") else v  # noqa: E731
                           for k, v in c.items()}
    return part(cut, len(c["crops"])), [part(0, cut)]


def sync_held_out_library(runners, landmarker, data: Path, *, split: str = "val_unseen",
                          clips_per_identity: int = 4, per_clip: int = 40,
                          feather: float = 12.0, fit_to_speaker: bool = True) -> dict:
    """:func:`sync_held_out` for a set with a lips stage: the product's sync-only path."""
    index, layout = load_index(data), DatasetLayout(data)
    by_identity: dict[str, list] = {}
    for rec in sorted(index.select(split, kind="video"), key=lambda r: (r.identity, r.id)):
        if rec.has_audio and not rec.audio_silent and read_mel(layout, rec) is not None:
            by_identity.setdefault(rec.identity, []).append(rec)
    per = []
    for identity, recs in by_identity.items():
        clips = []
        for rec in recs[:clips_per_identity + LIBRARY_CLIPS]:
            a, b = rec.val_range
            lm = read_landmarks(layout, rec)
            if b - a < 5 or not lm["present"][a:b].all():
                continue
            clips.append({"id": rec.id, "crops": read_crops(layout.root / rec.crop, a, b),
                          "landmarks": lm["landmarks"][a:b].astype(np.float32),
                          "times": lm["times"][a:b], "mel": read_mel(layout, rec)})
        for i in range(min(clips_per_identity, len(clips))):
            measured, lib = _library_split(clips, i)
            if len(measured["crops"]) < 3:
                continue
            frames = np.concatenate([np.arange(len(c["crops"])) + 1_000_000 * j
                                     for j, c in enumerate(lib)])
            result = measure_clip_library(
                runners, landmarker, measured["crops"], measured["landmarks"],
                measured["mel"], measured["times"],
                np.concatenate([c["crops"] for c in lib]),
                np.concatenate([c["landmarks"] for c in lib]), frames,
                clip=measured["id"], identity=identity, per_clip=per_clip, feather=feather,
                library_mel=np.concatenate([
                    mel_windows(c["mel"], c["times"], window=runners.lips_window)
                    for c in lib]) if fit_to_speaker else None)
            summary = result.summary()
            if summary["frames_with_landmarks"]:
                summary["library_frames"] = int(len(frames))
                per.append(summary)
    out = summarise(per)
    out["path"] = "mouth library (lips stage" + (", refitted to each speaker's library)"
                                                  if fit_to_speaker else ")")
    return out


def sync_held_out(runners, landmarker, data: Path, *, split: str = "val_unseen",
                  clip_ids: list[str] | None = None, clips_per_identity: int = 4,
                  per_clip: int = 40, feather: float = 12.0) -> dict:
    """Per-clip and overall scores on ``split`` (held-out identities by default)."""
    index, layout = load_index(data), DatasetLayout(data)
    taken: dict[str, int] = {}
    per = []
    for rec in sorted(index.select(split, kind="video"), key=lambda r: (r.identity, r.id)):
        if clip_ids is not None and rec.id not in clip_ids:
            continue
        mel = read_mel(layout, rec)
        if mel is None or rec.audio_silent:
            continue
        if clip_ids is None and taken.get(rec.identity, 0) >= clips_per_identity:
            continue
        a, b = rec.val_range
        if b - a < 3:
            continue
        lm = read_landmarks(layout, rec)
        crops = read_crops(layout.root / rec.crop, a, b)
        result = measure_clip(runners, landmarker, crops, lm["landmarks"][a:b].astype(np.float32),
                              np.ones(b - a, bool), mel, lm["times"][a:b], clip=rec.id,
                              identity=rec.identity, per_clip=per_clip, feather=feather)
        summary = result.summary()
        if summary["frames_with_landmarks"] == 0:
            continue
        taken[rec.identity] = taken.get(rec.identity, 0) + 1
        per.append(summary)
    return summarise(per)


def summarise(per: list[dict]) -> dict:
    def mean(key: str):
        vals = [p[key] for p in per if p.get(key) is not None]
        return _round(np.mean(vals)) if vals else None

    passing = sum(1 for p in per if p["passes"])
    out = {"clips": len(per), "identities": len({p["identity"] for p in per}),
           "frames_with_landmarks": int(sum(p["frames_with_landmarks"] for p in per)),
           "clips_passing": passing,
           "share_passing": _round(passing / len(per)) if per else None,
           "pass_ratio": PASS_RATIO, "eye256_factor": _round(256 / TEMPLATE_EYE_DISTANCE)}
    for key in ("lmd_audio", "lmd_silence", "lmd_frozen_reference", "lmd_frozen_first", "ssim",
                "ssim_without_paste", "ratio_to_silence", "ratio_to_frozen_reference",
                "ratio_to_frozen_first"):
        out[key] = mean(key)
    out["per_clip"] = per
    return out


def table(result: dict) -> str:
    """Markdown table: one row per clip and the mean."""
    head = ("| clip | identity | frames | LMD audio | LMD silence | LMD frozen (ref) | "
            "LMD frozen (first) | audio/silence | audio/frozen | face SSIM | passes |")
    lines = [head, "|" + " --- |" * 11]

    def row(p: dict, name: str, ident: str) -> str:
        f = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        return (f"| {name} | {ident} | {p['frames_with_landmarks']} | {f(p['lmd_audio'])} | "
                f"{f(p['lmd_silence'])} | {f(p['lmd_frozen_reference'])} | "
                f"{f(p['lmd_frozen_first'])} | {f(p['ratio_to_silence'])} | "
                f"{f(p['ratio_to_frozen_reference'])} | {f(p['ssim'])} | "
                f"{p.get('passes', '')} |")

    for p in result["per_clip"]:
        lines.append(row(p, p["clip"], p["identity"]))
    summary = dict(result, passes=f"{result['clips_passing']}/{result['clips']}")
    lines.append(row(summary, "**mean**", f"{result['identities']} ids"))
    return "\n".join(lines)
