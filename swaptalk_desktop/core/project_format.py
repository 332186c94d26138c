"""The project file format: Project <-> JSON-ready dict, schema versions and migrations.

Media paths are stored relative to the folder of the file being written (so a project folder
that moves together with its media keeps working), with the absolute path as a fallback hint.
Nothing here touches the disk except looking for media files when resolving paths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import InputError
from .hashing import content_fingerprint
from .project import (
    SCHEMA_VERSION,
    ClipState,
    Marker,
    MediaItem,
    Project,
    RangeEdit,
    SequenceClip,
    default_settings,
    normalize_path,
)

FORMAT_ID = "swaptalk-desktop-project"


def _v1_to_v2(data: dict) -> dict:
    """Schema 2 adds the sequence: a v1 project's clips, in the order the file lists them,
    each whole (a v1 project with one clip is a sequence of one). Each entry's id is its
    clip's media id, so that a migrated file reads the same every time."""
    clips = data.get("clips")
    sequence = [{"id": str(c["media_id"]), "media_id": str(c["media_id"]), "source_in": 0,
                 "source_out": None}
                for c in clips if isinstance(c, dict) and "media_id" in c] \
        if isinstance(clips, list) else []
    return {**data, "schema_version": 2, "sequence": sequence}


# MIGRATIONS[v] upgrades a file dict of schema v to schema v + 1 (pure dict -> dict). A change
# to the format bumps SCHEMA_VERSION and adds the step from the previous version here. Optional
# fields that older readers ignore and whose absence means the old behaviour (a clip's
# "model_set", a clip's "markers") need no bump; each is written only when it holds something.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}


class FormatError(InputError):
    """The data is not a project this version can read; ``str`` names the file and the cause."""


class NewerFormatError(FormatError):
    """A project written by a newer version (its schema is above ours): intact, just not ours
    to read, so a backup is no help; ``found`` and ``supported`` are the two schema versions."""

    def __init__(self, name: str, found: int, supported: int = SCHEMA_VERSION):
        super().__init__(f"{name} was made by a newer SwapTalk Desktop (schema {found}; this "
                         f"version reads up to {supported}); update SwapTalk Desktop to open it")
        self.found, self.supported = found, supported


def _json_default(value: Any) -> Any:
    # Summaries are filled from probes; keep a save from failing on a stray non-JSON value.
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a project file")


def dumps(data: dict, indent: int = 2) -> str:
    return json.dumps(data, indent=indent, ensure_ascii=False, default=_json_default) + "\n"


def _relative(path: Path, base_dir: Path | None) -> str | None:
    if base_dir is None:
        return None
    try:
        return PurePosixPath(Path(os.path.relpath(path, base_dir))).as_posix()
    except ValueError:  # another drive on Windows: only the absolute path can find it
        return None


def project_to_dict(project: Project, base_dir: Path | None) -> dict:
    """The document as written; ``base_dir`` is the folder relative paths start from."""
    media = []
    for item in project.media.values():
        media.append({"id": item.id, "kind": item.kind,
                      "path": _relative(item.path, base_dir),
                      "absolute_path": str(item.path),
                      "fingerprint": item.fingerprint, "summary": item.summary})
    clips = []
    for clip in project.clips.values():
        edits = [_edit_entry(e) for e in clip.edits]
        entry = {"media_id": clip.media_id, "mark_in": clip.mark_in,
                 "mark_out": clip.mark_out, "playhead": clip.playhead, "edits": edits}
        if clip.model_set is not None:  # optional: files without it read as before
            entry["model_set"] = clip.model_set
        if clip.markers:  # optional, likewise
            entry["markers"] = [{"id": m.id, "frame": m.frame, "name": m.name,
                                 "color": m.color} for m in clip.markers]
        clips.append(entry)
    sequence = [{"id": s.id, "media_id": s.media_id, "source_in": s.source_in,
                 "source_out": s.source_out} for s in project.sequence]
    data = {"format": FORMAT_ID, "schema_version": SCHEMA_VERSION, "media": media,
            "clips": clips, "sequence": sequence, "current_clip": project.current_clip,
            "settings": dict(project.settings), "pending_jobs": list(project.pending_jobs)}
    for key in ("sequence_in", "sequence_out"):  # optional, written only when set
        if getattr(project, key) is not None:
            data[key] = getattr(project, key)
    return data


def migrate(data: dict, name: str) -> dict:
    """Upgrade ``data`` step by step to the current schema, or say why it cannot be read."""
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise FormatError(f"{name} is not a SwapTalk project (no schema version)")
    if version > SCHEMA_VERSION:
        raise NewerFormatError(name, version)
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise FormatError(f"{name} uses schema {version}, which this version cannot "
                              "upgrade; open it in an older SwapTalk Desktop and save it again")
        data = step(dict(data))
        if data.get("schema_version") != version + 1:
            raise AssertionError(f"migration from schema {version} did not produce "
                                 f"schema {version + 1}")
        version += 1
    return data


def _locate(entry: dict, base_dir: Path | None, fingerprint: str) -> tuple[Path, bool]:
    """Where the media file is now, and whether it is missing.

    The relative path wins (the project folder moved with its media); the absolute one is the
    fallback (the project file moved alone). When both exist and differ, the fingerprint says
    which is the file the project was made with.
    """
    candidates: list[Path] = []
    if entry.get("path") is not None and base_dir is not None:
        candidates.append(normalize_path(base_dir / Path(str(entry["path"]))))
    if entry.get("absolute_path"):
        candidates.append(normalize_path(str(entry["absolute_path"])))
    if not candidates:
        raise KeyError("path")
    found = list(dict.fromkeys(p for p in candidates if p.is_file()))
    if len(found) > 1 and fingerprint:
        for path in found:
            try:
                if content_fingerprint(path) == fingerprint:
                    return path, False
            except OSError:
                continue
    if found:
        return found[0], False
    # Show the user the absolute path they remember, not one relative to a new folder.
    return candidates[-1], True


def _edit_entry(e: RangeEdit) -> dict:
    entry = {"id": e.id, "start": e.start, "stop": e.stop, "photo_id": e.photo_id,
             "audio_id": e.audio_id, "audio_offset": e.audio_offset, "swap": e.swap,
             "sync": e.sync, "feather": e.feather, "strength": e.strength,
             "color_match": e.color_match, "label": e.label}
    if e.swap_method != "warp":  # optional: files without it read as the default
        entry["swap_method"] = e.swap_method
    return entry


def _edit(d: dict) -> RangeEdit:
    known = {k: d[k] for k in ("photo_id", "audio_id", "audio_offset", "swap", "sync", "feather",
                               "strength", "color_match", "label", "swap_method") if k in d}
    return RangeEdit(id=str(d["id"]), start=d["start"], stop=d["stop"], **known)


def _marker(d: dict) -> Marker:
    known = {k: d[k] for k in ("name", "color") if k in d}
    return Marker(id=str(d["id"]), frame=d["frame"], **known)


def project_from_dict(data: Any, base_dir: Path | None, name: str) -> Project:
    """Read a (possibly older) file dict; raises FormatError naming ``name`` and the cause."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_ID:
        raise FormatError(f"{name} is not a SwapTalk project (no SwapTalk format marker)")
    data = migrate(data, name)
    where = "the file"
    try:
        project = Project(settings={**default_settings(), **dict(data.get("settings") or {})},
                          pending_jobs=list(data.get("pending_jobs") or []),
                          current_clip=data.get("current_clip"),
                          sequence_in=data.get("sequence_in"),
                          sequence_out=data.get("sequence_out"))
        for i, entry in enumerate(data["media"]):
            where = f"media entry {i + 1}"
            path, missing = _locate(entry, base_dir, str(entry.get("fingerprint", "")))
            item = MediaItem(id=str(entry["id"]), kind=entry["kind"], path=path,
                             fingerprint=str(entry.get("fingerprint", "")),
                             summary=dict(entry.get("summary") or {}), missing=missing)
            if item.id in project.media:
                raise ValueError(f"media id {item.id} appears twice")
            project.media[item.id] = item
        for i, entry in enumerate(data["clips"]):
            where = f"clip {i + 1}"
            clip = ClipState(media_id=str(entry["media_id"]), mark_in=entry.get("mark_in"),
                             mark_out=entry.get("mark_out"), playhead=entry.get("playhead", 0),
                             edits=[_edit(e) for e in entry.get("edits", [])],
                             model_set=entry.get("model_set"),
                             markers=[_marker(m) for m in entry.get("markers") or []])
            if clip.media_id in project.clips:
                raise ValueError(f"clip {clip.media_id} appears twice")
            project.clips[clip.media_id] = clip
        for i, entry in enumerate(data["sequence"]):
            where = f"sequence clip {i + 1}"
            project.sequence.append(SequenceClip(
                id=str(entry["id"]), media_id=str(entry["media_id"]),
                source_in=entry.get("source_in", 0), source_out=entry.get("source_out")))
        where = "the document"
        project.check_consistent()
    except KeyError as err:
        raise FormatError(f"{name} is not a SwapTalk project ({where} lacks {err})") from None
    except (TypeError, ValueError, AttributeError, InputError) as err:
        raise FormatError(f"{name} is damaged ({where}: {err}); restore it from a "
                          "backup") from None
    return project
