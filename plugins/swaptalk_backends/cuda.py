"""The CUDA backend's probe: can ONNX Runtime really run on this GPU? (imported only when the
backend is considered, e.g. by the provider choice "auto" or "cuda")."""

from __future__ import annotations

from swaptalk_desktop.inference.providers import CudaStatus, cuda_status


def probe(device_id: int = 0) -> CudaStatus:
    """``usable``, a one-line ``reason`` and ORT's log as ``details``; cached per process."""
    return cuda_status(device_id)
