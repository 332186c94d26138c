"""Which files go into a dataset, what each is called, and whose face it shows.

``--videos`` and ``--stills`` files are named and labelled as they always were (identity = the
file stem, an ``--identity-regex`` group or the identity map). ``--images`` folders are photo
collections whose identities are namespaced by the folder's name, so that two collections
cannot collide: ``lfw/George_W_Bush/George_W_Bush_0001.jpg`` is ``lfw:George_W_Bush`` (the
immediate sub-folder is the person), ``utkface/25_0_1_2017.jpg`` lying directly in the folder
is ``utkface:25_0_1_2017`` (one identity per file). ``NAME=DIR`` chooses the name.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import InputError

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Source:
    path: Path          # absolute
    rel: str            # path relative to the folder it was found in, posix
    kind: str           # "video" | "still" (--images photos are stills too)
    clip_id: str
    identity: str
    origin: str = ""    # "videos" | "stills" | the --images folder's name


RESERVED_NAMES = {"videos", "stills"}
_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class ImageFolder:
    """One ``--images`` argument: a folder of photos and the name its identities carry."""

    path: Path
    name: str


def image_folder(spec: str | Path | ImageFolder) -> ImageFolder:
    """``DIR`` (named after the folder) or ``NAME=DIR``."""
    if isinstance(spec, ImageFolder):
        return spec
    text = str(spec)
    name, sep, rest = text.partition("=")
    if sep and _NAME.match(name) and not Path(text).exists():
        path = Path(rest)
    else:
        path = Path(text)
        name = _UNSAFE.sub("_", path.resolve().name).strip("._")
    if not name or not _NAME.match(name):
        raise InputError(f"--images {text}: cannot name this folder; give NAME=DIR")
    if name in RESERVED_NAMES:
        raise InputError(f"--images {text}: {name!r} names the --{name} material; give "
                         f"another NAME=DIR")
    return ImageFolder(path, name)


def _file_identity(name: str) -> str:
    """A photo's own identity: its name without the suffix, and without the ``.jpg.chip``
    that UTKFace's aligned crops carry (``25_0_1_2017....jpg.chip.jpg`` -> ``25_0_1_2017...``)."""
    stem = name.rsplit(".", 1)[0]
    while "." in stem and ("." + stem.rsplit(".", 1)[1].lower()) in IMAGE_SUFFIXES | {".chip"}:
        stem = stem.rsplit(".", 1)[0]
    return stem


def unit_hash(text: str) -> float:
    """A stable number in [0, 1) for a name (the same on every machine and run)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _find(folder: Path, suffixes: set[str], what: str) -> list[Path]:
    if folder.is_file() and folder.suffix.lower() in suffixes:
        return [folder]
    if not folder.is_dir():
        raise InputError(f"{what} folder {folder} does not exist; give a folder of "
                         f"{'videos' if what == 'videos' else 'photos'}")
    found = sorted(p for p in folder.rglob("*")
                   if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))
    return found


def _find_photos(root: Path) -> list[Path]:
    """Every photo under ``root``, hidden files and folders left out (``os.walk``, not
    ``Path.rglob``: a photo collection holds tens of thousands of files, which ``rglob`` lists
    several times slower)."""
    if not root.is_dir():
        raise InputError(f"images folder {root} does not exist; give a folder of photos")
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in IMAGE_SUFFIXES:
                continue
            path = Path(folder, name)
            if path.is_file():
                found.append(path)
    return sorted(found)


def clip_id_for(rel: str, prefix: str = "") -> str:
    stem = rel.rsplit(".", 1)[0] if "." in Path(rel).name else rel
    safe = _UNSAFE.sub("_", stem.replace("/", "__")).strip("._") or "clip"
    return prefix + safe


def read_identity_map(path: Path | None) -> dict[str, str]:
    """``file,identity`` rows (a header row is allowed); keys are matched against the relative
    path, the file name and the stem of each source, in that order."""
    if path is None:
        return {}
    if not path.is_file():
        raise InputError(f"identity map {path} does not exist; give a CSV of file,identity rows")
    mapping: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for line, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].strip().startswith("#"):
                continue
            if len(row) < 2 or not row[1].strip():
                raise InputError(f"{path}:{line}: expected 'file,identity', got {','.join(row)!r}")
            key, ident = row[0].strip(), row[1].strip()
            if line == 1 and key.lower() == "file" and ident.lower() == "identity":
                continue
            mapping[key.replace("\\", "/")] = ident
    return mapping


def mapped_identity(rel: str, mapping: dict[str, str]) -> str | None:
    name = rel.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    for key in (rel, name, stem):
        if key in mapping:
            return mapping[key]
    return None


def identity_for(rel: str, mapping: dict[str, str], pattern: re.Pattern | None) -> str:
    stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    mapped = mapped_identity(rel, mapping)
    if mapped is not None:
        return mapped
    if pattern is not None:
        m = pattern.search(stem)
        if m:
            return m.group(1) if m.groups() else m.group(0)
    return stem


def compile_identity_regex(text: str | None) -> re.Pattern | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as err:
        raise InputError(f"--identity-regex {text!r} is not a valid regular expression "
                         f"({err})") from err


def subsample(files: list[tuple[str, str]], name: str, per_identity: int | None,
              total: int | None) -> set[str]:
    """The ``(rel, identity)`` files kept under the caps, as a set of ``rel``.

    Both caps go by hashes of names, never by listing order or chance: each identity keeps
    its ``per_identity`` photos whose ``NAME/rel`` hashes lowest; then whole identities are
    taken in the order of their name's hash until ``total`` photos are reached (the last one
    taken may be cut short). Whole people rather than scattered photos, so that same-person
    pairs survive. The choice depends only on the names: the same files give the same choice
    on every machine, a larger ``total`` keeps everything a smaller one chose (so does a larger
    ``per_identity`` without ``total``), and a file added later changes the choice only if it
    hashes into it.
    """
    by_identity: dict[str, list[str]] = {}
    for rel, ident in files:
        by_identity.setdefault(ident, []).append(rel)
    kept: set[str] = set()
    budget = total
    for ident in sorted(by_identity, key=lambda i: (unit_hash(f"{name}:{i}"), i)):
        rels = sorted(by_identity[ident], key=lambda r: (unit_hash(f"{name}/{r}"), r))
        if per_identity is not None:
            rels = rels[:per_identity]
        if budget is not None:
            rels = rels[:budget]
            budget -= len(rels)
        kept.update(rels)
        if budget == 0:
            break
    return kept


def discover_images(folders: list[ImageFolder], identity_map: dict[str, str],
                    per_identity: int | None = None, total: int | None = None,
                    taken: set[str] | None = None) -> list[Source]:
    """The photos of every ``--images`` folder (see the module doc), subsampled per folder:
    at most ``per_identity`` photos of one identity and ``total`` photos of one folder."""
    taken = set() if taken is None else taken
    names: dict[str, Path] = {}
    sources: list[Source] = []
    for folder in folders:
        root = Path(folder.path).resolve()
        if folder.name in names and names[folder.name] != root:
            raise InputError(f"two --images folders are both called {folder.name!r} "
                             f"({names[folder.name]}, {root}); name them: NAME=DIR")
        names[folder.name] = root
        if root.is_file():
            raise InputError(f"--images {root} is a file; give a folder of photos (use "
                             "--stills for single portraits)")
        labelled = []
        for path in _find_photos(root):
            rel = path.relative_to(root).as_posix()
            parts = rel.split("/")
            own = parts[0] if len(parts) > 1 else _file_identity(parts[0])
            # the identity map's names are used as given: that is how a photo is tied to a
            # person who also has videos
            ident = mapped_identity(rel, identity_map) or f"{folder.name}:{own}"
            labelled.append((path, rel, ident))
        if per_identity is not None or total is not None:
            keep = subsample([(rel, ident) for _, rel, ident in labelled], folder.name,
                             per_identity, total)
            labelled = [x for x in labelled if x[1] in keep]
        for path, rel, ident in labelled:
            cid = clip_id_for(rel, f"img-{folder.name}-")
            if cid in taken:
                cid += "-" + hashlib.sha1(str(path).encode()).hexdigest()[:6]
            taken.add(cid)
            sources.append(Source(path, rel, "still", cid, ident, folder.name))
    return sources


def discover(videos: list[Path], stills: list[Path], identity_map: dict[str, str],
             pattern: re.Pattern | None = None, images: list[ImageFolder] | None = None,
             max_images_per_identity: int | None = None,
             max_images: int | None = None) -> list[Source]:
    """Every video under ``videos``, image under ``stills`` (folders, searched recursively,
    or single files) and photo under ``images``, with unique clip ids."""
    sources: list[Source] = []
    taken: set[str] = set()
    for folders, suffixes, kind, prefix in ((videos, VIDEO_SUFFIXES, "video", ""),
                                            (stills, IMAGE_SUFFIXES, "still", "still-")):
        for folder in folders:
            folder = Path(folder).resolve()
            for path in _find(folder, suffixes, "videos" if kind == "video" else "stills"):
                rel = path.name if path == folder else path.relative_to(folder).as_posix()
                cid = clip_id_for(rel, prefix)
                if cid in taken:  # same relative path under two folders
                    cid += "-" + hashlib.sha1(str(path).encode()).hexdigest()[:6]
                taken.add(cid)
                sources.append(Source(path, rel, kind, cid, identity_for(rel, identity_map,
                                                                          pattern),
                                      "videos" if kind == "video" else "stills"))
    sources += discover_images(list(images or []), identity_map, max_images_per_identity,
                               max_images, taken)
    if not sources:
        where = ", ".join(str(p) for p in [*videos, *stills, *(f.path for f in images or [])])
        raise InputError(f"no videos or photos found in {where}; give a folder holding "
                         f"{', '.join(sorted(VIDEO_SUFFIXES))} files")
    return sources
