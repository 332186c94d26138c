"""What "auto" and "cuda" do when CUDA looked usable but a model's session cannot use it.

CUDA is simulated: the provider plan is patched to CUDA and a fake cache plays ORT's part.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaptalk_desktop.core.errors import ModelError, ResourceError
from swaptalk_desktop.inference import (
    LoadedSession,
    ProviderPlan,
    SessionBuildError,
    SessionCache,
    StageRunners,
)
from swaptalk_desktop.inference import runners as runners_module
from swaptalk_desktop.inference.providers import CPU_EP, CUDA_EP


class CudaTroubleCache:
    """CPU requests get real sessions; CUDA requests get ``outcome``."""

    def __init__(self, outcome: str) -> None:
        self.real, self.outcome = SessionCache(), outcome
        self.requests: list[tuple[str, tuple[str, ...]]] = []

    def get(self, entry, providers, device_id=0) -> LoadedSession:
        self.requests.append((entry.id, tuple(providers)))
        cpu = self.real.get(entry, (CPU_EP,))
        if CUDA_EP not in providers:
            return cpu
        if self.outcome == "ort-fell-back":
            return LoadedSession(cpu.session, "CPU", (CPU_EP,), note="libcudnn.so.9 not found")
        if self.outcome == "build-failed":
            raise SessionBuildError(f"cannot load model file {entry.path}: CUDA failure 100: "
                                    "no CUDA-capable device is detected")
        if self.outcome == "build-oom":
            raise SessionBuildError(f"cannot load model file {entry.path}: Failed to allocate "
                                    "memory for requested buffer")
        raise ModelError(f"model file {entry.path} (id {entry.id}) does not match the sha256")


def pretend_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    def plan(requested: str = "auto", device_id: int = 0) -> ProviderPlan:
        return ProviderPlan(requested, (CUDA_EP, CPU_EP), "CUDA", f"CUDA device {device_id} "
                                                                   "is usable")
    monkeypatch.setattr(runners_module, "plan_providers", plan)


def test_fp16_variants_are_chosen_for_cuda(monkeypatch, synthetic_sets) -> None:
    pretend_cuda(monkeypatch)
    r = StageRunners(synthetic_sets["syn-fp16"], cache=CudaTroubleCache("ok"))
    assert {e.precision for e in r.selected_models()} == {"fp16"}


@pytest.mark.parametrize("outcome", ["ort-fell-back", "build-failed"])
def test_auto_falls_back_to_fp32_on_cpu_and_says_so(monkeypatch, synthetic_sets,
                                                    outcome) -> None:
    pretend_cuda(monkeypatch)
    cache = CudaTroubleCache(outcome)
    r = StageRunners(synthetic_sets["syn-fp16"], provider="auto", cache=cache)
    x = np.random.default_rng(0).integers(0, 256, (2, 256, 256, 3), dtype=np.uint8)
    np.testing.assert_array_equal(r.decode(r.encode(x)), x)
    assert [e.id for e in r.used_models()] == ["syn-fp16-encode", "syn-fp16-decode"]
    assert cache.requests[:2] == [("syn-fp16-encode-fp16", (CUDA_EP, CPU_EP)),
                                  ("syn-fp16-encode", (CPU_EP,))]
    report = r.provider_report
    assert report.used == "CPU"
    assert "CUDA not used for encode" in report.reason
    assert "CUDA not used for decode" in report.reason


def test_fp32_model_that_ort_put_on_cpu_keeps_running_with_a_note(monkeypatch,
                                                                  synthetic_sets) -> None:
    pretend_cuda(monkeypatch)
    r = StageRunners(synthetic_sets["synthetic"], cache=CudaTroubleCache("ort-fell-back"))
    r.load(("encode",))
    assert r.provider_report.used == "CPU"
    assert "libcudnn.so.9 not found" in r.provider_report.reason


def test_tampered_file_is_not_a_reason_to_fall_back(monkeypatch, synthetic_sets) -> None:
    pretend_cuda(monkeypatch)
    r = StageRunners(synthetic_sets["syn-fp16"], cache=CudaTroubleCache("tampered"))
    with pytest.raises(ModelError, match="does not match the sha256"):
        r.load(("encode",))


def test_cuda_requested_never_falls_back(monkeypatch, synthetic_sets) -> None:
    pretend_cuda(monkeypatch)
    r = StageRunners(synthetic_sets["synthetic"], provider="cuda",
                     cache=CudaTroubleCache("ort-fell-back"))
    with pytest.raises(ModelError, match="CUDA was requested but onnxruntime could not use it "
                                         r"for .*libcudnn\.so\.9 not found; choose auto or cpu"):
        r.load(("encode",))
    r = StageRunners(synthetic_sets["synthetic"], provider="cuda",
                     cache=CudaTroubleCache("build-oom"))
    with pytest.raises(ResourceError, match="GPU out of memory while loading encode"):
        r.load(("encode",))
