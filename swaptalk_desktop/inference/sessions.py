"""ONNX Runtime sessions: verified, checked against the manifest, cached and shared.

Building a session costs seconds for real models (graph optimisation, CUDA kernels), so one
session per (file content, providers, device) serves preview, render and export alike.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..core.errors import ModelError
from .manifest import ModelEntry, TensorSpec
from .providers import (
    CPU_EP,
    CUDA_EP,
    PROVIDER_CHOICES,
    ProviderPlan,
    ProviderReport,
    create_session,
    cuda_status,
    one_line,
    plan_providers,
    short_name,
    summarize_cuda_log,
)
from .verify import verify_file

__all__ = [
    "CPU_EP", "CUDA_EP", "PROVIDER_CHOICES", "LoadedSession", "ProviderPlan", "ProviderReport",
    "SessionBuildError", "SessionCache", "SessionSource", "check_session_io", "cuda_status",
    "plan_providers", "shared_session_cache",
]

_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16",
              "tensor(double)": "float64", "tensor(int64)": "int64", "tensor(int32)": "int32",
              "tensor(uint8)": "uint8", "tensor(bool)": "bool"}


class SessionBuildError(ModelError):
    """ONNX Runtime could not build a session from a verified file (e.g. on this provider).

    Distinct from the other ModelErrors (missing or tampered file, tensor mismatch) because only
    this one may be answered by trying another provider.
    """


@dataclass(frozen=True)
class LoadedSession:
    """A session plus what ORT really did with it.

    ``used`` is the short name of the session's first provider (from ``get_providers()``);
    ``note`` says why CUDA was asked for but not used, empty otherwise.
    """

    session: Any
    used: str
    providers: tuple[str, ...]
    note: str = ""
    log: str = ""


class SessionSource(Protocol):
    """What StageRunners needs from a cache; tests substitute fakes through this."""

    def get(self, entry: ModelEntry, providers: tuple[str, ...],
            device_id: int = 0) -> LoadedSession: ...


def _shape_problem(spec: TensorSpec, actual: Sequence[Any]) -> str | None:
    if len(actual) != len(spec.shape):
        return f"rank {len(actual)} instead of {len(spec.shape)}"
    for axis, (want, got) in enumerate(zip(spec.shape, actual, strict=True)):
        got_fixed = isinstance(got, int) and got > 0
        if isinstance(want, int) and got_fixed and got != want:
            return f"size {got} at axis {axis} instead of {want}"
        # The manifest promising a free dimension (batch, mel length) that the graph fixes would
        # break batching at run time, so it is reported now.
        if isinstance(want, str) and got_fixed:
            return f"fixed size {got} at axis {axis} where the manifest declares '{want}'"
    return None


def check_session_io(session: Any, entry: ModelEntry) -> None:
    """Raise ModelError when the graph's inputs/outputs disagree with the manifest entry."""
    for kind, declared, actual_list in (("input", entry.inputs, session.get_inputs()),
                                        ("output", entry.outputs, session.get_outputs())):
        actual = {a.name: a for a in actual_list}
        for role, spec in declared.items():
            where = f"model file {entry.path} (id {entry.id}) {kind} '{spec.name}' (role {role})"
            if spec.name not in actual:
                names = ", ".join(sorted(actual)) or "none"
                raise ModelError(f"{where} is not in the graph (it has {names}); fix the "
                                 "manifest or re-export the model")
            meta = actual[spec.name]
            dtype = _ORT_TYPES.get(meta.type, meta.type)
            if dtype != spec.dtype:
                raise ModelError(f"{where} is {dtype} in the graph but {spec.dtype} in the "
                                 "manifest; fix the manifest or re-export the model")
            problem = _shape_problem(spec, list(meta.shape))
            if problem:
                raise ModelError(f"{where} has shape {list(meta.shape)} in the graph, "
                                 f"{problem} of the manifest's {list(spec.shape)}; fix the "
                                 "manifest or re-export the model")
        if kind == "input":
            names = {s.name for s in declared.values()}
            extra = sorted(n for n in actual if n not in names)
            if extra:
                raise ModelError(f"model file {entry.path} (id {entry.id}) needs input(s) "
                                 f"{', '.join(extra)} that its manifest does not declare; "
                                 "fix the manifest or re-export the model")


class SessionCache:
    """Thread-safe cache of sessions keyed by (sha256, providers, device).

    The file is verified against its sha256 immediately before every session build, and every
    returned session has been checked against the requesting entry's declared tensors.
    """

    def __init__(self, log_severity: int = 3) -> None:
        self._log_severity = log_severity
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, tuple[str, ...], int], LoadedSession] = {}
        self._building: dict[tuple[str, tuple[str, ...], int], threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()

    def get(self, entry: ModelEntry, providers: tuple[str, ...],
            device_id: int = 0) -> LoadedSession:
        key = (entry.sha256, tuple(providers), device_id)
        with self._lock:
            loaded = self._sessions.get(key)
            build_lock = self._building.setdefault(key, threading.Lock())
        if loaded is None:
            # Per-key lock: two threads asking for the same model build it once, while other
            # models can still be built in parallel.
            with build_lock:
                with self._lock:
                    loaded = self._sessions.get(key)
                if loaded is None:
                    loaded = self._build(entry, tuple(providers), device_id)
                    with self._lock:
                        self._sessions[key] = loaded
        else:
            # A session cached for this sha256 may have been built from another copy of the
            # model; the file this entry names must itself be intact before it is "used".
            verify_file(entry)
        check_session_io(loaded.session, entry)
        return loaded

    def _build(self, entry: ModelEntry, providers: tuple[str, ...],
               device_id: int) -> LoadedSession:
        verify_file(entry)
        try:
            session, log = create_session(str(entry.path), providers, device_id,
                                          self._log_severity)
        except Exception as err:  # ORT raises pybind exception types with no common base
            raise SessionBuildError(f"cannot load model file {entry.path} (id {entry.id}) on "
                             f"{'/'.join(short_name(p) for p in providers)}: "
                             f"{one_line(str(err), 300)}; re-export it or update "
                             "onnxruntime") from err
        used = tuple(session.get_providers())
        note = ""
        if CUDA_EP in providers and CUDA_EP not in used:
            note = summarize_cuda_log(log) or "onnxruntime did not enable CUDA for this model"
        return LoadedSession(session=session, used=short_name(used[0]) if used else "?",
                             providers=used, note=note, log=log)


_shared: SessionCache | None = None
_shared_lock = threading.Lock()


def shared_session_cache() -> SessionCache:
    """The process-wide cache used when a caller does not bring its own."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SessionCache()
        return _shared
