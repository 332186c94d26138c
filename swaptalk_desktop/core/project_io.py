"""Project files on disk: save, open, relink moved media; autosave and recent projects.

A project file is UTF-8 JSON (see ``project_format`` for the layout) written atomically, so a
crash or a full disk during a save leaves the previous file intact. Each save first copies the
file it replaces to ``NAME.swaptalk.bak`` (also atomically, and only when that file is a readable
project that differs from the new one), so a save that turns out bad, or a file damaged later,
still leaves the last good save beside it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from .atomic import write_bytes_atomic, write_text_atomic
from .errors import InputError
from .hashing import content_fingerprint
from .project import MediaItem, Project, normalize_path
from .project_format import (
    FORMAT_ID,
    FormatError,
    NewerFormatError,
    dumps,
    project_from_dict,
    project_to_dict,
)
from .recent import MAX_RECENT, RecentProjects
from .recovery import (
    RecoveryCandidate,
    SessionLock,
    autosave_path,
    discard_autosave,
    load_autosave,
    pending_recovery,
    recovery_for,
    write_autosave,
)

__all__ = ["BACKUP_SUFFIX", "MAX_RECENT", "PROJECT_SUFFIX", "FormatError", "NewerFormatError",
           "RecentProjects", "RecoveryCandidate", "SessionLock", "autosave_path", "backup_path",
           "discard_autosave", "find_moved_media", "load_autosave", "load_backup",
           "load_project", "pending_recovery", "recovery_for", "relink", "save_project",
           "write_autosave"]

log = logging.getLogger(__name__)
PROJECT_SUFFIX = ".swaptalk"
BACKUP_SUFFIX = ".bak"
MAX_SEARCH_FILES = 50_000


def backup_path(path: Path | str) -> Path:
    """Where the save before the last one of ``path`` is kept: ``NAME.swaptalk.bak`` beside it."""
    path = normalize_path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


def _document(raw: bytes) -> dict | None:
    """The file's document when it is a readable project file (any schema), else None."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT_ID else None


def _keep_backup(path: Path, new: dict) -> None:
    """Copy the project file about to be replaced to its backup.

    A file that is not a readable project (damaged since its last save) never replaces the
    backup, which then still holds the last good save; nor does a file with the same document
    as the new save (only ``saved_at`` differs), so saving twice keeps the older version.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    except OSError as err:
        log.warning("no backup of %s: %s", path, err)
        return
    old = _document(raw)
    if old is None:
        log.warning("%s is not a readable project; its backup is left as it was", path)
        return
    if {k: v for k, v in old.items() if k != "saved_at"} == \
            {k: v for k, v in json.loads(dumps(new)).items() if k != "saved_at"}:
        return
    write_bytes_atomic(backup_path(path), raw)


def save_project(project: Project, path: Path | str) -> None:
    """Write ``path`` atomically, keeping the file it replaces as ``backup_path(path)``."""
    path = normalize_path(path)
    data = project_to_dict(project, path.parent)
    data["saved_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = dumps(data)  # a document that cannot be written fails here, before any file changes
    _keep_backup(path, data)
    write_text_atomic(path, text)


def _json_problem(err: json.JSONDecodeError) -> str:
    # The decoder stops at the end of a cut-off file, or reads an unclosed string up to it.
    if not err.doc[err.pos:].strip() or err.msg.startswith("Unterminated string"):
        last = max(1, len(err.doc.rstrip().splitlines()))
        return (f"not valid JSON: the file ends early, at line {last}; it was cut off, "
                "e.g. by a full disk or a copy that did not finish")
    return f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"


def load_project(path: Path | str) -> Project:
    """Open a project; media not found where the file says are flagged ``missing``.

    Raises InputError (no file, a folder, unreadable), FormatError naming the file and what is
    wrong with it, or NewerFormatError (a newer version's file, naming both schema versions).
    """
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
        what = "is damaged" if FORMAT_ID in err.doc else "is not a SwapTalk project"
        raise FormatError(f"{path.name} {what} ({_json_problem(err)})") from None
    return project_from_dict(data, path.parent, path.name)


def load_backup(path: Path | str) -> Project:
    """The backup of the project file ``path`` (see ``save_project``), read as that file: media
    paths resolve from the project's folder."""
    return load_project(backup_path(path))


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
