"""Project files on disk: save, open, relink moved media; autosave and recent projects.

A project file is UTF-8 JSON (see ``project_format`` for the layout) written atomically, so a
crash or a full disk during a save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .atomic import write_text_atomic
from .errors import InputError
from .hashing import content_fingerprint
from .project import MediaItem, Project, normalize_path
from .project_format import FormatError, dumps, project_from_dict, project_to_dict
from .recent import MAX_RECENT, RecentProjects
from .recovery import (
    RecoveryCandidate,
    SessionLock,
    autosave_path,
    discard_autosave,
    load_autosave,
    pending_recovery,
    write_autosave,
)

__all__ = ["MAX_RECENT", "PROJECT_SUFFIX", "FormatError", "RecentProjects", "RecoveryCandidate",
           "SessionLock", "autosave_path", "discard_autosave", "find_moved_media",
           "load_autosave", "load_project", "pending_recovery", "relink", "save_project",
           "write_autosave"]

PROJECT_SUFFIX = ".swaptalk"
MAX_SEARCH_FILES = 50_000


def save_project(project: Project, path: Path | str) -> None:
    path = normalize_path(path)
    data = project_to_dict(project, path.parent)
    data["saved_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_text_atomic(path, dumps(data))


def load_project(path: Path | str) -> Project:
    """Open a project; media not found where the file says are flagged ``missing``."""
    path = normalize_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"cannot open {path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"cannot open {path}: it is a folder, not a project file") from None
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise FormatError(f"{path.name} is not a SwapTalk project (not a text file)") from None
    except json.JSONDecodeError as err:
        raise FormatError(f"{path.name} is not a SwapTalk project (not JSON: {err.msg} at line "
                          f"{err.lineno})") from None
    return project_from_dict(data, path.parent, path.name)


def relink(project: Project, media_id: str, new_path: Path | str, *,
           force: bool = False) -> MediaItem:
    """Point a media item at its file's new place.

    A file with other contents is refused unless ``force`` (the user confirmed a replacement,
    e.g. a re-export): edits address frames, which another file may not have.
    """
    item = project.media_item(media_id)
    new_path = normalize_path(new_path)
    if not new_path.is_file():
        raise InputError(f"cannot relink {item.name}: {new_path} not found")
    fingerprint = content_fingerprint(new_path)
    if item.fingerprint and fingerprint != item.fingerprint and not force:
        raise InputError(f"{new_path.name} is not the same file as {item.name} (contents differ);"
                         " choose the original file or relink anyway")
    item.path, item.fingerprint, item.missing = new_path, fingerprint, False
    return item


def find_moved_media(project: Project, search_dir: Path | str) -> dict[str, Path]:
    """Missing items found under ``search_dir`` by content fingerprint: {media id: new path}.

    Files with the item's name are checked first, then files with its extension, so a folder
    of unrelated media costs one fingerprint (two MiB read) per candidate at most.
    """
    wanted: dict[str, list[MediaItem]] = {}
    for item in project.media.values():
        if item.missing and item.fingerprint:
            wanted.setdefault(item.fingerprint, []).append(item)
    if not wanted:
        return {}
    items = [item for group in wanted.values() for item in group]
    names = {item.name.lower() for item in items}
    suffixes = {item.path.suffix.lower() for item in items}
    by_name: list[Path] = []
    by_suffix: list[Path] = []
    seen = 0
    for root, dirs, files in os.walk(search_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file in sorted(files):
            seen += 1
            lower = file.lower()
            if lower in names:
                by_name.append(Path(root) / file)
            elif os.path.splitext(lower)[1] in suffixes:
                by_suffix.append(Path(root) / file)
        if seen > MAX_SEARCH_FILES:
            break
    found: dict[str, Path] = {}
    for candidate in by_name + by_suffix:
        try:
            fingerprint = content_fingerprint(candidate)
        except OSError:
            continue
        for item in wanted.pop(fingerprint, []):
            found[item.id] = normalize_path(candidate)
        if not wanted:
            break
    return found
