"""A plugin's declarative manifest: who it is and what it contributes, read without its code.

The manifest is a ``swaptalk_plugin.toml`` (or ``.json``) file inside the plugin's package; the
schema is documented in docs/plugins.md. Reading it never imports the plugin: a contribution
names its code as ``python_name = "package.module:attribute"``, imported only when the
contribution is used (napari's npe2 works the same way).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

SCHEMA_VERSION = 1
"""The manifest schema this version of SwapTalk Desktop reads."""

FRAME_PROCESSOR = "frame_processors"
INFERENCE_BACKEND = "inference_backends"
MODEL_SOURCE = "model_sources"
KINDS: dict[str, str] = {FRAME_PROCESSOR: "frame processor",
                         INFERENCE_BACKEND: "inference backend",
                         MODEL_SOURCE: "model set source"}
"""Contribution kinds (the manifest's table names) and how messages name them."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PYTHON_NAME = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_TOP_KEYS = {"schema", "name", "version", "display_name", "description", "contributions"}
_COMMON_KEYS = {"id", "title", "description", "version", "python_name"}
_KIND_KEYS = {FRAME_PROCESSOR: set(),
              INFERENCE_BACKEND: {"providers", "short_name", "auto_priority", "probe",
                                  "provider_options"},
              MODEL_SOURCE: {"folder"}}


class ManifestError(ValueError):
    """The manifest cannot be used; ``str()`` is one line saying what to fix."""


@dataclass(frozen=True)
class Contribution:
    """One thing a plugin adds, as its manifest declares it."""

    kind: str
    id: str
    title: str
    version: str
    plugin: str
    root: Path
    """The folder holding the manifest; relative paths in ``data`` are relative to it."""
    python_name: str | None = None
    description: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """The kind's own fields (e.g. ``providers`` of a backend), read-only."""

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def label(self) -> str:
        """How messages name it: ``frame processor 'example.sharpen' (plugin swaptalk-x)``."""
        return f"{self.kind_name} '{self.id}' (plugin {self.plugin})"


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    path: Path
    display_name: str = ""
    description: str = ""
    contributions: tuple[Contribution, ...] = ()
    notes: tuple[str, ...] = ()
    """What was read but ignored (e.g. a contribution kind this version does not know)."""


def read_manifest(path: Path) -> Manifest:
    """Parse and check the manifest file at ``path``; ManifestError says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ManifestError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        detail = " ".join(str(err).split())
        syntax = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ManifestError(f"{path.name} is not valid {syntax}: {detail}") from err
    return parse_manifest(raw, path)


def _text(raw: Mapping, key: str, where: str, *, required: bool = False,
          default: str = "") -> str:
    value = raw.get(key, None)
    if value is None:
        if required:
            raise ManifestError(f"{where} has no '{key}'")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise ManifestError(f"{where}: '{key}' must be a non-empty string, not {value!r}")
    return value


def parse_manifest(raw: Any, path: Path) -> Manifest:
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{path.name} must hold a table of keys")
    schema = raw.get("schema")
    if schema is None:
        raise ManifestError(f"{path.name} has no 'schema' (this version reads schema "
                            f"{SCHEMA_VERSION})")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ManifestError(f"{path.name}: 'schema' must be a whole number, not {schema!r}")
    if schema > SCHEMA_VERSION:
        raise ManifestError(f"{path.name} is written for plugin schema {schema}; this SwapTalk "
                            f"Desktop reads schema {SCHEMA_VERSION}; update SwapTalk Desktop")
    name = _text(raw, "name", path.name, required=True)
    if not _NAME.match(name):
        raise ManifestError(f"{path.name}: plugin name {name!r} may use only letters, digits, "
                            "'.', '-' and '_'")
    where = f"plugin {name}"
    version = _text(raw, "version", where, required=True)
    notes = [f"unknown key '{k}' ignored" for k in sorted(set(raw) - _TOP_KEYS)]
    contributions: list[Contribution] = []
    tables = raw.get("contributions", {})
    if not isinstance(tables, Mapping):
        raise ManifestError(f"{where}: 'contributions' must be a table of lists")
    for kind, entries in tables.items():
        if kind not in KINDS:
            notes.append(f"contribution kind '{kind}' is not known to this version; ignored")
            continue
        if not isinstance(entries, list):
            raise ManifestError(f"{where}: contributions.{kind} must be a list of tables")
        for index, entry in enumerate(entries):
            contributions.append(_contribution(kind, entry, f"{where}, {kind}[{index}]", name,
                                               version, path.parent))
    seen: set[tuple[str, str]] = set()
    for c in contributions:
        if (c.kind, c.id) in seen:
            raise ManifestError(f"{where} declares {c.kind_name} '{c.id}' twice")
        seen.add((c.kind, c.id))
    return Manifest(name=name, version=version, path=path,
                    display_name=_text(raw, "display_name", where, default=name),
                    description=_text(raw, "description", where),
                    contributions=tuple(contributions), notes=tuple(notes))


def _contribution(kind: str, entry: Any, where: str, plugin: str, plugin_version: str,
                  root: Path) -> Contribution:
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{where} must be a table")
    cid = _text(entry, "id", where, required=True)
    if not _ID.match(cid):
        raise ManifestError(f"{where}: id {cid!r} may use only lower-case letters, digits, "
                            "'.', '-' and '_'")
    where = f"{where} ('{cid}')"
    unknown = sorted(set(entry) - _COMMON_KEYS - _KIND_KEYS[kind])
    if unknown:
        raise ManifestError(f"{where} has unknown key(s) {', '.join(unknown)}")
    python_name = _python_name(entry, "python_name", where)
    data = {k: entry[k] for k in _KIND_KEYS[kind] if k in entry}
    if kind == FRAME_PROCESSOR and python_name is None:
        raise ManifestError(f"{where} has no 'python_name' (the function that processes "
                            "the crops)")
    if kind == MODEL_SOURCE:
        folder = entry.get("folder")
        if (folder is None) == (python_name is None):
            raise ManifestError(f"{where} needs exactly one of 'folder' (relative to the "
                                "manifest) or 'python_name' (a function returning folders)")
        if folder is not None and (not isinstance(folder, str) or not folder.strip()):
            raise ManifestError(f"{where}: 'folder' must be a path string")
    if kind == INFERENCE_BACKEND:
        data.update(_backend_fields(entry, where))
    return Contribution(kind=kind, id=cid, title=_text(entry, "title", where, default=cid),
                        version=_text(entry, "version", where, default=plugin_version),
                        plugin=plugin, root=root, python_name=python_name,
                        description=_text(entry, "description", where),
                        data=MappingProxyType(data))


def _python_name(entry: Mapping, key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _PYTHON_NAME.match(value):
        raise ManifestError(f"{where}: '{key}' must look like 'package.module:function', "
                            f"not {value!r}")
    return value


def _backend_fields(entry: Mapping, where: str) -> dict:
    providers = entry.get("providers")
    if not isinstance(providers, list) or not providers or \
            not all(isinstance(p, str) and p.endswith("ExecutionProvider") for p in providers):
        raise ManifestError(f"{where}: 'providers' must be a non-empty list of ONNX Runtime "
                            "provider names (e.g. [\"CUDAExecutionProvider\", "
                            "\"CPUExecutionProvider\"])")
    priority = entry.get("auto_priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise ManifestError(f"{where}: 'auto_priority' must be a whole number")
    options = entry.get("provider_options", {})
    if not isinstance(options, Mapping) or not all(
            isinstance(v, Mapping) and all(isinstance(x, str | int | float | bool)
                                           for x in v.values()) for v in options.values()):
        raise ManifestError(f"{where}: 'provider_options' must map provider names to tables "
                            "of plain values")
    short = entry.get("short_name", providers[0].removesuffix("ExecutionProvider"))
    if not isinstance(short, str) or not short:
        raise ManifestError(f"{where}: 'short_name' must be a non-empty string")
    return {"providers": tuple(providers), "auto_priority": priority, "short_name": short,
            "provider_options": {k: {n: _option_text(x) for n, x in v.items()}
                                 for k, v in options.items()},
            "probe": _python_name(entry, "probe", where)}


def _option_text(value: str | int | float | bool) -> str:
    """ONNX Runtime takes provider options as strings; booleans as "1"/"0"."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
