"""Following one face through a frame range: detect, cut into shots, associate, select, fill,
smooth.

Tracking is offline (it sees the whole range before deciding), which allows choosing the target
by its behaviour over a whole shot, filling short detector misses from both sides, and
zero-phase smoothing. Nothing is associated, interpolated or smoothed across a shot cut; after a
cut the target is chosen again in the new shot by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.cancel import NEVER, CancelToken
from .facetrack import FaceTrack, TargetSpec
from .identity import cosine
from .shots import DEFAULT_CUTS, CutThresholds, frame_signature, is_cut, signature_distance
from .smoothing import fill_gaps, runs, smooth_landmarks
from .types import N_LANDMARKS, FaceDetection, FaceLandmarker, iou

Progress = Callable[[int, int], None]

EMBEDDINGS_PER_TRACK = 5
REDETECT_EVERY = 8
"""Frames between full detector passes while every face is followed by its mesh alone (a face
that enters the picture is picked up within this many frames)."""
EMBED_STRIDE = 10
"""Frames between the embeddings sampled from one face for ``"reference"`` selection; dlib takes
~90 ms per face on a 2-core CPU (several times the detection), so every frame would be slow
for little gain: a face's embeddings barely change within a shot."""

_NO_MATCH = 1e6


class Embedder(Protocol):
    """What tracking needs from ``IdentityEmbedder`` (tests can pass a fake)."""

    def embed(self, rgb: np.ndarray, detection: FaceDetection) -> np.ndarray: ...


@dataclass(eq=False)
class _Tracklet:
    shot: int
    frames: list[int] = field(default_factory=list)
    dets: list[FaceDetection] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)
    last_embedded: int = -(1 << 30)

    def add(self, t: int, det: FaceDetection) -> None:
        self.frames.append(t)
        self.dets.append(det)

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def predicted_bbox(self, t: int) -> np.ndarray:
        box = self.dets[-1].bbox.astype(np.float64)
        if len(self.frames) >= 2 and self.frames[-1] - self.frames[-2] == 1:
            velocity = self.dets[-1].centre - self.dets[-2].centre
            steps = min(t - self.frames[-1], 3)  # beyond a few frames the motion is a guess
            box = box + np.tile(velocity * steps, 2)
        return box

    def area_sum(self) -> float:
        return float(sum(d.area for d in self.dets))


def _associate(active: list[_Tracklet], dets: list[FaceDetection],
               t: int) -> list[tuple[int, int]]:
    """Pairs (tracklet, detection) by overlap with the predicted box and centre distance."""
    if not active or not dets:
        return []
    cost = np.full((len(active), len(dets)), _NO_MATCH)
    for i, tr in enumerate(active):
        # a face unseen for a while may have moved further than one frame's worth
        reach = min(0.5 + 0.05 * (t - tr.last_frame - 1), 1.0)
        pred = tr.predicted_bbox(t)
        w_pred = max(float(pred[2] - pred[0]), 1.0)
        c_pred = (pred[:2] + pred[2:]) / 2
        for j, det in enumerate(dets):
            w_det = max(float(det.bbox[2] - det.bbox[0]), 1.0)
            if not 0.6 <= w_det / w_pred <= 1 / 0.6:
                continue
            overlap = iou(pred, det.bbox)
            dist = float(np.linalg.norm(det.centre - c_pred)) / max(w_pred, w_det)
            if overlap < 0.2 and dist > reach:
                continue
            cost[i, j] = (1.0 - overlap) + dist
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _NO_MATCH]


def _track_score(tr: _Tracklet, reference: np.ndarray) -> float:
    if not tr.embeddings:
        return -1.0
    return float(np.mean([cosine(e, reference) for e in tr.embeddings]))


def _select(cands: list[_Tracklet], first: int, stop: int,
            target: TargetSpec) -> _Tracklet | None:
    """The target among one shot's tracklets, by the rule in ``TargetSpec``'s doc."""
    if not cands:
        return None
    if target.mode == "largest":
        return max(cands, key=lambda tr: tr.area_sum())
    if target.mode == "reference":
        assert target.reference is not None
        best = max(cands, key=lambda tr: _track_score(tr, target.reference))
        return best if _track_score(best, target.reference) >= target.min_similarity else None
    min_len = max(1, int(np.ceil(0.2 * (stop - first))))
    solid = [tr for tr in cands if len(tr.frames) >= min_len]
    if not solid:
        return None
    where = [dict(zip(tr.frames, tr.dets, strict=True)) for tr in solid]
    best_t, best_n = first, 0
    for t in range(first, stop):
        n = sum(t in w for w in where)
        if n > best_n:
            best_t, best_n = t, n
    together = sorted((float(w[best_t].centre[0]), k) for k, w in enumerate(where)
                      if best_t in w)
    if target.index >= len(together):
        return None
    return solid[together[target.index][1]]


def _continues(tr: _Tracklet, chosen: list[_Tracklet], target: TargetSpec) -> float | None:
    """Frames between ``tr`` and the chosen face's nearest observation if ``tr`` is the same
    face seen again later (or earlier) in the shot, else None.

    With a reference identity, the identity decides; otherwise ``tr`` must start near where the
    chosen face was last seen (or end near where it is next seen).
    """
    obs = sorted(((t, d) for c in chosen for t, d in zip(c.frames, c.dets, strict=True)),
                 key=lambda o: o[0])
    times = [t for t, _ in obs]
    k = int(np.searchsorted(times, tr.frames[0]))
    options = []
    if k > 0:  # tr starts after an observation of the chosen face
        options.append((tr.frames[0] - times[k - 1], obs[k - 1][1], tr.dets[0]))
    k_end = int(np.searchsorted(times, tr.frames[-1], side="right"))
    if k_end < len(obs):  # tr ends before one
        options.append((times[k_end] - tr.frames[-1], obs[k_end][1], tr.dets[-1]))
    if not options:
        return None
    if target.mode == "reference":
        assert target.reference is not None
        if _track_score(tr, target.reference) < target.min_similarity:
            return None
        return float(min(gap for gap, _, _ in options))
    best = None
    for gap, ours, theirs in options:
        width = max(float(ours.bbox[2] - ours.bbox[0]), 1.0)
        ratio = float(theirs.bbox[2] - theirs.bbox[0]) / width
        # people side by side are rarely closer than 1.5 face widths (centre to centre)
        reach = min(0.75 + 0.05 * gap, 1.25) * width
        near = float(np.linalg.norm(theirs.centre - ours.centre)) <= reach
        if near and 0.5 <= ratio <= 2.0 and (best is None or gap < best):
            best = float(gap)
    return best


def _chain(first_pick: _Tracklet, cands: list[_Tracklet], target: TargetSpec) -> list[_Tracklet]:
    """The chosen tracklet plus later/earlier tracklets of the same face in the same shot (a
    face lost for a while, e.g. turned away, comes back as a new tracklet)."""
    chosen = [first_pick]
    while True:
        occupied = {t for c in chosen for t in c.frames}
        best, best_gap = None, None
        for tr in cands:
            if tr in chosen or occupied.intersection(tr.frames):
                continue
            gap = _continues(tr, chosen, target)
            if gap is not None and (best_gap is None or gap < best_gap):
                best, best_gap = tr, gap
        if best is None:
            return chosen
        chosen.append(best)


def track_faces(frames: Iterable[tuple[int, np.ndarray]], landmarker: FaceLandmarker,
                target: TargetSpec, embedder: Embedder | None = None,
                progress: Progress | None = None, cancel: CancelToken | None = None, *,
                max_gap: int = 10, hold: int = 2, total: int | None = None,
                smooth: bool = True, cut_thresholds: CutThresholds = DEFAULT_CUTS,
                redetect_every: int = REDETECT_EVERY) -> FaceTrack:
    """Follow the ``target`` face through ``frames``, ``(index, rgb)`` pairs over a contiguous
    range in order.

    Misses of up to ``max_gap`` frames inside a shot are interpolated; up to ``hold`` frames at
    a shot's edges are held; longer absences are ``present=False``. ``progress(done, total)``
    is called per frame (``total`` is ``len(frames)`` when it has one, else the ``total``
    argument, else 0 for unknown). A landmarker with a ``follow`` method (MediaPipe's) runs
    its detectors only every ``redetect_every`` frames and after a likely cut; 1 detects in
    every frame.
    """
    cancel = cancel or NEVER
    if target.mode == "reference" and embedder is None:
        raise ValueError("target mode 'reference' needs an embedder")
    if total is None:
        total = len(frames) if hasattr(frames, "__len__") else 0  # type: ignore[arg-type]
    use_embeddings = target.mode == "reference"

    start: int | None = None
    shot_starts = [0]
    tracklets: list[_Tracklet] = []
    active: list[_Tracklet] = []
    prev_sig: np.ndarray | None = None
    follow = getattr(landmarker, "follow", None) if redetect_every > 1 else None
    prev_dets: list[FaceDetection] = []
    since_detect = 0
    n = 0
    for index, rgb in frames:
        cancel.raise_if_cancelled()
        if start is None:
            start = int(index)
        elif int(index) != start + n:
            raise ValueError(f"frames must be a contiguous range in order: expected frame "
                             f"{start + n}, got {index}")
        t = n
        sig = frame_signature(rgb)
        dets = None
        # Following the last frame's faces by their mesh skips the detectors (most of the
        # cost); a likely cut, a lost face or the periodic pass runs them again.
        steady = prev_sig is not None and \
            signature_distance(prev_sig, sig) < cut_thresholds.soft
        if follow is not None and steady and prev_dets and since_detect < redetect_every:
            dets = follow(rgb, prev_dets)
        if dets is None:
            dets = landmarker.detect(rgb)
            since_detect = 0
        since_detect += 1
        prev_dets = dets
        matches = _associate(active, dets, t)
        if prev_sig is not None:
            seen_before = {id(tr) for tr in active if tr.last_frame == t - 1}
            continued = any(id(active[i]) in seen_before for i, _ in matches)
            jumped = bool(seen_before) and bool(dets) and not continued
            if is_cut(signature_distance(prev_sig, sig), jumped, cut_thresholds):
                shot_starts.append(t)
                active, matches = [], []
        matched = {j for _, j in matches}
        updated = []
        for i, j in matches:
            active[i].add(t, dets[j])
            updated.append((active[i], dets[j]))
        for j, det in enumerate(dets):
            if j not in matched:
                tr = _Tracklet(shot=len(shot_starts) - 1)
                tr.add(t, det)
                tracklets.append(tr)
                active.append(tr)
                updated.append((tr, det))
        if use_embeddings:
            assert embedder is not None
            for tr, det in updated:
                if (len(tr.embeddings) < EMBEDDINGS_PER_TRACK
                        and t - tr.last_embedded >= EMBED_STRIDE):
                    tr.embeddings.append(np.asarray(embedder.embed(rgb, det), np.float32))
                    tr.last_embedded = t
        prev_sig = sig
        n += 1
        if progress is not None:
            progress(n, max(total, n) if total else 0)
    if start is None:
        raise ValueError("track_faces needs at least one frame")

    landmarks = np.full((n, N_LANDMARKS, 2), np.nan, dtype=np.float32)
    present = np.zeros(n, dtype=bool)
    bounds = [*shot_starts, n]
    for s, (first, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        cands = [tr for tr in tracklets if tr.shot == s]
        pick = _select(cands, first, stop, target)
        if pick is None:
            continue
        obs = sorted(((t, d.landmarks) for tr in _chain(pick, cands, target)
                      for t, d in zip(tr.frames, tr.dets, strict=True)), key=lambda o: o[0])
        times = np.array([t for t, _ in obs], dtype=np.int64)
        values = np.stack([lm for _, lm in obs])
        shot_lm, shot_present = fill_gaps(times, values, first, stop, max_gap, hold)
        if smooth:
            for a, b in runs(shot_present):
                shot_lm[a:b] = smooth_landmarks(shot_lm[a:b])
        landmarks[first:stop] = shot_lm
        present[first:stop] = shot_present
    cuts = np.array(shot_starts[1:], dtype=np.int64) + start
    return FaceTrack(start=start, landmarks=landmarks, present=present, cuts=cuts)
