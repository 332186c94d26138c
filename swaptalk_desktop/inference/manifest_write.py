"""Writing manifests: used by the exporter in training/ and by eval/synthetic_models.py.

Every writer validates the complete new manifest before replacing the file, and replaces it
atomically, so a failed or buggy export never leaves a broken manifest behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.atomic import write_bytes_atomic
from ..core.errors import ModelError
from .manifest import (
    SCHEMA_VERSION,
    Manifest,
    ModelEntry,
    ModelSet,
    SetSpec,
    TensorSpec,
    load_manifest,
    parse_manifest,
)
from .verify import sha256_file


def _tensor_json(spec: TensorSpec) -> dict[str, Any]:
    return {"name": spec.name, "shape": list(spec.shape), "dtype": spec.dtype}


def _rel(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        raise ModelError(f"model file {path} is not inside the manifest's folder {folder}; "
                         "copy it there first") from None


def entry_to_json(entry: ModelEntry, folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry.id, "stage": entry.stage, "file": _rel(entry.path, folder),
        "sha256": entry.sha256, "precision": entry.precision, "providers": list(entry.providers),
        "inputs": {r: _tensor_json(s) for r, s in entry.inputs.items()},
        "outputs": {r: _tensor_json(s) for r, s in entry.outputs.items()},
        "license": entry.license, "training_data": entry.training_data,
        "description": entry.description,
    }
    if entry.card is not None:
        data["card"] = _rel(entry.card, folder)
    if entry.metadata:
        data["metadata"] = dict(entry.metadata)
    return data


def set_to_json(spec: SetSpec | ModelSet) -> dict[str, Any]:
    stages = {stage: [e if isinstance(e, str) else e.id for e in entries]
              for stage, entries in spec.stages.items()}
    data: dict[str, Any] = {"id": spec.id, "description": spec.description,
                            "crop_size": spec.crop_size, "mel_window": spec.mel_window,
                            "stages": stages}
    if isinstance(spec, SetSpec) and spec.metadata:
        data["metadata"] = dict(spec.metadata)
    return data


def write_manifest(path: Path | str, models: Iterable[ModelEntry],
                   sets: Iterable[SetSpec | ModelSet] = (), default_set: str | None = None
                   ) -> Manifest:
    """Write a manifest atomically and return it re-read, so a bad entry fails at export time."""
    path = Path(path)
    folder = path.resolve().parent
    data = {"schema_version": SCHEMA_VERSION, "default_set": default_set,
            "models": [entry_to_json(e, folder) for e in models],
            "model_sets": [set_to_json(s) for s in sets]}
    # Validate before touching the file so a bad export never replaces a good manifest.
    parse_manifest(data, path)
    write_bytes_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    return load_manifest(path)


def _existing(path: Path) -> Manifest | None:
    return load_manifest(path) if path.exists() else None


def add_model(manifest_path: Path | str, *, id: str, stage: str, file: Path | str,
              inputs: Mapping[str, TensorSpec], outputs: Mapping[str, TensorSpec],
              license: str, training_data: str, precision: str = "fp32",
              providers: Sequence[str] = (), description: str = "", card: Path | str | None = None,
              metadata: Mapping[str, Any] | None = None, replace: bool = False) -> ModelEntry:
    """Hash ``file`` and add (or with ``replace``, update) its entry in the manifest.

    ``file`` may be relative to the manifest's folder or absolute inside it. The manifest is
    created when it does not exist yet.
    """
    manifest_path = Path(manifest_path)
    folder = manifest_path.resolve().parent
    file_path = Path(file) if Path(file).is_absolute() else folder / file
    current = _existing(manifest_path)
    models = dict(current.models) if current else {}
    if id in models and not replace:
        raise ModelError(f"model manifest {manifest_path} already has a model '{id}'; "
                         "pass replace=True to update it")
    if not file_path.is_file():
        raise ModelError(f"model file {file_path} does not exist; export it before adding it to "
                         f"{manifest_path}")
    card_path = None if card is None else Path(card) if Path(card).is_absolute() else folder / card
    entry = ModelEntry(id=id, stage=stage, path=file_path.resolve(),
                       sha256=sha256_file(file_path), precision=precision,
                       providers=tuple(providers), inputs=dict(inputs), outputs=dict(outputs),
                       license=license, training_data=training_data, description=description,
                       card=card_path, metadata=dict(metadata or {}))
    models[id] = entry
    write_manifest(manifest_path, models.values(),
                   current.set_specs.values() if current else (),
                   current.default_set if current else None)
    return load_manifest(manifest_path).models[id]


def add_model_set(manifest_path: Path | str, *, id: str, stages: Mapping[str, Sequence[str]],
                  crop_size: int, mel_window: int, description: str = "",
                  make_default: bool = False, replace: bool = False) -> SetSpec:
    """Add a set binding model ids (of this manifest or another installed one) to stages."""
    manifest_path = Path(manifest_path)
    current = _existing(manifest_path)
    specs = dict(current.set_specs) if current else {}
    if id in specs and not replace:
        raise ModelError(f"model manifest {manifest_path} already has a model set '{id}'; "
                         "pass replace=True to update it")
    specs[id] = SetSpec(id=id, description=description, crop_size=crop_size,
                        mel_window=mel_window, stages={k: tuple(v) for k, v in stages.items()})
    default = id if make_default else (current.default_set if current else None)
    write_manifest(manifest_path, current.models.values() if current else (), specs.values(),
                   default)
    return specs[id]
