"""ONNX Runtime inference: model manifests and registry, verified cached sessions, stage runners.

Imports neither Qt nor torch (nor the onnx package): the app renders with only onnxruntime.
"""

from .manifest import (
    SCHEMA_VERSION,
    STAGE_ROLES,
    STAGES,
    Manifest,
    ModelEntry,
    ModelSet,
    SetSpec,
    TensorSpec,
    load_manifest,
    parse_manifest,
)
from .manifest_write import add_model, add_model_set, write_manifest
from .providers import ProviderPlan, ProviderReport, cuda_status, plan_providers
from .registry import ModelRegistry, builtin_model_dir, env_model_dirs, user_model_dir
from .runners import StageRunners, crops_to_images, images_to_crops
from .sessions import (
    LoadedSession,
    SessionBuildError,
    SessionCache,
    check_session_io,
    shared_session_cache,
)
from .verify import check_file, forget_verified, sha256_file, verify_file

__all__ = [
    "SCHEMA_VERSION", "STAGES", "STAGE_ROLES", "LoadedSession", "Manifest", "ModelEntry",
    "ModelRegistry", "ModelSet", "ProviderPlan", "ProviderReport", "SessionBuildError",
    "SessionCache", "SetSpec", "StageRunners", "TensorSpec", "add_model", "add_model_set",
    "builtin_model_dir", "check_file", "check_session_io", "crops_to_images", "cuda_status",
    "env_model_dirs", "forget_verified", "images_to_crops", "load_manifest", "parse_manifest",
    "plan_providers", "sha256_file", "shared_session_cache", "user_model_dir", "verify_file",
    "write_manifest",
]
