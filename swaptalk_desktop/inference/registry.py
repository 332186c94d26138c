"""Where models are installed, and which model sets that makes available.

Search order: the shipped models (the repository's models/ folder, installed as package data),
each folder in SWAPTALK_MODELS_DIR, the caller's extra folders, the user model folder, then the
folders of plugins' model set sources (last, so a plugin never shadows what the user installed;
its default set counts only after the shipped one). In each, manifest.json directly inside
counts, and so does one in each immediate subfolder (an adapted set lives in its own subfolder
and may name models from earlier manifests, e.g. the shipped encoder). An id defined twice is a
conflict: the later manifest is set aside and reported, never allowed to shadow the earlier one
silently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from ..core.errors import ModelError, PluginError
from ..core.plugin_manifest import MODEL_SOURCE
from ..core.plugins import plugin_host
from .manifest import Manifest, ModelEntry, ModelSet, load_manifest, resolve_set
from .verify import check_file

APP_NAME = "swaptalk-desktop"
ENV_MODELS_DIR = "SWAPTALK_MODELS_DIR"
MANIFEST_NAME = "manifest.json"
BUILTIN_PACKAGE = "swaptalk_desktop.models"


def builtin_model_dir() -> Path:
    """The model sets shipped with the app: the repository's ``models/`` folder, installed as
    the package ``swaptalk_desktop.models`` (setup.py) and found through ``importlib.resources``,
    so an editable install finds the checkout's folder and a wheel or bundle its own copy.
    Where the package is not installed (a checkout put on sys.path by hand), the folder it
    would be installed to: it does not exist, and the search reports it as searched."""
    try:
        root = resources.files(BUILTIN_PACKAGE)
    except ModuleNotFoundError:
        root = None
    if isinstance(root, Path):
        return root
    return Path(__file__).resolve().parents[1] / "models"


def user_model_dir() -> Path:
    # appauthor=False: on Windows the default would nest the app name twice.
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


def env_model_dirs() -> list[Path]:
    raw = os.environ.get(ENV_MODELS_DIR, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def plugin_model_dirs() -> list[Path]:
    """The folders enabled plugins' model set sources name: a ``folder`` relative to the
    plugin's manifest, read without importing it, or what its ``python_name`` function returns
    (a source that raises disables its plugin, which the plugin report shows)."""
    host = plugin_host()
    dirs: list[Path] = []
    for source in host.contributions(MODEL_SOURCE):
        folder = source.data.get("folder")
        if folder is not None:
            dirs.append(source.root / folder)
            continue
        try:
            found = host.call(source)
            dirs += [Path(d).expanduser() for d in ([found] if isinstance(found, str | Path)
                                                    else found or ())]
        except PluginError:
            continue
        except TypeError as err:  # it returned something that is not a list of folders
            host.fail(source, f"model set source '{source.id}' returned {type(found).__name__}"
                      f", not a list of folders ({err})")
    return dirs


def find_manifests(folder: Path) -> list[Path]:
    """folder/manifest.json, then folder/*/manifest.json in name order."""
    found = []
    if (folder / MANIFEST_NAME).is_file():
        found.append(folder / MANIFEST_NAME)
    try:
        subdirs = sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return found
    found += [d / MANIFEST_NAME for d in subdirs if (d / MANIFEST_NAME).is_file()]
    return found


@dataclass(frozen=True)
class _Scan:
    manifests: tuple[Manifest, ...]
    models: dict[str, ModelEntry]
    sets: dict[str, ModelSet]
    default_set: str | None
    problems: tuple[ModelError, ...]
    plugin_dirs: tuple[Path, ...] = ()


class ModelRegistry:
    """Installed models and sets; scanned on first use, rescanned by ``refresh()``."""

    def __init__(self, extra_dirs: Iterable[Path | str] = (), include_builtin: bool = True,
                 include_user: bool = True, include_plugins: bool = True) -> None:
        dirs: list[Path] = []
        if include_builtin:
            dirs.append(builtin_model_dir())
        dirs += env_model_dirs()
        dirs += [Path(d).expanduser() for d in extra_dirs]
        if include_user:
            dirs.append(user_model_dir())
        self._include_plugins = include_plugins
        self._user_dirs: tuple[Path, ...] = tuple(dirs)
        self._scan: _Scan | None = None
        self._lock = threading.Lock()

    @property
    def search_dirs(self) -> tuple[Path, ...]:
        """Every folder searched, in order (plugins' folders as of the last scan)."""
        return self._user_dirs + self._state().plugin_dirs

    def refresh(self) -> None:
        with self._lock:
            self._scan = None

    def _state(self) -> _Scan:
        with self._lock:
            if self._scan is None:
                self._scan = self._do_scan()
            return self._scan

    def _do_scan(self) -> _Scan:
        plugin_dirs = tuple(plugin_model_dirs()) if self._include_plugins else ()
        paths: list[Path] = []
        for folder in self._user_dirs + plugin_dirs:
            for path in find_manifests(folder):
                # The same folder reached twice (e.g. SWAPTALK_MODELS_DIR pointing at models/)
                # is one install, not a conflict.
                if path.resolve() not in paths:
                    paths.append(path.resolve())
        manifests: list[Manifest] = []
        problems: list[ModelError] = []
        models: dict[str, ModelEntry] = {}
        owner: dict[str, Path] = {}
        for path in paths:
            try:
                manifest = load_manifest(path)
            except ModelError as err:
                problems.append(err)
                continue
            clash = next((i for i in manifest.models if i in models), None)
            if clash is not None:
                problems.append(ModelError(
                    f"model manifest {path} defines model id '{clash}', already defined by "
                    f"{owner[clash]} (earlier in the search order); rename or remove one of them"))
                continue
            manifests.append(manifest)
            for model_id, entry in manifest.models.items():
                models[model_id] = entry
                owner[model_id] = path
        sets: dict[str, ModelSet] = {}
        set_owner: dict[str, Path] = {}
        default: str | None = None
        shipped_default: str | None = None
        plugin_default: str | None = None
        shipped = builtin_model_dir().resolve()
        from_plugins = [d.resolve() for d in plugin_dirs]
        for manifest in manifests:
            resolved: dict[str, ModelSet] = {}
            try:
                for set_id, spec in manifest.set_specs.items():
                    if set_id in sets:
                        raise ModelError(
                            f"model manifest {manifest.path} defines model set '{set_id}', "
                            f"already defined by {set_owner[set_id]} (earlier in the search "
                            "order); rename or remove one of them")
                    resolved[set_id] = resolve_set(spec, manifest.path, manifest.models, models)
            except ModelError as err:
                problems.append(err)
                continue
            sets.update(resolved)
            set_owner.update(dict.fromkeys(resolved, manifest.path))
            if manifest.default_set is None:
                continue
            # The shipped default is only a fallback: a default named in a folder the user
            # chose (env, --models-dir, the user folder) is the newer, deliberate choice.
            where = manifest.path.resolve()
            if where.is_relative_to(shipped):
                shipped_default = shipped_default or manifest.default_set
            elif any(where.is_relative_to(d) for d in from_plugins):
                plugin_default = plugin_default or manifest.default_set
            elif default is None:
                default = manifest.default_set
        return _Scan(tuple(manifests), models, sets,
                     default or shipped_default or plugin_default, tuple(problems),
                     plugin_dirs)

    # ---- queries ----

    @property
    def problems(self) -> list[ModelError]:
        """Manifests that were set aside (unreadable, invalid, conflicting)."""
        return list(self._state().problems)

    def manifests(self) -> list[Manifest]:
        return list(self._state().manifests)

    def models(self) -> list[ModelEntry]:
        return list(self._state().models.values())

    def sets(self) -> list[ModelSet]:
        return list(self._state().sets.values())

    def default_set_id(self) -> str | None:
        """The first default_set in search order outside ``models/``, else the shipped one,
        else the first set found, else None."""
        state = self._state()
        if state.default_set is not None:
            return state.default_set
        return next(iter(state.sets), None)

    def _problem_note(self) -> str:
        problems = self._state().problems
        if not problems:
            return ""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"; a manifest was set aside: {problems[0]}{more}"

    def get_set(self, set_id: str | None = None) -> ModelSet:
        state = self._state()
        if not state.sets:
            searched = ", ".join(str(d) for d in self.search_dirs) or "no folders"
            raise ModelError(
                f"no models are installed (searched {searched}); install a model set into "
                f"{user_model_dir()} or point {ENV_MODELS_DIR} at a folder with a "
                f"{MANIFEST_NAME}{self._problem_note()}")
        wanted = set_id if set_id is not None else self.default_set_id()
        if wanted not in state.sets:
            raise ModelError(f"model set '{wanted}' is not installed; available: "
                             f"{', '.join(sorted(state.sets))}{self._problem_note()}")
        return state.sets[wanted]

    def verify(self, entry: ModelEntry) -> tuple[bool, str]:
        """Re-hash one model file now, ignoring the in-process memo."""
        return check_file(entry, use_memo=False)

    def verify_all(self) -> list[tuple[ModelEntry, bool, str]]:
        return [(entry, *self.verify(entry)) for entry in self.models()]
