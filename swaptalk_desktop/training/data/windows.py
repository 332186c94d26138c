"""Batches of codes (from a latent cache) for the expert, sync and swap stages.

Like ``dataset.CropBatches``, every batch is a pure function of (seed, step, micro, rank).
A *window* is F consecutive source frames of one clip (consecutive in the source, not just in
storage: frames without a face break a window), inside the split's range, in a clip whose
audio is not silent. Mel windows come from ``media.mel_windows`` at each frame's audio time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...engine.frames import reference_frame
from ...media import mel_windows
from ...media.dataset_layout import (
    ClipRecord,
    DatasetIndex,
    DatasetLayout,
    read_landmarks,
    read_mel,
)
from .dataset import step_rng
from .latents import LatentCache

REFERENCE_GAP = 5
"""Frames between a window and its reference, as Wav2Lip: far enough that the reference's mouth
is not the answer, near enough to share lighting and pose."""


@dataclass
class ClipLatents:
    rec: ClipRecord
    codes: np.ndarray        # int64 [n, h, w]
    times: np.ndarray        # float64 [n], seconds on the audio track
    source_index: np.ndarray
    mel: np.ndarray | None   # float32 [80, T]
    start: int
    stop: int
    closed: int | None = None  # the split range's most closed-mouth frame


def load_clips(index: DatasetIndex, cache: LatentCache, split: str,
               need_audio: bool) -> list[ClipLatents]:
    layout = DatasetLayout(index.root)
    out = []
    train = split == "train"
    for rec in index.select(split):
        if need_audio and (not rec.has_audio or rec.audio_silent):
            continue
        lm = read_landmarks(layout, rec)
        a, b = rec.train_range if train else rec.val_range
        closed = reference_frame(lm["landmarks"][a:b].astype(np.float32), np.ones(b - a, bool),
                                 a) if b > a else None
        out.append(ClipLatents(rec, cache.codes[rec.id], lm["times"], lm["source_index"],
                               read_mel(layout, rec) if need_audio else None, a, b, closed))
    return out


class WindowBatches:
    """F-frame windows with audio, their reference frames and (for the expert) shifted audio."""

    def __init__(self, clips: list[ClipLatents], frames: int, mel_window: int, seed: int,
                 min_shift: int = 6, closed_reference: float = 0.5) -> None:
        self.frames, self.mel_window, self.seed, self.min_shift = frames, mel_window, seed, \
            min_shift
        self.closed_reference = closed_reference
        self.clips: list[ClipLatents] = []
        self.starts: list[np.ndarray] = []
        for c in clips:
            starts = self._window_starts(c)
            if len(starts):
                self.clips.append(c)
                self.starts.append(starts)
        if not self.clips:
            raise ValueError(f"no clip has {frames} consecutive face frames with audio")
        counts = np.array([len(s) for s in self.starts], np.float64)
        self.weights = counts / counts.sum()

    def _window_starts(self, c: ClipLatents) -> np.ndarray:
        f = self.frames
        if c.stop - c.start < f:
            return np.zeros(0, np.int64)
        k = np.arange(c.start, c.stop - f + 1)
        consecutive = c.source_index[k + f - 1] - c.source_index[k] == f - 1
        return k[consecutive]

    @property
    def window_count(self) -> int:
        return int(sum(len(s) for s in self.starts))

    def _reference(self, rng: np.random.Generator, c: ClipLatents, k: int) -> int:
        # Half the time the clip's most closed-mouth frame, the reference the engine uses (so
        # silence keeps a closed mouth closed); otherwise any frame away from the window, so the
        # module also learns to move a mouth that starts open.
        closed_ok = c.closed is not None and not (k - REFERENCE_GAP <= c.closed
                                                   < k + self.frames + REFERENCE_GAP)
        if rng.random() < self.closed_reference and closed_ok:
            return int(c.closed)
        centre = k + self.frames // 2
        far = np.concatenate([np.arange(c.start, max(c.start, centre - REFERENCE_GAP - 1)),
                              np.arange(min(c.stop, centre + REFERENCE_GAP + 1), c.stop)])
        if len(far) == 0:  # a very short clip: any frame outside the window
            far = np.setdiff1d(np.arange(c.start, c.stop), np.arange(k, k + self.frames))
        if len(far) == 0:
            return k
        return int(far[rng.integers(len(far))])

    def _pick(self, rng: np.random.Generator) -> tuple[ClipLatents, int]:
        ci = int(rng.choice(len(self.clips), p=self.weights))
        starts = self.starts[ci]
        return self.clips[ci], int(starts[rng.integers(len(starts))])

    def _shifted_time(self, rng: np.random.Generator, c: ClipLatents, k: int) -> float:
        """A window centre in the same clip at least ``min_shift`` frames away (a hard
        negative: same voice, same room, wrong moment)."""
        centre = k + self.frames // 2
        n = len(c.times)
        options = np.concatenate([np.arange(0, max(0, centre - self.min_shift + 1)),
                                  np.arange(min(n, centre + self.min_shift), n)])
        if len(options) == 0:
            return float(c.times[centre]) + 1.0  # beyond the clip: silence, still out of sync
        return float(c.times[int(options[rng.integers(len(options))])])

    def _mel(self, c: ClipLatents, times: np.ndarray) -> np.ndarray:
        assert c.mel is not None
        return mel_windows(c.mel, times, self.mel_window)[:, None]  # [N, 1, 80, T]

    def expert_batch(self, step: int, size: int, micro: int = 0, rank: int = 0) -> dict:
        """Half in sync (label 1), half with audio from another moment of the clip (0)."""
        rng = step_rng(self.seed, step, micro, rank, salt=11)
        picks = [self._pick(rng) for _ in range(size)]
        labels = (np.arange(size) % 2 == 0).astype(np.float32)
        return self._expert(rng, picks, labels)

    def _expert(self, rng: np.random.Generator, picks: list[tuple[ClipLatents, int]],
                labels: np.ndarray) -> dict:
        codes, mels = [], []
        for (c, k), label in zip(picks, labels, strict=True):
            codes.append(c.codes[k:k + self.frames])
            centre = k + self.frames // 2
            t = float(c.times[centre]) if label > 0.5 else self._shifted_time(rng, c, k)
            mels.append(self._mel(c, np.array([t]))[0])
        return {"codes": np.stack(codes), "mel": np.stack(mels), "label": labels}

    def expert_pairs(self, count: int) -> dict:
        """Fixed validation pairs: the same windows once in sync and once shifted."""
        rng = step_rng(self.seed, 0, salt=12)
        picks = [self._pick(rng) for _ in range(count)]
        return {"pos": self._expert(rng, picks, np.ones(count, np.float32)),
                "neg": self._expert(rng, picks, np.zeros(count, np.float32))}

    def sync_batch(self, step: int, size: int, micro: int = 0, rank: int = 0) -> dict:
        rng = step_rng(self.seed, step, micro, rank, salt=13)
        return self._sync(rng, size)

    def sync_fixed(self, count: int) -> dict:
        return self._sync(step_rng(self.seed, 0, salt=14), count)

    def _sync(self, rng: np.random.Generator, size: int) -> dict:
        codes, refs, mels, expert_mels = [], [], [], []
        f = self.frames
        for _ in range(size):
            c, k = self._pick(rng)
            codes.append(c.codes[k:k + f])
            refs.append(c.codes[self._reference(rng, c, k)])
            mels.append(self._mel(c, c.times[k:k + f]))
            expert_mels.append(self._mel(c, c.times[k + f // 2:k + f // 2 + 1])[0])
        return {"codes": np.stack(codes), "reference": np.stack(refs), "mel": np.stack(mels),
                "expert_mel": np.stack(expert_mels)}


class SwapPairs:
    """(target frame, source frame) pairs: mostly a source of another identity (the swap),
    sometimes one of the target's own identity from elsewhere (the answer is then known)."""

    def __init__(self, clips: list[ClipLatents], seed: int, same_fraction: float = 0.25) -> None:
        self.clips, self.seed, self.same_fraction = clips, seed, same_fraction
        lengths = np.array([c.stop - c.start for c in clips], np.float64)
        self.weights = lengths / lengths.sum()
        self.by_identity: dict[str, list[int]] = {}
        for i, c in enumerate(clips):
            self.by_identity.setdefault(c.rec.identity, []).append(i)
        self.identities = sorted(self.by_identity)
        if len(self.identities) < 2:
            raise ValueError("the swap stage needs at least two identities in the split")

    def _frame(self, rng: np.random.Generator, ci: int) -> np.ndarray:
        c = self.clips[ci]
        return c.codes[c.start + int(rng.integers(c.stop - c.start))]

    def batch(self, step: int, size: int, micro: int = 0, rank: int = 0) -> dict:
        return self._pairs(step_rng(self.seed, step, micro, rank, salt=21), size)

    def fixed(self, count: int, same_fraction: float = 0.0) -> dict:
        return self._pairs(step_rng(self.seed, 0, salt=22), count, same_fraction)

    def _pairs(self, rng: np.random.Generator, size: int,
               same_fraction: float | None = None) -> dict:
        same_fraction = self.same_fraction if same_fraction is None else same_fraction
        targets, sources, same = [], [], []
        for _ in range(size):
            ti = int(rng.choice(len(self.clips), p=self.weights))
            ident = self.clips[ti].rec.identity
            is_same = bool(rng.random() < same_fraction)
            if is_same:
                si = self.by_identity[ident][int(rng.integers(len(self.by_identity[ident])))]
            else:
                others = [i for i in self.identities if i != ident]
                other = others[int(rng.integers(len(others)))]
                si = self.by_identity[other][int(rng.integers(len(self.by_identity[other])))]
            targets.append(self._frame(rng, ti))
            sources.append(self._frame(rng, si))
            same.append(is_same)
        return {"target": np.stack(targets), "source": np.stack(sources),
                "same": np.array(same, bool)}
