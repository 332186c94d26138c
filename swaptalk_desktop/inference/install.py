"""Installing model sets into the user model folder (``swaptalk models install``).

A source is a folder with a ``manifest.json``, a folder whose subfolders have one (like the
repository's ``models/``), or a ``.zip`` of either. Each set folder is copied next to the user
model folder first, and only the copies are checked: every manifest must load, every model file
must match its sha256, no model or set id may clash with one already installed, and every set
must resolve (a set may use models of sets installed before it or with it). Then each folder is
renamed into place; on any failure nothing is installed and the user folder is as it was.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ModelError
from .manifest import Manifest, load_manifest
from .registry import ModelRegistry, find_manifests, user_model_dir
from .verify import check_file


@dataclass(frozen=True)
class InstalledFolder:
    folder: Path
    sets: tuple[str, ...]
    models: tuple[str, ...]
    replaced: bool


def _set_folders(source: Path) -> list[tuple[str, Path]]:
    """(destination name, folder) for each folder of ``source`` whose manifest defines
    something; a top-level manifest that defines nothing (``models/manifest.json``) is skipped."""
    found: list[tuple[str, Path]] = []
    for manifest_path in find_manifests(source):
        manifest = load_manifest(manifest_path)
        if not manifest.models and not manifest.set_specs:
            continue
        folder = manifest_path.parent
        found.append((folder.name, folder))
    if not found:
        raise ModelError(f"{source} has no manifest.json that defines models or model sets, "
                         "neither directly inside nor in a subfolder")
    return found


def _files_of(manifest: Manifest) -> Iterable[Path]:
    for entry in manifest.models.values():
        yield entry.path
        if entry.card is not None:
            yield entry.card


def _check_staged(manifest: Manifest, staged_root: Path) -> None:
    for path in _files_of(manifest):
        if not path.resolve().is_relative_to(staged_root.resolve()):
            raise ModelError(f"model manifest {manifest.path.name} names {path}, outside the "
                             "folder being installed; a set to install must hold its own files")
    bad = [message for entry in manifest.models.values()
           for ok, message in [check_file(entry, use_memo=False)] if not ok]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise ModelError(f"not installed: {bad[0]}{more}")


def _extract(archive: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                target = (into / name).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise ModelError(f"{archive} holds {name}, a path outside the archive's "
                                     "folder; it is not installed")
            zf.extractall(into)
    except zipfile.BadZipFile as err:
        raise ModelError(f"{archive} is not a readable zip file ({err})") from None
    entries = [p for p in into.iterdir() if not p.name.startswith(".")]
    # an archive of one folder (set.zip -> set/...) is that folder
    if len(entries) == 1 and entries[0].is_dir() and not (into / "manifest.json").is_file():
        return entries[0]
    return into


def install_model_sets(source: Path | str, *, replace: bool = False,
                       destination: Path | None = None) -> list[InstalledFolder]:
    """Copy the model sets of ``source`` into ``destination`` (the user model folder), checked
    as the module docstring says. ``replace`` lets a folder of the same name be replaced."""
    source = Path(source).expanduser()
    dest_root = user_model_dir() if destination is None else Path(destination)
    if not source.exists():
        raise ModelError(f"{source} does not exist; give a model set folder, a folder of them "
                         "or a .zip")
    dest_root.mkdir(parents=True, exist_ok=True)
    # beside the user folder, on its file system (renames are atomic) but outside its scan
    with tempfile.TemporaryDirectory(prefix=".models-install-", dir=dest_root.parent) as tmp:
        tmp_path = Path(tmp)
        if source.is_file():
            if source.suffix.lower() != ".zip":
                raise ModelError(f"{source} is a file but not a .zip; give a model set folder, "
                                 "a folder of them or a .zip")
            (tmp_path / "unpacked").mkdir()
            source = _extract(source, tmp_path / "unpacked")
        staged_root = tmp_path / "staged"
        staged_root.mkdir()
        plan: list[tuple[Path, Path]] = []  # (staged folder, destination folder)
        for name, folder in _set_folders(source):
            if folder.resolve() == dest_root.resolve() / name:
                raise ModelError(f"{folder} is already the installed copy")
            target = dest_root / name
            if target.exists() and not replace:
                raise ModelError(f"a model set folder {target} is already installed; pass "
                                 "--replace to replace it, or rename the folder to install")
            staged = staged_root / name
            if staged.exists():
                raise ModelError(f"{source} has two model set folders named '{name}'")
            shutil.copytree(folder, staged, symlinks=False)
            plan.append((staged, target))
        staged_manifests = [load_manifest(p) for p in find_manifests(staged_root)]
        for manifest in staged_manifests:
            _check_staged(manifest, staged_root)
        _check_fits(staged_manifests, staged_root, dest_root, [t for _, t in plan])
        installed: list[InstalledFolder] = []
        for staged, target in plan:
            manifest = load_manifest(staged / "manifest.json")
            replaced = target.exists()
            if replaced:
                old = tmp_path / f"replaced-{target.name}"
                target.rename(old)
            staged.rename(target)
            installed.append(InstalledFolder(target, tuple(manifest.set_specs),
                                             tuple(manifest.models), replaced))
        return installed


def _check_fits(staged: list[Manifest], staged_root: Path, dest_root: Path,
                replaced: list[Path]) -> None:
    """No id of ``staged`` is defined by what stays installed, and every staged set resolves."""
    keep_out = [p.resolve() for p in replaced]
    registry = ModelRegistry(extra_dirs=[dest_root])
    owners: dict[str, Path] = {}
    for manifest in registry.manifests():
        if any(manifest.path.resolve().is_relative_to(p) for p in keep_out):
            continue
        for key in [*manifest.models, *manifest.set_specs]:
            owners.setdefault(key, manifest.path)
    for manifest in staged:
        for key in [*manifest.models, *manifest.set_specs]:
            if key in owners:
                raise ModelError(f"not installed: id '{key}' of {manifest.path.parent.name} is "
                                 f"already defined by {owners[key]}; that set is installed "
                                 "already (or rename the ids in the manifest)")
    # searched before the installed folders: a set may use models installed earlier, and a
    # folder being replaced is the one set aside, not the staged copy
    trial = ModelRegistry(extra_dirs=[staged_root, dest_root])
    roots = (str(staged_root.resolve()), str(staged_root))
    for problem in trial.problems:
        text = str(problem)
        # the copy being replaced, set aside because the staged one came first, is fine
        if any(root in text and f"already defined by {root}" not in text for root in roots):
            for root in roots:
                text = text.replace(root, "<source>")
            raise ModelError(f"not installed: {text}")
