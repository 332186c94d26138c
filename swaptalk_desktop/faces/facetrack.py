"""What tracking produces and what it is asked for: ``FaceTrack`` and ``TargetSpec``."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..core.atomic import atomic_path
from ..core.errors import InputError
from .types import N_LANDMARKS

TargetMode = Literal["largest", "index", "reference"]

_FORMAT = "swaptalk-facetrack"
_VERSION = 1


@dataclass
class TargetSpec:
    """Which face to follow.

    - ``"largest"``: in each shot, the face with the largest mean area over the shot's frames
      (frames where it is not detected count as 0, so a face seen briefly does not win).
    - ``"index"``: in each shot, faces are numbered 0, 1, ... from left to right by the x of
      their box centre, in the first frame of the shot where the most faces are visible
      together (only faces detected in at least a fifth of the shot's frames count). If the
      shot has fewer faces than ``index + 1``, the target is absent in that shot.
    - ``"reference"``: in each shot, the face whose embeddings (from a few sampled frames) are
      closest in cosine to ``reference`` (a 128-D ``IdentityEmbedder`` embedding); absent in
      shots where no face reaches ``min_similarity``. Needs an embedder.
    """

    mode: TargetMode = "largest"
    index: int = 0
    reference: np.ndarray | None = None
    min_similarity: float = 0.90
    """For ``"reference"``. Measured with dlib embeddings: photo pairs of one person score 0.97
    on average (0.94 at least), of different people 0.82 (0.92 at most, two similar-looking
    actors); a reference photo against a video frame of the same person 0.96-0.98, of someone
    else 0.89 at most."""

    def __post_init__(self) -> None:
        if self.mode not in ("largest", "index", "reference"):
            raise ValueError(f"mode must be largest, index or reference, got {self.mode!r}")
        if self.mode == "index" and self.index < 0:
            raise ValueError(f"index must be >= 0, got {self.index}")
        if self.mode == "reference":
            if self.reference is None:
                raise ValueError("mode 'reference' needs a reference embedding")
            self.reference = np.asarray(self.reference, dtype=np.float32).ravel()


@dataclass
class FaceTrack:
    """One face over the contiguous frame range ``[start, start + N)``.

    ``landmarks[k]`` belongs to frame ``start + k`` (NaN where ``present[k]`` is False).
    ``cuts`` holds the first frame (absolute index) of each shot after the first one.
    Methods taking ``frame`` use absolute frame indices.
    """

    start: int
    landmarks: np.ndarray
    present: np.ndarray
    cuts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.start = int(self.start)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        self.present = np.asarray(self.present, dtype=bool)
        self.cuts = np.asarray(self.cuts, dtype=np.int64).ravel()
        n = len(self.present)
        if self.landmarks.shape != (n, N_LANDMARKS, 2) or self.present.ndim != 1:
            raise ValueError(f"landmarks {self.landmarks.shape} do not match present "
                             f"{self.present.shape}")

    def __len__(self) -> int:
        return len(self.present)

    @property
    def stop(self) -> int:
        return self.start + len(self.present)

    def _offset(self, frame: int) -> int:
        k = int(frame) - self.start
        if not 0 <= k < len(self.present):
            raise IndexError(f"frame {frame} is outside the track [{self.start}, {self.stop})")
        return k

    def is_present(self, frame: int) -> bool:
        return bool(self.present[self._offset(frame)])

    def landmarks_at(self, frame: int) -> np.ndarray | None:
        k = self._offset(frame)
        return self.landmarks[k] if self.present[k] else None

    def bbox(self, frame: int) -> np.ndarray | None:
        """``float32[4]`` extent of the landmarks in ``frame``, or None where absent."""
        lm = self.landmarks_at(frame)
        if lm is None:
            return None
        return np.concatenate([lm.min(axis=0), lm.max(axis=0)]).astype(np.float32)

    def shot_of(self, frame: int) -> tuple[int, int]:
        """The shot ``[first, stop)`` (absolute) holding ``frame``."""
        self._offset(frame)
        bounds = np.concatenate([[self.start], self.cuts, [self.stop]])
        i = int(np.searchsorted(bounds, frame, side="right")) - 1
        return int(bounds[i]), int(bounds[i + 1])

    def span(self, start: int, stop: int) -> FaceTrack:
        """The part of the track over frames ``[start, stop)`` (inside it), with its cuts."""
        if not self.start <= start < stop <= self.stop:
            raise IndexError(f"frames [{start}, {stop}) are not inside the track "
                             f"[{self.start}, {self.stop})")
        lo, hi = start - self.start, stop - self.start
        cuts = self.cuts[(self.cuts > start) & (self.cuts < stop)]
        return FaceTrack(start=start, landmarks=self.landmarks[lo:hi].copy(),
                         present=self.present[lo:hi].copy(), cuts=cuts)

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` (no pickled objects), atomically."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, format=np.array(_FORMAT), version=np.array(_VERSION, dtype=np.int64),
                start=np.array(self.start, dtype=np.int64), landmarks=self.landmarks,
                present=self.present, cuts=self.cuts)

    @classmethod
    def load(cls, path: str | Path) -> FaceTrack:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"face track {path} does not exist; track the clip again")
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["format"]) != _FORMAT or int(data["version"]) > _VERSION:
                    raise ValueError("not a face track of a known version")
                return cls(start=int(data["start"]), landmarks=data["landmarks"],
                           present=data["present"], cuts=data["cuts"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise InputError(f"{path} is not a face track this version can read; delete it "
                             "and track the clip again") from err
