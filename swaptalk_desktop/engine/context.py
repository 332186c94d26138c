"""Heavy objects that live across jobs: model sessions, the face landmarker, identity encoder.

One context per worker thread: MediaPipe graphs are not safe to share between threads, and
ONNX sessions are shared anyway through the inference layer's session cache.
"""

from __future__ import annotations

import threading

import numpy as np

from ..inference import ModelRegistry, StageRunners


class EngineContext:
    def __init__(self, registry: ModelRegistry | None = None):
        self._registry = registry
        self._runners: dict[tuple, StageRunners] = {}
        self._landmarker = None
        self._embedder = None
        self._identity_latents: dict[tuple, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def registry(self) -> ModelRegistry:
        if self._registry is None:
            self._registry = ModelRegistry()
        return self._registry

    def runners(self, model_set: str | None, provider: str, batch_size: int) -> StageRunners:
        key = (model_set, provider, batch_size)
        with self._lock:
            if key not in self._runners:
                chosen = self.registry.get_set(model_set)
                self._runners[key] = StageRunners(chosen, provider=provider, max_batch=batch_size)
            return self._runners[key]

    @property
    def landmarker(self):
        if self._landmarker is None:
            # Its own instance, not the process-wide default: MediaPipe graphs must not be
            # used from two threads, and each worker thread has its own context.
            from ..faces import MediaPipeLandmarker
            self._landmarker = MediaPipeLandmarker()
        return self._landmarker

    @property
    def embedder(self):
        if self._embedder is None:
            from ..faces import IdentityEmbedder
            self._embedder = IdentityEmbedder()
        return self._embedder

    def identity_latent(self, photo_sha256: str, runners: StageRunners,
                        crop: np.ndarray) -> np.ndarray:
        """The identity photo's latent, encoded once per (photo, model set)."""
        key = (photo_sha256, id(runners))
        if key not in self._identity_latents:
            self._identity_latents[key] = runners.encode(crop[None])
        return self._identity_latents[key]
