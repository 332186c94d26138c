"""Stage runners: numpy in, numpy out, batched, with out-of-memory back-off.

The engine only ever sees uint8 crops and float32 latents; pixel scaling, NCHW layout, the mel
channel axis, batching and ORT's error vocabulary stay behind this class.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping

import numpy as np

from ..core.errors import ModelError, ResourceError
from .manifest import KNOWN_STAGES, LIP_POINT_COUNT, MEL_BINS, ModelEntry, ModelSet, TensorSpec
from .providers import CPU_EP, ProviderPlan, ProviderReport, one_line, plan_providers
from .sessions import LoadedSession, SessionBuildError, SessionSource, shared_session_cache

_OOM = re.compile(r"failed to allocate memory|out of memory|cuda failure 2\b|bfcarena|"
                  r"cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|bad_alloc", re.I)

Chunk = Callable[[np.ndarray], np.ndarray]


def is_out_of_memory(err: BaseException) -> bool:
    return bool(_OOM.search(str(err)))


def crops_to_images(crops: np.ndarray) -> np.ndarray:
    """uint8 [B, S, S, 3] RGB -> float32 [B, 3, S, S] in [-1, 1]."""
    images = crops.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


def images_to_crops(images: np.ndarray) -> np.ndarray:
    """float32 [B, 3, S, S] in [-1, 1] -> uint8 [B, S, S, 3]; out-of-range values are clipped."""
    pixels = (np.nan_to_num(images, nan=0.0) + np.float32(1.0)) * np.float32(127.5)
    pixels = np.rint(np.clip(pixels, 0.0, 255.0)).astype(np.uint8)
    return np.ascontiguousarray(pixels.transpose(0, 2, 3, 1))


def _check_feed(stage: str, role: str, spec: TensorSpec, array: np.ndarray) -> None:
    # A caller's shape bug would otherwise surface as an ORT error that blames the model file.
    ok = array.ndim == len(spec.shape) and all(
        not isinstance(want, int) or got == want
        for axis, (want, got) in enumerate(zip(spec.shape, array.shape, strict=True))
        if axis > 0 or role == "source")
    if not ok:
        raise ValueError(f"{stage} '{role}' must have shape {list(spec.shape)}, got "
                         f"{list(array.shape)}")


class StageRunners:
    """The four stages of one model set on one provider.

    Sessions are built on first use (or by ``load()``); ``provider_report`` reflects the sessions
    built so far, and before any, the CUDA probe session. Methods are safe to call from several
    threads; ORT sessions run concurrently.
    """

    def __init__(self, model_set: ModelSet, provider: str = "auto", max_batch: int = 8,
                 cache: SessionSource | None = None, device_id: int = 0) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.model_set = model_set
        self.max_batch = max_batch
        self.device_id = device_id
        self._plan: ProviderPlan = plan_providers(provider, device_id)
        self._cache: SessionSource = cache if cache is not None else shared_session_cache()
        self._entries: dict[str, ModelEntry] = {
            stage: self._select(stage, self._plan.active) for stage in model_set.stages}
        self._loaded: dict[str, LoadedSession] = {}
        self._notes: dict[str, str] = {}
        self._ran: set[str] = set()
        self._batch_limit: dict[str, int] = dict.fromkeys(KNOWN_STAGES, max_batch)
        self._lock = threading.RLock()
        self._latent_shape: tuple[int, int, int] | None = model_set.declared_latent_shape()

    # ---- facts about the set ----

    @property
    def crop_size(self) -> int:
        return self.model_set.crop_size

    @property
    def mel_window(self) -> int:
        return self.model_set.mel_window

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(C, h, w), from the manifest, or from encoding one blank crop when it is symbolic."""
        if self._latent_shape is None:
            blank = np.zeros((1, self.crop_size, self.crop_size, 3), np.uint8)
            c, h, w = self.encode(blank).shape[1:]
            self._latent_shape = (int(c), int(h), int(w))
        return self._latent_shape

    def has_stage(self, stage: str) -> bool:
        return stage in self._entries

    def selected(self, stage: str) -> ModelEntry:
        """The variant chosen for ``stage`` on the active provider."""
        self._require(stage)
        return self._entries[stage]

    def selected_models(self) -> list[ModelEntry]:
        """The variant chosen for every stage of the set, whether it has run yet or not."""
        return [self._entries[s] for s in KNOWN_STAGES if s in self._entries]

    def used_models(self) -> list[ModelEntry]:
        """Entries that actually ran, in stage order (for export metadata)."""
        with self._lock:
            return [self._entries[s] for s in KNOWN_STAGES if s in self._ran]

    @property
    def provider_report(self) -> ProviderReport:
        with self._lock:
            loaded = {s: self._loaded[s] for s in KNOWN_STAGES if s in self._loaded}
            notes = dict(self._notes)
        if not loaded:
            return self._plan.report()
        used_names = {ls.used for ls in loaded.values()}
        if len(used_names) == 1:
            used = used_names.pop()
        else:
            used = "mixed (" + ", ".join(f"{s}: {ls.used}" for s, ls in loaded.items()) + ")"
        reason = self._plan.reason
        if notes:
            reason += "; " + "; ".join(f"CUDA not used for {s}: {n}" for s, n in notes.items())
        details = "\n".join(ls.log for ls in loaded.values() if ls.log) or self._plan.details
        return ProviderReport(self._plan.requested, used, reason, details)

    def load(self, stages: tuple[str, ...] | None = None) -> None:
        """Build the sessions now (a "loading models" step) instead of on first use."""
        for stage in stages or tuple(self._entries):
            self._session(stage)

    # ---- stages ----

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """uint8 [B, S, S, 3] RGB crops -> float32 latents [B, C, h, w]."""
        crops = np.asarray(crops)
        s = self.crop_size
        if crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[1:] != (s, s, 3):
            raise ValueError(f"encode takes uint8 [B, {s}, {s}, 3], got {crops.dtype} "
                             f"{list(crops.shape)}")
        return self._run("encode", {"image": crops}, ("image",), "latent",
                         pre={"image": crops_to_images})

    def swap(self, target: np.ndarray, source: np.ndarray) -> np.ndarray:
        """Latents [B, C, h, w] with the identity of ``source`` ([1, C, h, w] or [C, h, w])."""
        target = self._latents(target, "target")
        source = np.asarray(source, np.float32)
        if source.ndim == 3:
            source = source[None]
        if source.shape != (1, *target.shape[1:]):
            raise ValueError(f"swap source must be [1, {', '.join(map(str, target.shape[1:]))}]"
                             f", got {list(source.shape)}")
        return self._run("swap", {"target": target, "source": source}, ("target",), "latent")

    def sync(self, upper: np.ndarray, reference: np.ndarray, mel: np.ndarray) -> np.ndarray:
        """Lower-half latents [B, C, h/2, w] from upper halves, reference latents and mel windows.

        ``reference`` is [B, C, h, w], or [1, C, h, w] to use one reference for every frame;
        ``mel`` is float32 [B, 80, T] with T = ``mel_window``.
        """
        upper = self._latents(upper, "upper")
        reference = np.asarray(reference, np.float32)
        mel = np.asarray(mel, np.float32)
        b = upper.shape[0]
        if reference.ndim != 4 or reference.shape[0] not in (1, b):
            raise ValueError(f"sync reference must be [{b} or 1, C, h, w], got "
                             f"{list(reference.shape)}")
        if reference.shape[0] == 1 and b != 1:
            reference = np.broadcast_to(reference, (b, *reference.shape[1:]))
        if mel.shape != (b, MEL_BINS, self.mel_window):
            raise ValueError(f"sync mel must be [{b}, {MEL_BINS}, {self.mel_window}], got "
                             f"{list(mel.shape)}")
        return self._run("sync", {"upper": upper, "reference": reference, "mel": mel[:, None]},
                         ("upper", "reference", "mel"), "lower")

    @property
    def lips_window(self) -> int:
        """Mel frames the lips stage takes per video frame."""
        return int(self.selected("lips").inputs["mel"].shape[3])

    def lips(self, mel: np.ndarray) -> np.ndarray:
        """float32 [B, 40, 2] lip-shape change from the closed mouth, from mel [B, 80, T]."""
        return self.lips_with_features(mel)[0]

    def lips_with_features(self, mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shape change [B, 40, 2], the stage's last hidden layer [B, F]): the features let the
        engine refit the last layer to one actor in closed form (engine/mouth_sync.py)."""
        mel = np.asarray(mel, np.float32)
        t = self.lips_window
        if mel.ndim != 3 or mel.shape[1:] != (MEL_BINS, t):
            raise ValueError(f"lips mel must be [B, {MEL_BINS}, {t}], got {list(mel.shape)}")
        shape, features = self._run("lips", {"mel": mel[:, None]}, ("mel",),
                                    ("shape", "features"))
        return shape.reshape(len(mel), LIP_POINT_COUNT, 2), features.reshape(len(mel), -1)

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """float32 latents [B, C, h, w] -> uint8 [B, S, S, 3] RGB crops."""
        latent = self._latents(latent, "latent")
        return self._run("decode", {"latent": latent}, ("latent",), "image",
                         post=images_to_crops)

    # ---- internals ----

    def _require(self, stage: str) -> None:
        if stage not in self._entries:
            raise ModelError(f"model set '{self.model_set.id}' ({self.model_set.manifest_path}) "
                             f"has no {stage} model; choose a set that includes {stage}")

    @staticmethod
    def _latents(array: np.ndarray, what: str) -> np.ndarray:
        array = np.asarray(array, np.float32)
        if array.ndim != 4:
            raise ValueError(f"{what} must be a [B, C, h, w] latent, got {list(array.shape)}")
        return array

    def _select(self, stage: str, active: str) -> ModelEntry:
        candidates = self.model_set.stages[stage]
        for entry in candidates:
            if entry.allows(active):
                return entry
        variants = ", ".join(f"{e.id} ({e.precision}, {'/'.join(e.providers) or 'any'})"
                             for e in candidates)
        raise ModelError(f"model set '{self.model_set.id}' ({self.model_set.manifest_path}) has "
                         f"no {stage} model that runs on {active} (it has {variants}); choose "
                         "another provider or install the fp32 models")

    def _session(self, stage: str) -> LoadedSession:
        self._require(stage)
        with self._lock:
            loaded = self._loaded.get(stage)
            if loaded is not None:
                return loaded
            loaded = self._build(stage)
            self._loaded[stage] = loaded
            return loaded

    def _build(self, stage: str) -> LoadedSession:
        entry = self._entries[stage]
        plan = self._plan
        try:
            loaded = self._cache.get(entry, plan.providers, self.device_id)
        except SessionBuildError as err:
            # Only a failure of ORT itself may fall back; a tampered file or a manifest mismatch
            # must stop the job whatever the provider.
            if plan.active != "CUDA":
                raise
            cause = err.__cause__ or err
            if plan.requested == "cuda":
                if is_out_of_memory(cause):
                    raise ResourceError(f"GPU out of memory while loading {stage} ({entry.path})"
                                        "; choose the CPU provider or close other GPU programs"
                                        ) from err
                raise
            return self._fall_back_to_cpu(stage, one_line(str(cause), 300))
        if plan.active == "CUDA" and loaded.used != "CUDA":
            note = loaded.note or f"onnxruntime placed it on {loaded.used}"
            if plan.requested == "cuda":
                raise ModelError(f"CUDA was requested but onnxruntime could not use it for "
                                 f"{entry.path} (id {entry.id}): {note}; choose auto or cpu")
            if not entry.allows("cpu"):
                return self._fall_back_to_cpu(stage, note)
            self._notes[stage] = note
        return loaded

    def _fall_back_to_cpu(self, stage: str, why: str) -> LoadedSession:
        # "auto" promises a result, not a provider: a model that cannot run on CUDA runs on
        # CPU with an fp32 variant, and the report says so.
        entry = self._select(stage, "CPU")
        self._entries[stage] = entry
        self._notes[stage] = why
        return self._cache.get(entry, (CPU_EP,), self.device_id)

    def _run(self, stage: str, feeds: Mapping[str, np.ndarray], batched: tuple[str, ...],
             out_role: str | tuple[str, ...], pre: Mapping[str, Chunk] | None = None,
             post: Chunk | None = None):
        """The stage's output for ``out_role``, or a tuple of outputs for a tuple of roles."""
        loaded = self._session(stage)
        entry = self._entries[stage]
        total = feeds[batched[0]].shape[0]
        if any(feeds[r].shape[0] != total for r in batched):
            raise ValueError(f"{stage} inputs {', '.join(batched)} must share the batch size")
        pre = pre or {}
        roles = (out_role,) if isinstance(out_role, str) else tuple(out_role)
        out_names = [entry.outputs[r].name for r in roles]
        results: list[list[np.ndarray]] = []
        start = 0
        while start < total or (total == 0 and not results):
            n = min(self._batch_limit[stage], total - start)
            chunk = {}
            for role, array in feeds.items():
                part = array[start:start + n] if role in batched else array
                part = pre[role](part) if role in pre else part
                _check_feed(stage, role, entry.inputs[role], part)
                chunk[entry.inputs[role].name] = np.ascontiguousarray(
                    part, dtype=np.dtype(entry.inputs[role].dtype))
            try:
                outs = loaded.session.run(out_names, chunk)
            except Exception as err:  # ORT raises pybind types with no common base class
                if not is_out_of_memory(err):
                    raise ModelError(f"{stage} failed in model file {entry.path} (id {entry.id})"
                                     f": {one_line(str(err), 300)}; re-export the model or "
                                     "report a bug") from err
                if n <= 1:
                    where = "GPU" if loaded.used == "CUDA" else "RAM"
                    fix = ("choose the CPU provider or close other GPU programs"
                           if where == "GPU" else "close other programs or use a smaller clip")
                    raise ResourceError(f"{where} out of memory while running {stage} "
                                        f"({entry.path}); {fix}") from err
                # Remembered for later calls so every batch does not hit the wall again.
                self._batch_limit[stage] = max(1, n // 2)
                continue
            part_out = []
            for out in outs:
                out = np.asarray(out)
                if out.shape[0] != n:
                    raise ModelError(f"model file {entry.path} (id {entry.id}) returned a batch "
                                     f"of {out.shape[0]} for {n} inputs; re-export it with a "
                                     "dynamic batch axis")
                out = out.astype(np.float32, copy=False)
                part_out.append(post(out) if post else out)
            results.append(part_out)
            start += n
            if total == 0:
                break
        self._ran.add(stage)
        joined = [results[0][i] if len(results) == 1 else
                  np.concatenate([r[i] for r in results]) for i in range(len(roles))]
        return joined[0] if isinstance(out_role, str) else tuple(joined)
