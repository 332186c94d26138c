"""Project <-> OpenTimelineIO timeline, and cuts from other editors (``.otio``, CMX 3600 EDL).

Export writes the timeline as other editors read it: a video track ``V1`` and an audio track
``A1``, each holding the clip (an ``ExternalReference`` to the media file as a ``file://`` URL,
with its available range) over its whole length. The clip's edits are OTIO markers over their
range (named as on the timeline, "Edit 1"…) whose ``metadata["swaptalk"]`` carries every setting
of the edit (face photo and dialogue by path and media id, dialogue offset, swap/sync, feather,
strength, colour match, label, target); project markers are zero-length OTIO markers with their
name and colour. The timeline's own ``metadata["swaptalk"]`` holds the rest of the project
(settings, the photos and dialogue in the media bin), so importing our own file gives back an
equal project.

A cut from another editor becomes a project with its first video clip's media as the clip:
the cut's source range becomes the in/out marks and its markers (on the clip, its track or the
timeline) become markers. Media it names that is not on disk (where the file says, or beside
the cut) is an ``InputError`` naming the file.

The project's sequence (issue 9) is what V1/A1 hold: each sequence clip in order, its
``source_range`` the clip's trim (a project without a sequence exports the open clip whole, or
the clips of ``clip_ids``). The timeline's metadata keeps the sequence as the project holds it,
so our own files import with it; a SwapTalk file without it (made before sequences) gets one
sequence clip per clip on V1, over its source range.
"""

from __future__ import annotations

import json
import math
import os
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..core.atomic import write_text_atomic
from ..core.errors import InputError, OutputError
from ..core.project import (
    DEFAULT_MARKER_COLOR,
    MARKER_COLORS,
    MAX_MARKER_NAME,
    ClipState,
    Marker,
    MediaItem,
    Project,
    RangeEdit,
    SequenceClip,
    default_settings,
    normalize_path,
    video_summary,
)
from ..core.project_format import dumps

KEY = "swaptalk"
"""The metadata namespace of everything this module writes."""
METADATA_VERSION = 1
IMPORT_SUFFIXES = (".otio", ".edl")
EDIT_MARKER_COLOR = "PURPLE"
TARGET = "largest"
"""The face a project's edits change (``app.project_jobs`` uses the engine's default)."""

# Our colours are OTIO's names; OTIO's pink and black have no twin here.
COLOR_TO_OTIO = {c: c.upper() for c in MARKER_COLORS}
OTIO_TO_COLOR = {**{c.upper(): c for c in MARKER_COLORS}, "PINK": "magenta", "BLACK": "white"}


@dataclass
class OtioImport:
    """What an import made: the project and one line for each thing of the cut left out."""

    project: Project
    warnings: list[str] = field(default_factory=list)
    from_swaptalk: bool = False
    """True when the file was written by SwapTalk Desktop (a full round trip)."""


# --- export ----------------------------------------------------------------------------------

def _rate(item: MediaItem) -> float:
    for key in ("fps", "nominal_fps"):
        value = item.summary.get(key)
        try:
            rate = float(Fraction(str(value))) if value is not None else 0.0
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0 and math.isfinite(rate):
            return rate
    raise InputError(f"cannot export {item.name}: its frame rate is not known; import the clip "
                     "again")


def _range(start: int, length: int, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate),
                                   otio.opentime.RationalTime(length, rate))


def _json_ready(value: Any) -> Any:
    """Plain JSON values (OTIO metadata holds only those)."""
    return json.loads(dumps(value))


def _media_entry(item: MediaItem) -> dict:
    return {"id": item.id, "kind": item.kind, "path": str(item.path),
            "fingerprint": item.fingerprint, "summary": _json_ready(item.summary)}


def _edit_metadata(project: Project, edit: RangeEdit) -> dict:
    def path_of(media_id: str | None) -> str | None:
        item = project.media.get(media_id) if media_id else None
        return str(item.path) if item else None

    return {"kind": "edit", "id": edit.id,
            "face_photo": path_of(edit.photo_id), "face_photo_id": edit.photo_id,
            "dialogue": path_of(edit.audio_id), "dialogue_id": edit.audio_id,
            "dialogue_offset_s": edit.audio_offset, "swap": edit.swap, "sync": edit.sync,
            "feather": edit.feather, "strength": edit.strength,
            "color_match": edit.color_match, "label": edit.label,
            "swap_method": edit.swap_method, "target": TARGET}


def _timeline_clip(project: Project, clip_id: str, sound: bool,
                   trim: tuple[int, int] | None = None) -> otio.schema.Clip:
    clip, item = project.clip(clip_id), project.media_item(clip_id)
    frames = item.frame_count
    if frames is None:
        raise InputError(f"cannot export {item.name}: its length is not known; import the clip "
                         "again")
    rate = _rate(item)
    whole = _range(0, frames, rate)
    ref = otio.schema.ExternalReference(target_url=item.path.as_uri(), available_range=whole)
    meta: dict[str, Any] = {"media_id": clip_id}
    if not sound:
        meta.update(media=_media_entry(item), mark_in=clip.mark_in, mark_out=clip.mark_out,
                    playhead=clip.playhead, model_set=clip.model_set)
    used = whole if trim is None else _range(trim[0], trim[1] - trim[0], rate)
    out = otio.schema.Clip(name=item.name, media_reference=ref, source_range=used,
                           metadata={KEY: meta})
    if sound:
        return out
    for number, edit in enumerate(clip.edits, 1):
        out.markers.append(otio.schema.Marker(
            name=edit.label or f"Edit {number}", marked_range=_range(edit.start, edit.length, rate),
            color=EDIT_MARKER_COLOR, metadata={KEY: _edit_metadata(project, edit)}))
    for marker in clip.markers:
        out.markers.append(otio.schema.Marker(
            name=marker.name, marked_range=_range(marker.frame, 0, rate),
            color=COLOR_TO_OTIO[marker.color],
            metadata={KEY: {"kind": "marker", "id": marker.id}}))
    return out


def project_to_timeline(project: Project, clip_ids: Sequence[str] | None = None,
                        name: str = "") -> otio.schema.Timeline:
    """The timeline of ``clip_ids`` one after another, each whole (default: the sequence, each
    clip trimmed; without a sequence, the open clip)."""
    trims: list[tuple[int, int] | None]
    if clip_ids is None and project.sequence:
        spans = project.sequence_spans()
        clip_ids = [sp.media_id for sp in spans]
        trims = [(sp.source_in, sp.source_out) for sp in spans]
    else:
        if clip_ids is None:
            current = project.current_clip or next(iter(project.clips), None)
            clip_ids = [current] if current else []
        trims = [None] * len(clip_ids)
    if not clip_ids:
        raise InputError("there is no clip in the timeline to export; open a clip first")
    clip_media = set(clip_ids)
    timeline = otio.schema.Timeline(name=name or project.media_item(clip_ids[0]).path.stem)
    timeline.metadata[KEY] = {
        "version": METADATA_VERSION, "current_clip": project.current_clip,
        "settings": _json_ready(dict(project.settings)),
        "media": [_media_entry(m) for m in project.media.values() if m.id not in clip_media],
        "sequence": [{"id": e.id, "media_id": e.media_id, "source_in": e.source_in,
                      "source_out": e.source_out} for e in project.sequence]}
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    for clip_id, trim in zip(clip_ids, trims, strict=True):
        video.append(_timeline_clip(project, clip_id, sound=False, trim=trim))
        audio.append(_timeline_clip(project, clip_id, sound=True, trim=trim))
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def export_otio(project: Project, output: Path | str,
                clip_ids: Sequence[str] | None = None) -> Path:
    """Write the timeline to ``output`` (``.otio``) atomically; returns the path written."""
    output = normalize_path(output)
    if output.suffix.lower() != ".otio":
        raise OutputError(f"cannot write {output.name}: an OpenTimelineIO file ends in .otio")
    if output.is_dir():
        raise OutputError(f"cannot write {output}: it is a folder")
    timeline = project_to_timeline(project, clip_ids, name=output.stem)
    write_text_atomic(output, otio.adapters.write_to_string(timeline, "otio_json"))
    return output


# --- import ----------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """OTIO's metadata containers as dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def _ours(thing: Any) -> dict:
    data = _plain(thing.metadata.get(KEY)) if KEY in thing.metadata else None
    return data if isinstance(data, dict) else {}


def _url_path(url: str) -> Path | None:
    """The local path a media URL names (file URL or plain path), None for other schemes."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(urllib.parse.unquote(parsed.path)))
    if len(parsed.scheme) > 1:  # http:, s3: … (one letter is a Windows drive)
        return None
    return Path(url)


def _find_media(where: str, base_dir: Path | None, name: str, clip_name: str) -> Path:
    """The file a cut names (as written, relative to the cut, or beside it), or InputError."""
    wanted = _url_path(where)
    if wanted is None:
        raise InputError(f"cannot import {name}: clip '{clip_name}' uses {where}, which is not "
                         "a file on this computer")
    candidates = [wanted] if wanted.is_absolute() else []
    if base_dir is not None:
        if not wanted.is_absolute():
            candidates.append(base_dir / wanted)
        candidates.append(base_dir / wanted.name)
    for candidate in candidates:
        if candidate.is_file():
            return normalize_path(candidate)
    shown = wanted if wanted.is_absolute() or base_dir is None else base_dir / wanted
    raise InputError(f"cannot import {name}: media file {normalize_path(shown)} (clip "
                     f"'{clip_name}') not found; put it there or beside {name}")


def _describe_video(path: Path, name: str) -> MediaItem:
    from ..media import probe
    info = probe(path)
    v = info.video
    if v is None or info.is_image:
        raise InputError(f"cannot import {name}: {path.name} is not a video")
    return MediaItem.from_file(path, "video", video_summary(v))


def _frame(time: otio.opentime.RationalTime, rate: float) -> int:
    return int(round(time.value_rescaled_to(rate)))


def _media_where(clip: otio.schema.Clip) -> str | None:
    ref = clip.media_reference
    url = getattr(ref, "target_url", None)
    if url:
        return str(url)
    if isinstance(ref, otio.schema.MissingReference) and os.path.splitext(clip.name)[1]:
        return clip.name  # an EDL with only "FROM CLIP NAME: take3.mov"
    return None


def _is_picture(clip: otio.schema.Clip) -> bool:
    return not isinstance(clip.media_reference, otio.schema.GeneratorReference)


def _video_clips(timeline: otio.schema.Timeline) -> list[otio.schema.Clip]:
    return [c for track in timeline.video_tracks() for c in track.find_clips()
            if _is_picture(c)]


class _Reader:
    def __init__(self, timeline: otio.schema.Timeline, base_dir: Path | None, name: str):
        self.timeline, self.base_dir, self.name = timeline, base_dir, name
        self.project = Project()
        self.warnings: list[str] = []
        self.meta = _ours(timeline)

    # media of the bin (our own files): by id, found on disk now
    def add_media(self, entry: dict, clip_name: str = "") -> MediaItem:
        path = _find_media(str(entry["path"]), self.base_dir, self.name,
                           clip_name or Path(str(entry["path"])).name)
        item = MediaItem.from_file(path, entry["kind"], dict(entry.get("summary") or {}),
                                   id=str(entry["id"]))
        self.project.media[item.id] = item
        return item

    def media_for(self, media_id: str | None, path: str | None, kind: str) -> str | None:
        """The id of an edit's photo or dialogue, added from its path when the bin lacks it."""
        if media_id and media_id in self.project.media:
            return media_id
        if not path:
            return None
        entry = {"id": media_id or Path(path).stem, "kind": kind, "path": path}
        return self.add_media(entry, Path(path).name).id

    def offset(self, clip: otio.schema.Clip, rate: float) -> int:
        available = getattr(clip.media_reference, "available_range", None)
        return _frame(available.start_time, rate) if available is not None else 0

    def read_swaptalk(self) -> None:
        for entry in self.meta.get("media") or []:
            self.add_media(entry)
        settings = self.meta.get("settings")
        self.project.settings = {**default_settings(), **(settings or {})}
        derived: list[SequenceClip] = []
        for clip in _video_clips(self.timeline):
            meta = _ours(clip)
            if "media" not in meta:
                self.warnings.append(f"clip '{clip.name}' is not from SwapTalk Desktop; left "
                                     "out")
                continue
            item = self.add_media(meta["media"], clip.name)
            state = ClipState(media_id=item.id, mark_in=meta.get("mark_in"),
                              mark_out=meta.get("mark_out"),
                              playhead=meta.get("playhead") or 0,
                              model_set=meta.get("model_set"))
            rate, offset = _rate(item), self.offset(clip, _rate(item))
            for marker in clip.markers:
                data = _ours(marker)
                start = _frame(marker.marked_range.start_time, rate) - offset
                if data.get("kind") == "edit":
                    stop = start + _frame(marker.marked_range.duration, rate)
                    state.edits.append(self.edit(data, start, stop))
                else:
                    self.add_marker(state, item, marker, start, data.get("id"))
            self.project.clips[item.id] = state
            used = clip.trimmed_range()
            first = _frame(used.start_time, rate) - offset
            derived.append(SequenceClip.new(item.id, first,
                                            first + _frame(used.duration, rate)))
        if "sequence" in self.meta:  # as the project held it
            self.project.sequence = [
                SequenceClip(str(e["id"]), str(e["media_id"]), int(e.get("source_in") or 0),
                             e.get("source_out"))
                for e in self.meta["sequence"] or [] if e.get("media_id") in self.project.clips]
        else:  # a SwapTalk file from before sequences: V1 as it is
            self.project.sequence = derived
        current = self.meta.get("current_clip")
        self.project.current_clip = current if current in self.project.clips else \
            next(iter(self.project.clips), None)

    def edit(self, d: dict, start: int, stop: int) -> RangeEdit:
        known = {k: d[k] for k in ("swap", "sync", "feather", "strength", "color_match",
                                   "label", "swap_method") if k in d}
        if "dialogue_offset_s" in d:
            known["audio_offset"] = d["dialogue_offset_s"]
        return RangeEdit(id=str(d.get("id") or RangeEdit.new(0, 1).id), start=start, stop=stop,
                         photo_id=self.media_for(d.get("face_photo_id"), d.get("face_photo"),
                                                 "photo"),
                         audio_id=self.media_for(d.get("dialogue_id"), d.get("dialogue"),
                                                 "audio"),
                         **known)

    def add_marker(self, state: ClipState, item: MediaItem, marker: otio.schema.Marker,
                   frame: int, marker_id: str | None = None) -> None:
        name = " ".join(str(marker.name).split())[:MAX_MARKER_NAME]
        frames = item.frame_count
        if frame < 0 or (frames is not None and frame >= frames):
            self.warnings.append(f"marker '{name or marker.name}' is outside the clip; left out")
            return
        if state.marker_at(frame) is not None:
            self.warnings.append(f"marker '{name}' shares frame {frame} with another; left out")
            return
        color = OTIO_TO_COLOR.get(str(marker.color).upper(), DEFAULT_MARKER_COLOR)
        state.markers.append(Marker(id=str(marker_id) if marker_id else Marker.new(0).id,
                                    frame=frame, name=name, color=color))

    def read_cut(self) -> None:
        clips = _video_clips(self.timeline)
        if not clips:
            raise InputError(f"cannot import {self.name}: it has no video clip")
        first = clips[0]
        where = _media_where(first)
        if where is None:
            raise InputError(f"cannot import {self.name}: clip '{first.name}' names no media "
                             "file")
        item = _describe_video(_find_media(where, self.base_dir, self.name, first.name),
                               self.name)
        self.project.media[item.id] = item
        rate, frames = _rate(item), item.frame_count or 0
        offset = self.offset(first, rate)
        source = first.trimmed_range()
        start = _frame(source.start_time, rate) - offset
        length = _frame(source.duration, rate)
        if not getattr(first.media_reference, "available_range", None) and \
                not 0 <= start < frames and start >= round(3600 * rate):
            hours = int(start // round(3600 * rate))  # source timecode from 01:00:00:00 etc.
            offset += hours * round(3600 * rate)
            start -= hours * round(3600 * rate)
            self.warnings.append(f"the cut's source timecode starts at hour {hours}; read as "
                                 f"{item.name}'s first frame")
        state = ClipState(media_id=item.id)
        if 0 <= start < frames:
            state.mark_in, state.mark_out = start, min(start + max(length, 1), frames)
            state.playhead = start
        else:
            self.warnings.append(f"the cut uses frames {start}-{start + length} of {item.name}, "
                                 f"which has {frames}; no in/out marks set")
        for marker in first.markers:
            self.add_marker(state, item, marker,
                            _frame(marker.marked_range.start_time, rate) - offset)
        # markers on the track or the timeline are in record time: over the first clip's cut
        in_parent = first.range_in_parent()
        cut_start = _frame(in_parent.start_time, rate)
        cut_stop = cut_start + _frame(in_parent.duration, rate)
        holders = [first.parent(), self.timeline.tracks]
        for holder in holders:
            for marker in holder.markers:
                at = _frame(marker.marked_range.start_time, rate)
                if cut_start <= at < cut_stop:
                    self.add_marker(state, item, marker, start + at - cut_start)
                else:
                    self.warnings.append(f"marker '{marker.name}' is not over the first clip; "
                                         "left out")
        state.sort()
        self.project.clips[item.id] = state
        self.project.current_clip = item.id
        # the sequence: that clip, trimmed to the cut's range where it lies in the clip
        self.project.sequence = [SequenceClip.new(item.id, state.mark_in or 0, state.mark_out)]
        if len(clips) > 1:
            self.warnings.append(f"the cut has {len(clips)} clips; only the first "
                                 f"({first.name}) is imported until sequences are supported")


def timeline_to_project(timeline: otio.schema.Timeline, base_dir: Path | None = None,
                        name: str = "the timeline") -> OtioImport:
    """A project from ``timeline``; media paths relative to ``base_dir`` (the cut's folder)."""
    reader = _Reader(timeline, base_dir, name)
    ours = bool(reader.meta)
    try:
        reader.read_swaptalk() if ours else reader.read_cut()
        reader.project.check_consistent()
    except InputError as err:
        text = str(err)
        raise InputError(text if name in text else f"cannot import {name}: {text}") from None
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"cannot import {name}: its SwapTalk data is damaged ({err})") from None
    return OtioImport(reader.project, reader.warnings, ours)


def _read(path: Path, **kwargs: Any) -> otio.schema.Timeline:
    adapter = "cmx_3600" if path.suffix.lower() == ".edl" else "otio_json"
    try:
        result = otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    except otio.exceptions.NoKnownAdapterForExtensionError:
        raise InputError(f"cannot import {path.name}: the EDL reader (otio-cmx3600-adapter) is "
                         "not installed") from None
    except Exception as err:  # the adapters raise many kinds; the message is what matters
        problem = " ".join(str(err).split()) or type(err).__name__
        raise InputError(f"cannot import {path.name}: not a readable "
                         f"{'EDL' if adapter == 'cmx_3600' else 'OTIO file'} ({problem})") \
            from None
    if isinstance(result, otio.schema.SerializableCollection):
        found = [t for t in result.find_children(descended_from_type=otio.schema.Timeline)]
        if not found:
            raise InputError(f"cannot import {path.name}: it holds no timeline")
        result = found[0]
    if not isinstance(result, otio.schema.Timeline):
        raise InputError(f"cannot import {path.name}: it holds no timeline")
    return result


def import_timeline(path: Path | str) -> OtioImport:
    """Read an ``.otio`` file or a CMX 3600 ``.edl`` into a new project."""
    path = normalize_path(path)
    if path.suffix.lower() not in IMPORT_SUFFIXES:
        raise InputError(f"cannot import {path.name}: choose an .otio file or a CMX 3600 .edl")
    if not path.is_file():
        raise InputError(f"cannot import {path}: file not found")
    is_edl = path.suffix.lower() == ".edl"
    # An EDL's timecodes are frames at a rate it does not state: a first, lenient read finds
    # the media, whose rate the second read uses.
    timeline = _read(path, ignore_timecode_mismatch=True) if is_edl else _read(path)
    if is_edl:  # timecodes are frames at the media's rate: read again
        clips = _video_clips(timeline)
        where = _media_where(clips[0]) if clips else None
        if where is not None:
            try:
                media = _find_media(where, path.parent, path.name, clips[0].name)
                from ..media import probe_video
                rate = float(probe_video(media).fps)
            except InputError:
                rate = None  # the import below names the missing file
            if rate:  # else the lenient read stands and the import names the missing file
                timeline = _read(path, rate=rate)
    return timeline_to_project(timeline, path.parent, path.name)
