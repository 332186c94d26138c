"""Execution provider choice: CUDA when it really works, CPU otherwise, and why.

onnxruntime-gpu lists CUDAExecutionProvider whenever the CUDA build is installed, even when the
CUDA/cuDNN libraries or the GPU are missing; it then falls back to CPU inside session creation
and only says why on the native stderr (C++ std::cerr, not Python logging). The user should get
that reason in one line in the UI, not as a wall of red ORT log text in the terminal, so session
creation that involves CUDA runs with the native stderr redirected into a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import onnxruntime as ort

from ..core.errors import ModelError, PluginError
from ..core.plugin_manifest import INFERENCE_BACKEND, Contribution
from ..core.plugins import plugin_host

CUDA_EP = "CUDAExecutionProvider"
CPU_EP = "CPUExecutionProvider"
PROVIDER_CHOICES = ("auto", "cuda", "cpu")
"""The choices of the first-party backends; provider_choices() adds other plugins' backends."""

# A serialized ONNX model (IR 8, opset 17) with one Identity node on a float[1] tensor. Embedded
# so that probing CUDA needs neither the onnx package nor a model file.
_PROBE_MODEL = (b'\x08\x08\x12\x08swaptalk:;\n\x10\n\x01x\x12\x01y"\x08Identity\x12\x05probeZ'
                b'\x0f\n\x01x\x12\n\n\x08\x08\x01\x12\x04\n\x02\x08\x01b\x0f\n\x01y\x12\n\n'
                b'\x08\x08\x01\x12\x04\n\x02\x08\x01B\x04\n\x00\x10\x11')

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ORT_LINE = re.compile(r"\[(?P<level>[EWF]):onnxruntime:[^\]]*\]\s*(?P<msg>.*)")
_ORT_STATUS = re.compile(r"\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*(?P<msg>.*)")
_LIB_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/]\S*[\\/](?P<name>[^\\/\s]+\.(?:so|dll|dylib)\S*)")
_capture_lock = threading.Lock()


@dataclass(frozen=True)
class ProviderReport:
    """What was asked for, what ONNX Runtime actually used (read from the sessions), and why.

    ``used`` is "CUDA", "CPU", another provider's short name, or "mixed (...)" when stages landed
    on different providers. ``details`` keeps ORT's own log lines for a bug report.
    """

    requested: str
    used: str
    reason: str
    details: str = ""


def short_name(provider: str) -> str:
    return provider.removesuffix("ExecutionProvider") or provider


def one_line(text: str, limit: int = 400) -> str:
    text = " ".join(_ANSI.sub("", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def capture_native_stderr() -> Iterator[list[str]]:
    """Redirect fd 2 while the block runs; the captured text is appended to the yielded list.

    Lines that are not ORT's own log lines (another thread printing meanwhile) are written back
    to the real stderr afterwards so nothing else is swallowed. Where fd 2 cannot be duplicated
    (a windowed app without a console) the block simply runs uncaptured.
    """
    captured: list[str] = []
    with _capture_lock:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        try:
            tmp = tempfile.TemporaryFile()
        except OSError:
            tmp = None
        saved = -1
        if tmp is not None:
            try:
                saved = os.dup(2)
            except OSError:
                tmp.close()
                tmp = None
        if tmp is None:
            yield captured
            return
        with tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield captured
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                text = tmp.read().decode("utf-8", errors="replace")
                captured.append(text)
                others = [ln for ln in text.splitlines(keepends=True)
                          if (plain := _ANSI.sub("", ln).strip()) and not _ORT_LINE.search(plain)]
                if others:
                    with contextlib.suppress(OSError):
                        os.write(2, "".join(others).encode("utf-8", errors="replace"))


def ort_log_messages(text: str) -> list[tuple[str, str]]:
    """(level, message) of ORT log lines in ``text``, without colours, timestamps, source paths."""
    messages = []
    for raw in _ANSI.sub("", text).splitlines():
        match = _ORT_LINE.search(raw)
        if not match:
            continue
        msg = match.group("msg")
        status = _ORT_STATUS.search(msg)
        if status:
            msg = status.group("msg")
        msg = _LIB_PATH.sub(lambda m: m.group("name"), msg).strip()
        if msg:
            messages.append((match.group("level"), msg))
    return messages


def summarize_cuda_log(text: str) -> str:
    """One short reason from ORT's log, e.g. the missing library and the CUDA/cuDNN it needs."""
    parts = []
    for level, msg in ort_log_messages(text):
        # Warnings such as "no registered plugin EP device" are side notes of the real failure;
        # the errors and the "Failed to create ... Require CUDA x" warning carry the facts.
        if level == "W" and "Failed" not in msg and "Require" not in msg:
            continue
        # ORT's advice continues with a long install paragraph after these sentences.
        msg = msg.split(" Please install", 1)[0]
        if msg not in parts:
            parts.append(msg)
    return one_line("; ".join(parts))


def physical_cores() -> int:
    """Physical cores this process may use; 0 lets ORT decide (it also picks physical cores)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return 0
    cores = set()
    for cpu in cpus:
        try:
            with open(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list") as fh:
                cores.add(fh.read().strip())
        except OSError:
            return len(cpus)
    return len(cores)


def session_options(log_severity: int = 3) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Hyper-threads share the FPUs that convolutions saturate; more threads only add contention.
    options.intra_op_num_threads = physical_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # 3 = errors only: placement warnings ("some nodes were not assigned to the preferred
    # execution providers") are expected for small shape ops and would alarm users.
    options.log_severity_level = log_severity
    return options


def provider_args(providers: tuple[str, ...], device_id: int = 0) -> list[str | tuple[str, dict]]:
    args: list[str | tuple[str, dict]] = []
    extra = plugin_provider_options()
    for name in providers:
        if name in extra and name != CUDA_EP:
            args.append((name, dict(extra[name])))
        elif name == CUDA_EP:
            # kSameAsRequested: after an out-of-memory retry with a halved batch the arena should
            # not keep growing in power-of-two steps that no longer fit.
            args.append((name, {"device_id": str(device_id),
                                "arena_extend_strategy": "kSameAsRequested"}))
        else:
            args.append(name)
    return args


def create_session(source: str | bytes, providers: tuple[str, ...], device_id: int = 0,
                   log_severity: int = 3) -> tuple[ort.InferenceSession, str]:
    """Build a session; returns it with ORT's captured native log when CUDA was involved.

    ``enable_fallback=0``: ORT's Python wrapper would otherwise silently retry a failed session
    or run on CPU and print to stdout; this layer makes that choice itself and reports it.
    """
    args = provider_args(providers, device_id)
    if CUDA_EP not in providers:
        return ort.InferenceSession(source, session_options(log_severity), providers=args,
                                    enable_fallback=0), ""
    with capture_native_stderr() as captured:
        session = ort.InferenceSession(source, session_options(log_severity), providers=args,
                                       enable_fallback=0)
    return session, "".join(captured)


@dataclass(frozen=True)
class CudaStatus:
    usable: bool
    reason: str
    details: str = ""


_cuda_status: dict[int, CudaStatus] = {}
_cuda_lock = threading.Lock()


def cuda_status(device_id: int = 0, *, refresh: bool = False) -> CudaStatus:
    """Whether ORT can really run on CUDA device ``device_id`` (probed once per process)."""
    with _cuda_lock:
        if not refresh and device_id in _cuda_status:
            return _cuda_status[device_id]
        status = _probe_cuda(device_id)
        _cuda_status[device_id] = status
        return status


def _probe_cuda(device_id: int) -> CudaStatus:
    if CUDA_EP not in ort.get_available_providers():
        return CudaStatus(False, f"this onnxruntime build ({ort.__version__}) has no CUDA "
                                 "support; install onnxruntime-gpu")
    try:
        session, log = create_session(_PROBE_MODEL, (CUDA_EP, CPU_EP), device_id)
    except Exception as err:  # ORT raises its own exception types for a broken CUDA setup
        return CudaStatus(False, one_line(str(err)), str(err))
    if CUDA_EP not in session.get_providers():
        reason = summarize_cuda_log(log) or "onnxruntime did not enable CUDA and logged no reason"
        return CudaStatus(False, reason, _ANSI.sub("", log).strip())
    return CudaStatus(True, f"CUDA device {device_id} is usable", _ANSI.sub("", log).strip())


@dataclass(frozen=True)
class ProviderPlan:
    """The ORT provider list to build sessions with, and the short name of the first one."""

    requested: str
    providers: tuple[str, ...]
    active: str
    reason: str
    details: str = ""

    def report(self) -> ProviderReport:
        return ProviderReport(self.requested, self.active, self.reason, self.details)


@dataclass(frozen=True)
class Backend:
    """A provider choice ("cpu", "cuda", or another plugin's), from an inference backend
    contribution (docs/plugins.md); ``BUILTIN_CPU`` is the floor when no plugin gives "cpu"."""

    id: str
    title: str
    short: str
    providers: tuple[str, ...]
    auto_priority: int = 0
    contribution: Contribution | None = None

    @property
    def has_probe(self) -> bool:
        return self.contribution is not None and bool(self.contribution.data.get("probe"))

    @classmethod
    def from_contribution(cls, c: Contribution) -> Backend:
        return cls(c.id, c.title, c.data["short_name"], tuple(c.data["providers"]),
                   int(c.data["auto_priority"]), c)


BUILTIN_CPU = Backend("cpu", "CPU", "CPU", (CPU_EP,), -1)


def backends() -> dict[str, Backend]:
    """The provider choices besides "auto", by id: every enabled plugin's backends (the CPU and
    CUDA ones come from the first-party plugin in plugins/swaptalk_backends), and CPU always."""
    found = {c.id: Backend.from_contribution(c)
             for c in plugin_host().contributions(INFERENCE_BACKEND)}
    found.setdefault("cpu", BUILTIN_CPU)
    return found


def provider_choices() -> tuple[str, ...]:
    return ("auto", *backends())


def plugin_provider_options() -> dict[str, dict[str, str]]:
    """ORT options per provider name declared by the backends (the first backend naming a
    provider wins); CUDA's own options below are always applied."""
    options: dict[str, dict[str, str]] = {}
    for c in plugin_host().contributions(INFERENCE_BACKEND):
        for name, values in c.data.get("provider_options", {}).items():
            options.setdefault(name, dict(values))
    return options


def backend_status(backend: Backend, device_id: int = 0) -> CudaStatus:
    """Whether ``backend`` can run here: its plugin's probe, else whether this ORT build has
    its first provider. A probe that raises disables its plugin and counts as unusable."""
    if not backend.has_probe:
        if backend.providers[0] in ort.get_available_providers():
            return CudaStatus(True, f"{backend.short} was requested")
        return CudaStatus(False, f"this onnxruntime build ({ort.__version__}) has no "
                                 f"{backend.providers[0]}")
    try:
        result = plugin_host().call(backend.contribution, device_id, attribute="probe")
    except PluginError as err:
        return CudaStatus(False, str(err))
    if isinstance(result, bool):
        return CudaStatus(result, f"{backend.short} is usable" if result else
                          f"{backend.short} is not usable here")
    if isinstance(result, tuple):
        usable, reason, *rest = (*result, "")[:3]
        return CudaStatus(bool(usable), str(reason), str(rest[0]) if rest else "")
    return CudaStatus(bool(getattr(result, "usable", False)),
                      str(getattr(result, "reason", "")), str(getattr(result, "details", "")))


def plan_providers(requested: str = "auto", device_id: int = 0) -> ProviderPlan:
    """Resolve "auto" or a backend id ("cuda", "cpu", a plugin's) to providers, probing each
    backend rather than trusting ORT's list; "auto" takes the usable backend with the highest
    priority and says why the ones above it were not used."""
    choice = requested.lower().strip()
    table = backends()
    if choice != "auto" and choice not in table:
        raise ModelError(f"unknown provider {requested!r}; choose one of "
                         f"{', '.join(('auto', *table))}")
    if choice != "auto":
        backend = table[choice]
        status = backend_status(backend, device_id)
        if not status.usable:
            raise ModelError(f"{backend.short} was requested but is not usable: "
                             f"{status.reason}; choose auto or cpu")
        return ProviderPlan(choice, backend.providers, backend.short, status.reason,
                            status.details)
    skipped: list[CudaStatus] = []
    names: list[str] = []
    # the stable sort keeps discovery order among equal priorities
    for backend in sorted(table.values(), key=lambda b: -b.auto_priority):
        status = backend_status(backend, device_id)
        if status.usable:
            if not skipped:
                reason = status.reason if backend.has_probe else \
                    f"{backend.short}, the only backend installed"
                return ProviderPlan(choice, backend.providers, backend.short, reason,
                                    status.details)
            reason = "; ".join(f"{n} not used: {s.reason}" for n, s in zip(names, skipped,
                                                                           strict=True))
            return ProviderPlan(choice, backend.providers, backend.short, reason,
                                "\n".join(s.details for s in skipped if s.details))
        skipped.append(status)
        names.append(backend.short)
    raise ModelError("no inference backend is usable: " + "; ".join(
        f"{n}: {s.reason}" for n, s in zip(names, skipped, strict=True)))
