"""Provider choice and reporting, the session cache, and manifest/graph tensor checks."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from swaptalk_desktop.core.errors import ModelError
from swaptalk_desktop.inference import (
    SessionCache,
    StageRunners,
    TensorSpec,
    cuda_status,
    plan_providers,
    shared_session_cache,
)
from swaptalk_desktop.inference.providers import (
    CPU_EP,
    CUDA_EP,
    capture_native_stderr,
    physical_cores,
    summarize_cuda_log,
)
from swaptalk_desktop.inference.sessions import check_session_io

# What ORT 1.31 printed on a machine with onnxruntime-gpu but no CUDA libraries.
ORT_LOG = (
    "\x1b[0;93m2026-01-01 00:00:00.1 [W:onnxruntime:Default, onnxruntime_pybind_state.cc:856 "
    "operator()] No registered plugin EP device found for 'CUDAExecutionProvider' with "
    "device_id=0\x1b[m\n"
    "\x1b[1;31m2026-01-01 00:00:00.2 [E:onnxruntime:Default, provider_bridge_ort.cc:2458 "
    "operator()] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 "
    "onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL "
    ": Failed to load library /venv/lib/onnxruntime/capi/libonnxruntime_providers_cuda.so with "
    "error: libcublasLt.so.13: cannot open shared object file: No such file or directory\n"
    "\x1b[m\n"
    "\x1b[0;93m2026-01-01 00:00:00.3 [W:onnxruntime:Default, onnxruntime_pybind_state.cc:1295 "
    "CreateExecutionProviderFactoryInstance] Failed to create CUDAExecutionProvider. Require "
    "cuDNN 9.* and CUDA 13.*. Please install all dependencies as mentioned in the GPU "
    "requirements page (https://onnxruntime.ai/docs/...), make sure they're in the PATH.\x1b[m\n"
)

needs_no_cuda = pytest.mark.skipif(cuda_status().usable, reason="this machine has usable CUDA")


def test_summarize_cuda_log_keeps_the_facts() -> None:
    reason = summarize_cuda_log(ORT_LOG)
    assert reason == ("Failed to load library libonnxruntime_providers_cuda.so with error: "
                      "libcublasLt.so.13: cannot open shared object file: No such file or "
                      "directory; Failed to create CUDAExecutionProvider. Require cuDNN 9.* and "
                      "CUDA 13.*.")


def test_capture_native_stderr_keeps_other_output(capfd: pytest.CaptureFixture) -> None:
    with capture_native_stderr() as captured:
        os.write(2, ORT_LOG.encode())
        os.write(2, b"unrelated line\n")
    assert "libcublasLt" in captured[0]
    err = capfd.readouterr().err
    assert "unrelated line" in err and "onnxruntime" not in err


def test_provider_report_says_what_ort_used(synthetic_sets) -> None:
    runners = StageRunners(synthetic_sets["synthetic"], provider="auto")
    runners.load()
    report = runners.provider_report
    assert report.requested == "auto"
    if cuda_status().usable:
        assert report.used == "CUDA"
    else:
        assert report.used == "CPU"
        assert report.reason.startswith("CUDA not used: ") and len(report.reason) > 30
        assert "CUDA" in report.details or "onnxruntime" in report.reason
    sessions_used = {runners._session(s).providers[0] for s in ("encode", "decode")}
    assert sessions_used == {CUDA_EP if report.used == "CUDA" else CPU_EP}


def test_cpu_report(synthetic_sets) -> None:
    runners = StageRunners(synthetic_sets["synthetic"], provider="CPU")
    assert runners.provider_report.used == "CPU"
    assert runners.provider_report.reason == "CPU was requested"


@needs_no_cuda
def test_cuda_requested_but_unusable_is_a_clear_error(synthetic_sets) -> None:
    with pytest.raises(ModelError) as err:
        StageRunners(synthetic_sets["synthetic"], provider="cuda")
    message = str(err.value)
    assert message.startswith("CUDA was requested but is not usable: ")
    assert message.endswith("; choose auto or cpu") and "\n" not in message


def test_unknown_provider() -> None:
    with pytest.raises(ModelError, match="unknown provider 'tpu'"):
        plan_providers("tpu")


def test_session_cache_reuses_sessions(synthetic_sets) -> None:
    cache = SessionCache()
    entry = synthetic_sets["synthetic"].stages["encode"][0]
    first = cache.get(entry, (CPU_EP,))
    assert cache.get(entry, (CPU_EP,)) is first and len(cache) == 1
    assert first.used == "CPU" and first.providers == (CPU_EP,) and first.note == ""
    # Same file content under another manifest id shares the session too.
    twin = dataclasses.replace(entry, id="twin")
    assert cache.get(twin, (CPU_EP,)) is first
    assert shared_session_cache() is shared_session_cache()


def test_runners_share_the_cache(synthetic_sets) -> None:
    cache = SessionCache()
    a = StageRunners(synthetic_sets["synthetic"], provider="cpu", cache=cache)
    b = StageRunners(synthetic_sets["syn-mel"], provider="cpu", cache=cache)
    a.load(("encode",))
    b.load(("encode",))  # identical encoder graph, same sha256
    assert a._session("encode") is b._session("encode") and len(cache) == 1


def _with(entry, kind: str, role: str, **changes):
    specs = dict(getattr(entry, kind))
    specs[role] = dataclasses.replace(specs[role], **changes)
    return dataclasses.replace(entry, **{kind: specs})


@pytest.mark.parametrize("kind, role, changes, expected", [
    ("inputs", "image", {"name": "pixels"}, "input 'pixels' (role image) is not in the graph"),
    ("outputs", "latent", {"dtype": "float16"}, "is float32 in the graph but float16"),
    ("inputs", "image", {"shape": ("B", 3, 128, 128)}, "size 256 at axis 2 instead of 128"),
    ("inputs", "image", {"shape": ("B", 3, 256)}, "rank 4 instead of 3"),
])
def test_manifest_session_mismatch_is_detected(synthetic_sets, kind, role, changes,
                                               expected) -> None:
    entry = synthetic_sets["synthetic"].stages["encode"][0]
    cache = SessionCache()
    bad = _with(entry, kind, role, **changes)
    with pytest.raises(ModelError) as err:
        cache.get(bad, (CPU_EP,))
    assert expected in str(err.value) and str(entry.path) in str(err.value)


def test_symbolic_manifest_dim_fixed_in_graph_is_detected(synthetic_sets) -> None:
    entry = synthetic_sets["synthetic"].stages["sync"][0]
    session = SessionCache().get(entry, (CPU_EP,)).session
    declared = _with(entry, "inputs", "mel", shape=("B", 1, 80, "T"))
    with pytest.raises(ModelError, match="fixed size 16 at axis 3 where the manifest declares 'T'"):
        check_session_io(session, declared)
    # A number where the graph is free is fine (the manifest is merely more specific).
    check_session_io(session, _with(entry, "inputs", "upper", shape=(4, 768, 8, 16)))


def test_undeclared_graph_input_is_detected(synthetic_sets) -> None:
    entry = synthetic_sets["synthetic"].stages["swap"][0]
    session = SessionCache().get(entry, (CPU_EP,)).session
    inputs = dict(entry.inputs)
    inputs["source"] = TensorSpec("target", entry.inputs["target"].shape)  # "source" unlisted
    with pytest.raises(ModelError, match="needs input.s. source that its manifest does not"):
        check_session_io(session, dataclasses.replace(entry, inputs=inputs))


def test_unloadable_file_is_a_model_error(tmp_path: Path, synthetic_dir: Path) -> None:
    from swaptalk_desktop.inference import sha256_file

    entry = dataclasses.replace(
        next(iter(_load(synthetic_dir).stages["encode"])), path=tmp_path / "junk.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"this is not a protobuf")
    entry = dataclasses.replace(entry, sha256=sha256_file(entry.path))
    with pytest.raises(ModelError, match=r"cannot load model file .*junk\.onnx"):
        SessionCache().get(entry, (CPU_EP,))


def _load(folder: Path):
    from swaptalk_desktop.inference import load_manifest

    return load_manifest(folder / "manifest.json").sets["synthetic"]


def test_session_options_use_physical_cores() -> None:
    from swaptalk_desktop.inference.providers import session_options

    cores = physical_cores()
    assert 0 <= cores <= (os.cpu_count() or 1)
    assert session_options().intra_op_num_threads == cores


def test_runners_survive_a_copy_of_the_set(tmp_path: Path, synthetic_dir: Path) -> None:
    # Moving a model folder keeps working: paths are relative to the manifest.
    shutil.copytree(synthetic_dir, tmp_path / "moved")
    runners = StageRunners(_load(tmp_path / "moved"), provider="cpu")
    crops = np.full((2, 256, 256, 3), 7, np.uint8)
    assert (runners.decode(runners.encode(crops)) == crops).all()


def test_cached_session_is_not_reused_for_a_tampered_copy(tmp_path):
    """Two manifests can name files with the same sha256; a copy tampered with after its
    manifest was written must be refused even though an intact twin already has a session."""
    import shutil

    from swaptalk_desktop.eval.synthetic_models import build_synthetic_set
    from swaptalk_desktop.inference import ModelRegistry, SessionCache

    build_synthetic_set(tmp_path / "a", set_id="a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    cache = SessionCache()
    entry_a = ModelRegistry(extra_dirs=[tmp_path / "a"], include_builtin=False,
                            include_user=False).get_set("a").stages["decode"][0]
    cache.get(entry_a, ("CPUExecutionProvider",))
    copy = next((tmp_path / "b").glob("*decode.onnx"))
    copy.write_bytes(copy.read_bytes()[:-1] + b"\0")
    entry_b = ModelRegistry(extra_dirs=[tmp_path / "b"], include_builtin=False,
                            include_user=False).get_set("a").stages["decode"][0]
    with pytest.raises(ModelError, match="sha256"):
        cache.get(entry_b, ("CPUExecutionProvider",))
