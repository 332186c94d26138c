"""Which files go into a dataset, what each is called, and whose face it shows."""

from __future__ import annotations

import csv
import hashlib
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
    kind: str           # "video" | "still"
    clip_id: str
    identity: str


def _find(folder: Path, suffixes: set[str], what: str) -> list[Path]:
    if folder.is_file() and folder.suffix.lower() in suffixes:
        return [folder]
    if not folder.is_dir():
        raise InputError(f"{what} folder {folder} does not exist; give a folder of "
                         f"{'videos' if what == 'videos' else 'photos'}")
    found = sorted(p for p in folder.rglob("*")
                   if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))
    return found


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


def identity_for(rel: str, mapping: dict[str, str], pattern: re.Pattern | None) -> str:
    name = rel.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    for key in (rel, name, stem):
        if key in mapping:
            return mapping[key]
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


def discover(videos: list[Path], stills: list[Path], identity_map: dict[str, str],
             pattern: re.Pattern | None = None) -> list[Source]:
    """Every video under ``videos`` and image under ``stills`` (folders, searched recursively,
    or single files), with unique clip ids."""
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
                                                                          pattern)))
    if not sources:
        where = ", ".join(str(p) for p in [*videos, *stills])
        raise InputError(f"no videos or photos found in {where}; give a folder holding "
                         f"{', '.join(sorted(VIDEO_SUFFIXES))} files")
    return sources
