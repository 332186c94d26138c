"""Model manifests: which ONNX file implements which stage, with what tensors, and proof of origin.

The JSON schema (version 1) is documented in docs/models.md. Parsing is strict because a manifest
is often written by hand or by a training run that may have a bug: a typo in a key must fail
loudly here, naming the manifest, rather than as a confusing tensor error minutes into a render.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.errors import ModelError

SCHEMA_VERSION = 1

STAGES: tuple[str, ...] = ("encode", "swap", "sync", "decode")
AUX_STAGES: tuple[str, ...] = ("lips",)
"""Stages outside the latent path: ``lips`` predicts the lip shape from the audio (the
sync-only path picks the actor's own mouths by it; see faces/mouth_library.py)."""
KNOWN_STAGES: tuple[str, ...] = STAGES + AUX_STAGES
LIP_POINT_COUNT = 40
# Roles each stage binds to graph tensors, (inputs, outputs); see docs/architecture.md.
STAGE_ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "encode": (("image",), ("latent",)),
    "swap": (("target", "source"), ("latent",)),
    "sync": (("upper", "reference", "mel"), ("lower",)),
    "decode": (("latent",), ("image",)),
    "lips": (("mel",), ("shape", "features")),
}
# A set without encode or decode cannot produce a single frame.
REQUIRED_STAGES: tuple[str, ...] = ("encode", "decode")
PRECISIONS: tuple[str, ...] = ("fp32", "fp16")
PROVIDERS: tuple[str, ...] = ("cuda", "cpu")
DTYPES: tuple[str, ...] = ("float32", "float16")
MEL_BINS = 80

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MODEL_KEYS = {"id", "stage", "file", "sha256", "precision", "providers", "inputs", "outputs",
               "license", "training_data", "description", "card", "metadata"}
_SET_KEYS = {"id", "description", "crop_size", "mel_window", "stages", "metadata"}
_TOP_KEYS = {"schema_version", "models", "model_sets", "default_set", "metadata"}

Dim = int | str


@dataclass(frozen=True)
class TensorSpec:
    """One graph tensor: its name in the ONNX graph, shape (ints or symbolic names), dtype."""

    name: str
    shape: tuple[Dim, ...]
    dtype: str = "float32"


@dataclass(frozen=True)
class ModelEntry:
    id: str
    stage: str
    path: Path
    sha256: str
    precision: str
    providers: tuple[str, ...]
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    license: str
    training_data: str
    description: str = ""
    card: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __hash__(self) -> int:
        return hash((self.id, self.sha256, self.path))

    def allows(self, provider: str) -> bool:
        """Whether this variant may run on ``provider`` ("cuda" / "cpu"); fp16 is CUDA-only."""
        provider = provider.lower()
        if self.precision == "fp16" and provider != "cuda":
            return False
        return not self.providers or provider in self.providers


@dataclass(frozen=True)
class ModelSet:
    id: str
    description: str
    crop_size: int
    mel_window: int
    stages: dict[str, tuple[ModelEntry, ...]]
    manifest_path: Path

    def __hash__(self) -> int:
        return hash((self.id, self.manifest_path))

    def declared_latent_shape(self) -> tuple[int, int, int] | None:
        """(C, h, w) when the encoder's manifest entry gives all three as numbers."""
        for entry in self.stages["encode"]:
            dims = entry.outputs["latent"].shape[1:]
            if all(isinstance(d, int) for d in dims):
                return (int(dims[0]), int(dims[1]), int(dims[2]))
        return None


@dataclass(frozen=True)
class SetSpec:
    """A model set as written in a manifest: stage -> model ids, not yet resolved to entries.

    Kept separate from ModelSet because a set may name models from another manifest (an adapted
    set in the user folder reusing the shipped encoder); only the registry can resolve those.
    """

    id: str
    description: str
    crop_size: int
    mel_window: int
    stages: dict[str, tuple[str, ...]]
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class Manifest:
    path: Path
    models: dict[str, ModelEntry]
    set_specs: dict[str, SetSpec]
    default_set: str | None

    def __hash__(self) -> int:
        return hash(self.path)

    def resolve_sets(self, known_models: Mapping[str, ModelEntry] | None = None
                     ) -> dict[str, ModelSet]:
        """Sets with entries looked up in this manifest, then in ``known_models``."""
        return {spec.id: resolve_set(spec, self.path, self.models, known_models)
                for spec in self.set_specs.values()}

    @property
    def sets(self) -> dict[str, ModelSet]:
        return self.resolve_sets()


def _fail(path: Path, where: str, problem: str) -> ModelError:
    prefix = f"model manifest {path}"
    if where:
        prefix += f", {where}"
    return ModelError(f"{prefix}: {problem}; fix or reinstall the manifest")


def _check_keys(obj: Mapping[str, Any], allowed: set[str], path: Path, where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise _fail(path, where, f"unknown key(s) {', '.join(unknown)} "
                                 f"(allowed: {', '.join(sorted(allowed))})")


def _str(obj: Mapping[str, Any], key: str, path: Path, where: str, *, required: bool = True,
         default: str = "") -> str:
    value = obj.get(key, None)
    if value is None:
        if required:
            raise _fail(path, where, f"missing '{key}'")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(path, where, f"'{key}' must be a non-empty string")
    return value


def _positive_int(obj: Mapping[str, Any], key: str, path: Path, where: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(path, where, f"'{key}' must be a positive integer, got {value!r}")
    return value


def _relative_file(value: str, path: Path, where: str, key: str) -> Path:
    # Forward slashes on every OS; no absolute paths and no '..' so that a model folder is a
    # self-contained unit that can be copied or deleted as a whole.
    rel = PurePosixPath(value.replace("\\", "/"))
    if rel.is_absolute() or re.match(r"^[A-Za-z]:", value) or ".." in rel.parts:
        raise _fail(path, where, f"'{key}' must be a path relative to the manifest's folder "
                                 f"without '..', got {value!r}")
    return (path.parent / Path(*rel.parts)).resolve()


def _parse_tensor(raw: Any, path: Path, where: str) -> TensorSpec:
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "must be an object with name, shape and dtype")
    _check_keys(raw, {"name", "shape", "dtype"}, path, where)
    name = _str(raw, "name", path, where)
    shape = raw.get("shape")
    if not isinstance(shape, list) or not shape:
        raise _fail(path, where, "'shape' must be a non-empty list")
    for dim in shape:
        ok_int = isinstance(dim, int) and not isinstance(dim, bool) and dim > 0
        ok_sym = isinstance(dim, str) and bool(dim.strip())
        if not (ok_int or ok_sym):
            raise _fail(path, where, f"shape {shape} has {dim!r}; use positive integers "
                                     "or symbolic names like \"B\"")
    dtype = raw.get("dtype", "float32")
    if dtype not in DTYPES:
        raise _fail(path, where, f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    return TensorSpec(name=name, shape=tuple(shape), dtype=dtype)


def _check_role_shapes(stage: str, inputs: dict[str, TensorSpec], outputs: dict[str, TensorSpec],
                       path: Path, where: str) -> None:
    for role, spec in {**inputs, **outputs}.items():
        if len(spec.shape) != 4:
            raise _fail(path, where, f"{stage} tensor '{role}' must be 4-D (NCHW), "
                                     f"got shape {list(spec.shape)}")
    constants: list[tuple[str, int, int]] = []
    if stage == "encode":
        constants.append(("image", 1, 3))
    if stage == "decode":
        constants.append(("image", 1, 3))
    if stage == "swap":
        constants.append(("source", 0, 1))
    if stage in ("sync", "lips"):
        constants += [("mel", 1, 1), ("mel", 2, MEL_BINS)]
    if stage == "lips":
        constants += [("shape", 1, 1), ("shape", 2, LIP_POINT_COUNT), ("shape", 3, 2),
                      ("features", 1, 1), ("features", 2, 1)]
        if not isinstance(inputs["mel"].shape[3], int):
            raise _fail(path, where, "lips tensor 'mel' must give its window length as a number")
    for role, axis, want in constants:
        spec = inputs.get(role) or outputs[role]
        got = spec.shape[axis]
        if isinstance(got, int) and got != want:
            raise _fail(path, where, f"{stage} tensor '{role}' must have {want} at axis {axis}, "
                                     f"got shape {list(spec.shape)}")


def _parse_roles(raw: Any, roles: tuple[str, ...], kind: str, stage: str, path: Path,
                 where: str) -> dict[str, TensorSpec]:
    if not isinstance(raw, Mapping):
        raise _fail(path, where, f"'{kind}' must be an object mapping roles to tensors")
    missing = [r for r in roles if r not in raw]
    if missing:
        raise _fail(path, where, f"{kind} of a {stage} model must have role(s) "
                                 f"{', '.join(roles)}; missing {', '.join(missing)}")
    extra = sorted(set(raw) - set(roles))
    if extra:
        raise _fail(path, where, f"{kind} role(s) {', '.join(extra)} are not part of the "
                                 f"{stage} stage (expected {', '.join(roles)})")
    return {r: _parse_tensor(raw[r], path, f"{where} {kind}.{r}") for r in roles}


def _parse_model(raw: Any, index: int, path: Path) -> ModelEntry:
    where = f"models[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "must be an object")
    if isinstance(raw.get("id"), str):
        where = f"model '{raw['id']}'"
    _check_keys(raw, _MODEL_KEYS, path, where)
    model_id = _str(raw, "id", path, where)
    if not _ID.match(model_id):
        raise _fail(path, where, "id may use only letters, digits, '.', '_' and '-'")
    stage = _str(raw, "stage", path, where)
    if stage not in KNOWN_STAGES:
        raise _fail(path, where, f"unknown stage {stage!r} (known: {', '.join(KNOWN_STAGES)})")
    file = _relative_file(_str(raw, "file", path, where), path, where, "file")
    sha = _str(raw, "sha256", path, where).lower()
    if not _SHA256.match(sha):
        raise _fail(path, where, "'sha256' must be 64 hexadecimal digits")
    precision = raw.get("precision", "fp32")
    if precision not in PRECISIONS:
        raise _fail(path, where, f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    providers = raw.get("providers", [])
    if not isinstance(providers, list) or any(p not in PROVIDERS for p in providers):
        raise _fail(path, where, f"'providers' must be a list drawn from {', '.join(PROVIDERS)} "
                                 f"(empty = any), got {providers!r}")
    in_roles, out_roles = STAGE_ROLES[stage]
    inputs = _parse_roles(raw.get("inputs"), in_roles, "inputs", stage, path, where)
    outputs = _parse_roles(raw.get("outputs"), out_roles, "outputs", stage, path, where)
    _check_role_shapes(stage, inputs, outputs, path, where)
    card_raw = _str(raw, "card", path, where, required=False)
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise _fail(path, where, "'metadata' must be an object")
    return ModelEntry(
        id=model_id, stage=stage, path=file, sha256=sha, precision=precision,
        providers=tuple(providers), inputs=inputs, outputs=outputs,
        license=_str(raw, "license", path, where),
        training_data=_str(raw, "training_data", path, where),
        description=_str(raw, "description", path, where, required=False),
        card=_relative_file(card_raw, path, where, "card") if card_raw else None,
        metadata=dict(metadata),
    )


def _parse_set(raw: Any, index: int, path: Path) -> SetSpec:
    where = f"model_sets[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "must be an object")
    if isinstance(raw.get("id"), str):
        where = f"model set '{raw['id']}'"
    _check_keys(raw, _SET_KEYS, path, where)
    set_id = _str(raw, "id", path, where)
    if not _ID.match(set_id):
        raise _fail(path, where, "id may use only letters, digits, '.', '_' and '-'")
    crop = _positive_int(raw, "crop_size", path, where)
    mel_window = _positive_int(raw, "mel_window", path, where)
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, Mapping):
        raise _fail(path, where, "'stages' must map stage names to lists of model ids")
    stages: dict[str, tuple[str, ...]] = {}
    for stage, ids in stages_raw.items():
        if stage not in KNOWN_STAGES:
            raise _fail(path, where, f"unknown stage {stage!r} (known: {', '.join(KNOWN_STAGES)})")
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise _fail(path, where, f"stage '{stage}' must list one or more model ids")
        stages[stage] = tuple(ids)
    missing = [s for s in REQUIRED_STAGES if s not in stages]
    if missing:
        raise _fail(path, where, f"missing required stage(s) {', '.join(missing)}")
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise _fail(path, where, "'metadata' must be an object")
    return SetSpec(id=set_id, description=_str(raw, "description", path, where, required=False),
                   crop_size=crop, mel_window=mel_window, stages=stages, metadata=dict(metadata))


def parse_manifest(data: Any, path: Path) -> Manifest:
    """Validate decoded JSON ``data`` read from ``path`` (used for messages and relative files)."""
    path = Path(path).resolve()
    if not isinstance(data, Mapping):
        raise _fail(path, "", "top level must be a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise _fail(path, "", f"schema_version {version!r} is not supported (this version of "
                              f"SwapTalk Desktop reads {SCHEMA_VERSION}); update the app")
    _check_keys(data, _TOP_KEYS, path, "")
    models_raw = data.get("models", [])
    sets_raw = data.get("model_sets", [])
    if not isinstance(models_raw, list) or not isinstance(sets_raw, list):
        raise _fail(path, "", "'models' and 'model_sets' must be lists")
    models: dict[str, ModelEntry] = {}
    for i, raw in enumerate(models_raw):
        entry = _parse_model(raw, i, path)
        if entry.id in models:
            raise _fail(path, f"models[{i}]", f"duplicate model id '{entry.id}'")
        models[entry.id] = entry
    specs: dict[str, SetSpec] = {}
    for i, raw in enumerate(sets_raw):
        spec = _parse_set(raw, i, path)
        if spec.id in specs:
            raise _fail(path, f"model_sets[{i}]", f"duplicate model set id '{spec.id}'")
        specs[spec.id] = spec
    default = data.get("default_set")
    if default is not None and default not in specs:
        raise _fail(path, "", f"default_set {default!r} is not one of this manifest's sets "
                              f"({', '.join(specs) or 'none'})")
    return Manifest(path=path, models=models, set_specs=specs, default_set=default)


def load_manifest(path: Path | str) -> Manifest:
    """Read and validate one manifest; sets are checked against its own models only lazily."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"model manifest {path} does not exist; reinstall the models") from None
    except OSError as err:
        raise ModelError(f"cannot read model manifest {path}: {err.strerror or err}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise _fail(path.resolve(), "", f"invalid JSON at line {err.lineno} column "
                                        f"{err.colno}: {err.msg}") from err
    return parse_manifest(data, path)


def _dims(spec: TensorSpec, axes: slice) -> tuple[Dim, ...]:
    return tuple(spec.shape[axes])


def _compatible(a: Sequence[Dim], b: Sequence[Dim]) -> bool:
    # Symbolic dimensions match anything; only two numbers can disagree.
    return all(not (isinstance(x, int) and isinstance(y, int)) or x == y
               for x, y in zip(a, b, strict=True))


def _check_set_consistency(model_set: ModelSet) -> None:
    """Cross-stage checks: a set whose stages disagree on C, h, w, S or T cannot run."""
    path, where = model_set.manifest_path, f"model set '{model_set.id}'"
    s, t = model_set.crop_size, model_set.mel_window
    latent_ref: tuple[Dim, ...] | None = None
    for entry in model_set.stages.get("encode", ()):
        if not _compatible(_dims(entry.inputs["image"], slice(2, 4)), (s, s)):
            raise _fail(path, where, f"encode model '{entry.id}' takes "
                                     f"{list(entry.inputs['image'].shape)}, not {s}x{s} crops")
        latent_ref = _dims(entry.outputs["latent"], slice(1, 4))
    for entry in model_set.stages.get("decode", ()):
        if not _compatible(_dims(entry.outputs["image"], slice(2, 4)), (s, s)):
            raise _fail(path, where, f"decode model '{entry.id}' gives "
                                     f"{list(entry.outputs['image'].shape)}, not {s}x{s} crops")
    if latent_ref is None:
        return
    c, h, w = latent_ref
    if isinstance(h, int) and h % 2:
        raise _fail(path, where, f"latent height {h} is odd; it cannot split into upper/lower")
    half = h // 2 if isinstance(h, int) else "h/2"
    expect = {"latent": (c, h, w), "target": (c, h, w), "source": (c, h, w),
              "reference": (c, h, w), "upper": (c, half, w), "lower": (c, half, w)}
    for stage in ("swap", "sync", "decode"):
        for entry in model_set.stages.get(stage, ()):
            for role, spec in {**entry.inputs, **entry.outputs}.items():
                if role in expect and not _compatible(spec.shape[1:], expect[role]):
                    raise _fail(path, where, f"{stage} model '{entry.id}' has '{role}' "
                                             f"{list(spec.shape)} but the encoder gives latents "
                                             f"of C,h,w = {list(latent_ref)}")
    for entry in model_set.stages.get("sync", ()):
        if not _compatible(entry.inputs["mel"].shape[3:], (t,)):
            raise _fail(path, where, f"sync model '{entry.id}' takes mel "
                                     f"{list(entry.inputs['mel'].shape)} but mel_window is {t}")


def resolve_set(spec: SetSpec, manifest_path: Path, own: Mapping[str, ModelEntry],
                known: Mapping[str, ModelEntry] | None = None) -> ModelSet:
    stages: dict[str, tuple[ModelEntry, ...]] = {}
    where = f"model set '{spec.id}'"
    for stage in KNOWN_STAGES:
        entries = []
        for model_id in spec.stages.get(stage, ()):
            entry = own.get(model_id) or (known or {}).get(model_id)
            if entry is None:
                raise _fail(manifest_path, where, f"stage '{stage}' names unknown model id "
                                                  f"'{model_id}'")
            if entry.stage != stage:
                raise _fail(manifest_path, where, f"model '{model_id}' is a {entry.stage} model "
                                                  f"but is listed for stage '{stage}'")
            entries.append(entry)
        if entries:
            stages[stage] = tuple(entries)
    model_set = ModelSet(id=spec.id, description=spec.description, crop_size=spec.crop_size,
                         mel_window=spec.mel_window, stages=stages, manifest_path=manifest_path)
    _check_set_consistency(model_set)
    return model_set


TRAIN_WEIGHTS_SUFFIX = ".train.safetensors"


def train_weights_file(model_set: ModelSet) -> Path:
    """The torch weights a set's latent stages were exported from (adaptation starts there).

    ``<set id>.train.safetensors`` beside the set's manifest; for a set that reuses another
    set's latent stages (e.g. v2 = v1's stages + a lips stage), the one weights file in the
    folder of its decoder. The first candidate is returned when none exists, so the error
    names the file a user would expect."""
    own = model_set.manifest_path.parent / f"{model_set.id}{TRAIN_WEIGHTS_SUFFIX}"
    if own.is_file():
        return own
    for entry in model_set.stages.get("decode", ()):
        found = sorted(entry.path.parent.glob(f"*{TRAIN_WEIGHTS_SUFFIX}"))
        if len(found) == 1:
            return found[0]
    return own
