"""The plugin host: find plugins, read their manifests, load their code only when used.

Plugins (first-party ones in the repository's ``plugins/`` folder and third-party ones alike)
register an entry point in the group ``swaptalk_desktop.plugins`` whose value names a manifest
file inside a package: ``swaptalk_example_sharpen:swaptalk_plugin.toml``. The manifest is found
through the distribution's file list or the package's folder, so listing plugins never runs
their code. A plugin whose manifest is unreadable or invalid, or whose code fails to import or
raises when a contribution is used, is disabled for the rest of the process with a one-line
reason (``swaptalk plugins list``, Help ▸ Plugins…); everything else keeps working.
``SWAPTALK_DISABLE_PLUGINS`` (names separated by commas, or ``all``) turns plugins off.

Qt-free and torch-free: the inference and engine layers consult it. The how-to for plugin
authors is docs/plugins.md.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PluginError
from .plugin_manifest import KINDS, Contribution, Manifest, ManifestError, read_manifest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "swaptalk_desktop.plugins"
ENV_DISABLE = "SWAPTALK_DISABLE_PLUGINS"
DEFAULT_MANIFEST = "swaptalk_plugin.toml"


@dataclass
class Plugin:
    """One plugin as found: its manifest (when it could be read) and whether it is in use."""

    name: str
    source: str
    """Where it came from: ``entry point NAME = VALUE (distribution DIST VERSION)``."""
    manifest: Manifest | None = None
    enabled: bool = True
    reason: str = ""
    """Why it is disabled (one line), empty while enabled."""
    by_user: bool = False
    """Disabled on purpose (SWAPTALK_DISABLE_PLUGINS), not because it is broken."""
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.manifest.version if self.manifest else ""

    @property
    def display_name(self) -> str:
        return self.manifest.display_name if self.manifest else self.name

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        return self.manifest.contributions if self.manifest else ()

    @property
    def status(self) -> str:
        if self.enabled:
            return "enabled"
        return f"disabled by {ENV_DISABLE}" if self.by_user else f"disabled: {self.reason}"

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "display_name": self.display_name,
                "enabled": self.enabled, "by_user": self.by_user, "reason": self.reason,
                "source": self.source,
                "manifest": str(self.manifest.path) if self.manifest else None,
                "notes": list(self.notes),
                "contributions": [{"kind": c.kind, "id": c.id, "title": c.title,
                                   "version": c.version} for c in self.contributions]}


def disabled_by_env() -> set[str]:
    raw = os.environ.get(ENV_DISABLE, "")
    return {part.strip() for part in raw.replace(";", ",").split(",") if part.strip()}


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(err: BaseException) -> str:
    """``TypeName: message`` on one line, as the plugin reports show a plugin's failure."""
    message = _one_line(str(err))
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def _split_value(value: str) -> tuple[str, str]:
    module, _, filename = value.partition(":")
    return module.strip(), (filename.strip() or DEFAULT_MANIFEST)


def _from_dist_files(dist: metadata.Distribution | None, module: str,
                     filename: str) -> Path | None:
    """The manifest as listed in an installed distribution's RECORD (wheel installs)."""
    if dist is None:
        return None
    wanted = (*module.split("."), filename)
    for entry in dist.files or ():
        if tuple(entry.parts) == wanted:
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                return path
    return None


def _from_package_dirs(module: str, filename: str) -> Path | None:
    """The manifest in the package's folder, found without importing the package.

    ``find_spec`` of a top-level name asks the import finders (editable installs use one) but
    executes nothing; subpackages are then looked up as folders, since find_spec of a dotted
    name would import its parents.
    """
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None:
        return None
    folders = [Path(p) for p in (spec.submodule_search_locations or ())]
    for part in rest:
        folders = [f / part for f in folders if (f / part).is_dir()]
    for folder in folders:
        if (folder / filename).is_file():
            return folder / filename
    return None


def locate_manifest(entry_point: metadata.EntryPoint) -> Path:
    """The manifest file an entry point names; PluginError when it cannot be found."""
    module, filename = _split_value(entry_point.value)
    if not module:
        raise PluginError(f"entry point value {entry_point.value!r} names no package; write "
                          f"'package:{DEFAULT_MANIFEST}'")
    found = _from_dist_files(getattr(entry_point, "dist", None), module, filename)
    if found is None:
        try:
            found = _from_package_dirs(module, filename)
        except (ImportError, ValueError) as err:
            raise PluginError(f"cannot look up package {module}: {error_text(err)}") from err
    if found is None:
        raise PluginError(f"manifest {filename} not found in package {module} (is the package "
                          "installed, and the manifest included as package data?)")
    return found


def _source(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    owner = f" (distribution {dist.name} {dist.version})" if dist is not None else ""
    return f"entry point {ep.name} = {ep.value}{owner}"


class PluginHost:
    """The plugins of one process. Scans on first use; thread-safe."""

    def __init__(self, entry_points: Iterable[metadata.EntryPoint] | None = None,
                 disabled: Iterable[str] | None = None) -> None:
        self._given = None if entry_points is None else list(entry_points)
        self._disabled = set(disabled) if disabled is not None else None
        self._plugins: list[Plugin] | None = None
        self._loaded: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Plugin], None]] = []

    # ---- discovery ----

    def _entry_points(self) -> list[metadata.EntryPoint]:
        if self._given is not None:
            return self._given
        found: list[metadata.EntryPoint] = []
        # distribution by distribution: one with an unreadable entry_points.txt must not hide
        # the others' plugins (importlib.metadata.entry_points() would raise for all)
        for dist in metadata.distributions():
            try:
                found += [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
            except Exception as err:
                log.warning("skipping the entry points of %s: %s",
                            getattr(dist, "_path", dist), error_text(err))
        return found

    def _scan(self) -> list[Plugin]:
        off = disabled_by_env() if self._disabled is None else self._disabled
        plugins: list[Plugin] = []
        by_name: dict[str, Plugin] = {}
        owner: dict[tuple[str, str], str] = {}
        seen_values: set[tuple[str, str]] = set()
        for ep in self._entry_points():
            if (ep.name, ep.value) in seen_values:  # one distribution found twice on the path
                continue
            seen_values.add((ep.name, ep.value))
            plugin = Plugin(name=ep.name, source=_source(ep))
            plugins.append(plugin)
            try:
                manifest = read_manifest(locate_manifest(ep))
            except (PluginError, ManifestError) as err:
                self._set_disabled(plugin, str(err))
                continue
            except Exception as err:  # a broken distribution must not stop the others
                self._set_disabled(plugin, f"cannot read its manifest: {error_text(err)}")
                continue
            plugin.name, plugin.manifest = manifest.name, manifest
            plugin.notes += manifest.notes
            if manifest.name in by_name:
                self._set_disabled(plugin, f"the name {manifest.name} is already used by "
                                   f"{by_name[manifest.name].source}")
                continue
            by_name[manifest.name] = plugin
            if {manifest.name, ep.name, "all", "*"} & off:
                plugin.enabled, plugin.by_user = False, True
                continue
            clash = next((c for c in manifest.contributions if (c.kind, c.id) in owner), None)
            if clash is not None:
                self._set_disabled(plugin, f"its {clash.kind_name} '{clash.id}' is already "
                                   f"provided by plugin {owner[(clash.kind, clash.id)]}")
                continue
            owner.update({(c.kind, c.id): manifest.name for c in manifest.contributions})
        return plugins

    def plugins(self) -> list[Plugin]:
        with self._lock:
            if self._plugins is None:
                self._plugins = self._scan()
            return list(self._plugins)

    def plugin(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins() if p.name == name), None)

    def problems(self) -> list[str]:
        """One line per plugin disabled because it is broken (not those the user turned off)."""
        return [f"plugin {p.name}: {p.reason}" for p in self.plugins()
                if not p.enabled and not p.by_user]

    def contributions(self, kind: str) -> list[Contribution]:
        """The contributions of ``kind`` from enabled plugins, in discovery order."""
        if kind not in KINDS:
            raise ValueError(f"unknown contribution kind {kind!r}")
        return [c for p in self.plugins() if p.enabled for c in p.contributions
                if c.kind == kind]

    def find(self, kind: str, cid: str) -> Contribution:
        """The enabled contribution ``cid``; PluginError saying why it is not available."""
        for c in self.contributions(kind):
            if c.id == cid:
                return c
        name = KINDS[kind]
        for p in self.plugins():
            if not p.enabled and any(c.kind == kind and c.id == cid for c in p.contributions):
                raise PluginError(f"{name} '{cid}' comes from plugin {p.name}, which is "
                                  f"{p.status}; do without it, or fix or enable the plugin")
        have = ", ".join(c.id for c in self.contributions(kind)) or "none"
        raise PluginError(f"no {name} '{cid}' is installed (installed: {have}); see "
                          "'swaptalk plugins list'")

    # ---- using contributions ----

    def load(self, contribution: Contribution, attribute: str = "python_name") -> Any:
        """Import the object a contribution names (``python_name``, or another key of its
        data such as a backend's ``probe``). A failure disables the plugin and raises
        PluginError."""
        target = contribution.python_name if attribute == "python_name" else \
            contribution.data.get(attribute)
        if not target:
            raise PluginError(f"{contribution.label()} names no {attribute}")
        key = (contribution.plugin, target)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            self._require_enabled(contribution)
            module_name, _, attr = target.partition(":")
            try:
                obj: Any = importlib.import_module(module_name)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except Exception as err:  # an import error, or anything its module raises
                raise self.fail(contribution, f"cannot load {target}: {error_text(err)}",
                                err) from err
            self._loaded[key] = obj
            return obj

    def call(self, contribution: Contribution, *args: Any, attribute: str = "python_name",
             **kwargs: Any) -> Any:
        """Load and call a contribution's function; what it raises disables the plugin and
        comes back as PluginError (a SwapTalkError it raises on purpose is passed on)."""
        function = self.load(contribution, attribute)
        try:
            return function(*args, **kwargs)
        except PluginError:
            raise
        except Exception as err:
            raise self.fail(contribution, f"{contribution.kind_name} '{contribution.id}' "
                            f"raised {error_text(err)}", err) from err

    def fail(self, contribution: Contribution, reason: str,
             err: BaseException | None = None) -> PluginError:
        """Disable the contribution's plugin for this process; the error to raise."""
        plugin = self.plugin(contribution.plugin)
        if plugin is not None and plugin.enabled:
            self._set_disabled(plugin, reason)
            log.warning("plugin %s is disabled: %s", plugin.name, reason,
                        exc_info=(type(err), err, err.__traceback__) if err and
                        log.isEnabledFor(logging.DEBUG) else None)
        return PluginError(f"{contribution.label()} failed and its plugin is disabled: "
                           f"{reason}; update or remove the plugin, or do without it")

    def _require_enabled(self, contribution: Contribution) -> None:
        plugin = self.plugin(contribution.plugin)
        if plugin is not None and not plugin.enabled:
            raise PluginError(f"{contribution.label()} is not available: the plugin is "
                              f"{plugin.status}")

    def _set_disabled(self, plugin: Plugin, reason: str) -> None:
        plugin.enabled, plugin.reason = False, _one_line(reason)
        for listener in list(self._listeners):
            try:
                listener(plugin)
            except Exception:  # a listener (e.g. the GUI's note) must not break the host
                log.exception("plugin listener failed")

    def on_disabled(self, listener: Callable[[Plugin], None]) -> None:
        """Call ``listener(plugin)`` whenever a plugin is disabled from now on."""
        self._listeners.append(listener)


_host: PluginHost | None = None
_host_lock = threading.Lock()


def plugin_host() -> PluginHost:
    """The process-wide host (entry points of the installed distributions)."""
    global _host
    with _host_lock:
        if _host is None:
            _host = PluginHost()
        return _host


def set_plugin_host(host: PluginHost | None) -> PluginHost | None:
    """Replace the process-wide host (tests); None rescans on next use. Returns the old one."""
    global _host
    with _host_lock:
        old, _host = _host, host
        return old
