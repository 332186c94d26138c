"""The editor's document: media in the project, clips in the timeline, their range edits and
markers, and the sequence those clips are cut into.

Qt-free and engine-free (core is the bottom layer); ``app.project_jobs`` turns an edit into a
``RangeJob``. Every change a user can undo goes through ``core.commands``, which validate with
the checks below before they touch anything, so a Project in memory always satisfies:
edits of a clip are sorted by start, never overlap, lie inside the clip, have at least one
frame, and refer only to media items of a fitting kind; markers of a clip are sorted by frame,
lie inside the clip and are at most one per frame. The sequence is a list of
``SequenceClip``s (a clip's media id and its source in/out trim) played one after another on
V1/A1; the same clip may appear more than once (two takes cut from one file). Edits and markers
belong to the clip (its source frames), so reordering or trimming the sequence never moves
them; an edit outside a clip's trim is simply not in the sequence.
"""

from __future__ import annotations

import copy
import math
import os
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .errors import InputError
from .hashing import content_fingerprint

MediaKind = Literal["video", "audio", "photo"]
MEDIA_KINDS: tuple[str, ...] = ("video", "audio", "photo")
SCHEMA_VERSION = 2
PROVIDERS = ("auto", "cuda", "cpu")

# Fields of a RangeEdit that SetEditField may change (start/stop go through Move/Trim, which
# check the range; id never changes).
EDIT_FIELDS = ("photo_id", "audio_id", "audio_offset", "swap", "sync", "feather", "strength",
               "color_match", "label", "swap_method")
SWAP_METHODS = ("warp", "latent")
MAX_FEATHER = 128.0  # pixels of the 256-pixel crop; more than half the crop is meaningless
# Marker colours by name (OpenTimelineIO's marker colours, less black/pink): the UI paints them.
MARKER_COLORS = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta",
                 "white")
DEFAULT_MARKER_COLOR = "green"
MARKER_FIELDS = ("frame", "name", "color")
MAX_MARKER_NAME = 200


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def default_settings() -> dict:
    return {"model_set": None, "provider": "auto"}


def normalize_path(path: Path | str) -> Path:
    """Absolute and lexically normalised, without resolving symlinks (the user's own links)."""
    return Path(os.path.normpath(os.path.abspath(os.fspath(path))))


def video_summary(v) -> dict:
    """What the bin records of a probed clip (``v``: a media ``VideoInfo``)."""
    summary = {"duration_s": round(float(v.duration_s), 3),
               "fps": f"{v.fps.numerator}/{v.fps.denominator}",
               "nominal_fps": f"{v.nominal_fps.numerator}/{v.nominal_fps.denominator}",
               "frames": int(v.frame_count), "width": v.width, "height": v.height,
               "has_audio": v.audio is not None}
    if v.audio is not None:
        summary.update(sample_rate=v.audio.sample_rate, channels=v.audio.channels)
    return summary


@dataclass
class MediaItem:
    id: str
    kind: MediaKind
    path: Path
    fingerprint: str = ""
    summary: dict = field(default_factory=dict)
    missing: bool = False

    def __post_init__(self) -> None:
        if self.kind not in MEDIA_KINDS:
            raise InputError(f"unknown media kind {self.kind!r}; use video, audio or photo")
        self.path = normalize_path(self.path)

    @classmethod
    def from_file(cls, path: Path | str, kind: MediaKind, summary: dict | None = None,
                  id: str | None = None) -> MediaItem:
        """A new item for an existing file, fingerprinted now so that it can be relinked."""
        path = normalize_path(path)
        if not path.is_file():
            raise InputError(f"cannot import {path}: file not found")
        return cls(id=id or new_id(), kind=kind, path=path,
                   fingerprint=content_fingerprint(path), summary=dict(summary or {}))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def frame_count(self) -> int | None:
        frames = self.summary.get("frames")
        return int(frames) if isinstance(frames, int | float) and frames > 0 else None

    @property
    def has_audio(self) -> bool:
        """Whether the item can be dialogue: an audio file, or a video not known to be silent."""
        return self.kind == "audio" or (self.kind == "video" and
                                        self.summary.get("has_audio") is not False)


@dataclass
class RangeEdit:
    id: str
    start: int
    stop: int
    photo_id: str | None = None
    audio_id: str | None = None
    audio_offset: float = 0.0
    swap: bool = True
    sync: bool = True
    feather: float = 12.0
    strength: float = 1.0
    color_match: bool = True
    label: str = ""
    swap_method: str = "warp"
    """"warp" (the photo drawn on the face mesh) or "latent" (the model set's swap stage)."""

    @classmethod
    def new(cls, start: int, stop: int, **fields: Any) -> RangeEdit:
        return cls(id=new_id(), start=start, stop=stop, **fields)

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def title(self) -> str:
        """How messages and menus name the edit: its label, or its frames."""
        return f"'{self.label}'" if self.label else f"frames {self.start}-{self.stop}"

    def overlaps(self, start: int, stop: int) -> bool:
        return self.start < stop and start < self.stop


@dataclass
class Marker:
    """A named, coloured point on a clip (frame ``frame``), as editors leave notes."""

    id: str
    frame: int
    name: str = ""
    color: str = DEFAULT_MARKER_COLOR

    @classmethod
    def new(cls, frame: int, **fields: Any) -> Marker:
        return cls(id=new_id(), frame=frame, **fields)

    @property
    def title(self) -> str:
        return f"'{self.name}'" if self.name else f"at frame {self.frame}"


def step_to(points: list[int], frame: int, direction: int) -> int | None:
    """The nearest of ``points`` strictly after (direction > 0) or before ``frame``."""
    if direction > 0:
        return min((p for p in points if p > frame), default=None)
    return max((p for p in points if p < frame), default=None)


@dataclass
class ClipState:
    media_id: str
    edits: list[RangeEdit] = field(default_factory=list)
    mark_in: int | None = None
    mark_out: int | None = None
    playhead: int = 0
    model_set: str | None = None
    """A model set for this clip's edits (e.g. one adapted to its actor); None: the project's."""
    markers: list[Marker] = field(default_factory=list)
    """Sorted by frame, at most one per frame."""

    def find(self, edit_id: str) -> RangeEdit | None:
        return next((e for e in self.edits if e.id == edit_id), None)

    def edit_at(self, frame: int) -> RangeEdit | None:
        return next((e for e in self.edits if e.start <= frame < e.stop), None)

    def sort(self) -> None:
        self.edits.sort(key=lambda e: e.start)
        self.markers.sort(key=lambda m: m.frame)

    def find_marker(self, marker_id: str) -> Marker | None:
        return next((m for m in self.markers if m.id == marker_id), None)

    def marker_at(self, frame: int) -> Marker | None:
        return next((m for m in self.markers if m.frame == frame), None)

    def edit_points(self, frame_count: int) -> list[int]:
        """Where the playhead stops going to the previous/next edit point (up/down): the
        clip's first and last frame, and every edit's first frame and the frame after it
        (the cut back to the source)."""
        last = max(frame_count - 1, 0)
        points = {0, last}
        for e in self.edits:
            points.update((min(e.start, last), min(e.stop, last)))
        return sorted(points)


@dataclass
class SequenceClip:
    """One clip of the sequence: frames ``[source_in, source_out)`` of clip ``media_id``
    (``source_out`` None: to the clip's end)."""

    id: str
    media_id: str
    source_in: int = 0
    source_out: int | None = None

    @classmethod
    def new(cls, media_id: str, source_in: int = 0, source_out: int | None = None
            ) -> SequenceClip:
        return cls(id=new_id(), media_id=media_id, source_in=source_in, source_out=source_out)


@dataclass(frozen=True)
class SequenceSpan:
    """Where a sequence clip lies: sequence frames ``[start, start + length)`` show source
    frames ``[source_in, source_out)`` of ``media_id``."""

    entry_id: str
    media_id: str
    start: int
    source_in: int
    source_out: int

    @property
    def length(self) -> int:
        return self.source_out - self.source_in

    @property
    def stop(self) -> int:
        return self.start + self.length

    def to_source(self, frame: int) -> int:
        return self.source_in + frame - self.start

    def to_sequence(self, source_frame: int) -> int:
        return self.start + source_frame - self.source_in


@dataclass
class Project:
    schema_version: int = SCHEMA_VERSION
    media: dict[str, MediaItem] = field(default_factory=dict)
    clips: dict[str, ClipState] = field(default_factory=dict)
    current_clip: str | None = None
    settings: dict = field(default_factory=default_settings)
    pending_jobs: list[dict] = field(default_factory=list)
    sequence: list[SequenceClip] = field(default_factory=list)
    """The cut, in order (V1/A1); each entry's media is one of ``clips``."""
    sequence_in: int | None = None
    sequence_out: int | None = None
    """The sequence's own in/out marks (sequence frames, out exclusive), for exporting a
    range of it; either may be None."""

    # --- look-ups that name what is missing ------------------------------------------------
    def media_item(self, media_id: str) -> MediaItem:
        try:
            return self.media[media_id]
        except KeyError:
            raise InputError(f"media {media_id} is not in the project") from None

    def clip(self, clip_id: str) -> ClipState:
        try:
            return self.clips[clip_id]
        except KeyError:
            raise InputError(f"clip {clip_id} is not open in the timeline") from None

    def edit(self, clip_id: str, edit_id: str) -> RangeEdit:
        found = self.clip(clip_id).find(edit_id)
        if found is None:
            raise InputError(f"edit {edit_id} is not on clip {self.clip_name(clip_id)}")
        return found

    def clip_name(self, clip_id: str) -> str:
        item = self.media.get(clip_id)
        return item.name if item else clip_id

    def frame_count(self, clip_id: str) -> int | None:
        item = self.media.get(clip_id)
        return item.frame_count if item else None

    def users_of(self, media_id: str) -> list[tuple[str, RangeEdit]]:
        """(clip id, edit) of every edit that uses the item as its photo or dialogue."""
        return [(cid, e) for cid, clip in self.clips.items() for e in clip.edits
                if media_id in (e.photo_id, e.audio_id)]

    def copy(self) -> Project:
        return copy.deepcopy(self)

    # --- the sequence ---------------------------------------------------------------------------
    def sequence_entry(self, entry_id: str) -> SequenceClip:
        found = next((s for s in self.sequence if s.id == entry_id), None)
        if found is None:
            raise InputError(f"clip {entry_id} is not in the sequence")
        return found

    def sequence_index(self, entry_id: str) -> int:
        return self.sequence.index(self.sequence_entry(entry_id))

    def trim_of(self, entry: SequenceClip) -> tuple[int, int]:
        """The entry's source frames ``[in, out)``; InputError when its length is unknown."""
        out = entry.source_out
        if out is None:
            out = self.frame_count(entry.media_id)
            if out is None:
                raise InputError(f"the length of {self.clip_name(entry.media_id)} is not "
                                 "known; open it once so that it is probed")
        return entry.source_in, out

    def sequence_spans(self) -> list[SequenceSpan]:
        """Every sequence clip with its place in the sequence, in order."""
        spans, at = [], 0
        for entry in self.sequence:
            a, b = self.trim_of(entry)
            spans.append(SequenceSpan(entry.id, entry.media_id, at, a, b))
            at += b - a
        return spans

    def sequence_length(self) -> int:
        return sum(s.length for s in self.sequence_spans())

    def locate(self, frame: int) -> tuple[SequenceSpan, int]:
        """The sequence clip showing sequence frame ``frame`` and the source frame it shows."""
        for span in self.sequence_spans():
            if span.start <= frame < span.stop:
                return span, span.to_source(frame)
        raise InputError(f"frame {frame} is outside the sequence "
                         f"({self.sequence_length()} frames)")

    def check_sequence_marks(self, mark_in: int | None, mark_out: int | None) -> None:
        for name, value, low in (("in", mark_in, 0), ("out", mark_out, 1)):
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InputError(f"the sequence's {name} mark must be a frame of the "
                                 f"sequence, not {value!r}")
        if mark_in is not None and mark_out is not None and mark_in >= mark_out:
            raise InputError(f"the sequence's in mark ({mark_in}) must come before its out "
                             f"mark ({mark_out})")

    def sequence_range(self) -> tuple[int, int]:
        """The sequence's marked range (the whole of it where a mark is unset), clamped to
        its length; InputError when that leaves nothing."""
        total = self.sequence_length()
        a = min(self.sequence_in or 0, total)
        b = min(self.sequence_out if self.sequence_out is not None else total, total)
        if a >= b:
            raise InputError(f"the sequence's marks ({a}-{b}) leave no frame of the sequence "
                             f"({total} frames); mark it again")
        return a, b

    def check_trim(self, media_id: str, source_in: int, source_out: int | None) -> None:
        """InputError unless ``[source_in, source_out)`` is a non-empty part of the clip."""
        if media_id not in self.clips:
            item = self.media_item(media_id)
            if item.kind != "video":
                raise InputError(f"{item.name} is not a video; only videos go in the sequence")
        for name, value in (("in", source_in), ("out", source_out)):
            if value is None and name == "out":
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"the sequence clip's {name} point must be a frame number, "
                                 f"not {value!r}")
        frames = self.frame_count(media_id)
        if source_in < 0:
            raise InputError(f"the in point {source_in} is before the clip's first frame")
        end = source_out if source_out is not None else frames
        if end is not None and source_in >= end:
            raise InputError(f"a sequence clip needs at least one frame (in {source_in}, "
                             f"out {end})")
        if frames is not None and source_out is not None and source_out > frames:
            raise InputError(f"the out point {source_out} is after the end of "
                             f"{self.clip_name(media_id)} ({frames} frames)")

    # --- validation shared by commands and the loader ------------------------------------------
    def check_range(self, clip_id: str, start: int, stop: int,
                    ignore: str | None = None) -> None:
        """Raise InputError unless [start, stop) fits the clip beside its other edits."""
        clip = self.clip(clip_id)
        for value in (start, stop):
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"frame positions must be whole numbers, not {value!r}")
        if start >= stop:
            raise InputError(f"an edit needs at least one frame (start {start} is not before "
                             f"stop {stop})")
        if start < 0:
            raise InputError(f"edit would start before the clip's first frame (frame {start})")
        frames = self.frame_count(clip_id)
        if frames is not None and stop > frames:
            raise InputError(f"edit would end at frame {stop}, after the end of "
                             f"{self.clip_name(clip_id)} ({frames} frames)")
        for other in clip.edits:
            if other.id != ignore and other.overlaps(start, stop):
                name = f"'{other.label}'" if other.label else "the edit"
                raise InputError(f"edit would overlap {name} (frames {other.start}-{other.stop})")

    def check_field(self, name: str, value: Any) -> Any:
        """The value as stored (ints become floats where a float is meant), or InputError."""
        if name not in EDIT_FIELDS:
            raise InputError(f"an edit has no setting {name!r}")
        if name in ("photo_id", "audio_id") and value is not None and not isinstance(value, str):
            raise InputError(f"{name} must name a media item, not {value!r}")
        if name == "photo_id":
            if value is not None and self.media_item(value).kind != "photo":
                raise InputError(f"{self.media[value].name} is not a photo; choose an image "
                                 "with the new face")
            return value
        if name == "audio_id":
            if value is not None and not self.media_item(value).has_audio:
                raise InputError(f"{self.media[value].name} has no audio; choose a dialogue "
                                 "file or a video with sound")
            return value
        if name in ("swap", "sync", "color_match"):
            if not isinstance(value, bool):
                raise InputError(f"{name} must be on or off, not {value!r}")
            return value
        if name == "swap_method":
            if value not in SWAP_METHODS:
                raise InputError(f"the swap method must be one of {', '.join(SWAP_METHODS)}, "
                                 f"not {value!r}")
            return value
        if name == "label":
            if not isinstance(value, str) or "\n" in value:
                raise InputError("an edit's label must be one line of text")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value):
            raise InputError(f"{name} must be a number, not {value!r}")
        value = float(value)
        if name == "feather" and not 0.0 <= value <= MAX_FEATHER:
            raise InputError(f"feather must be between 0 and {MAX_FEATHER:g} pixels")
        if name == "strength" and not 0.0 <= value <= 1.0:
            raise InputError("strength must be between 0 and 1")
        return value

    def checked_edit(self, clip_id: str, edit: RangeEdit, ignore: str | None = None) -> RangeEdit:
        """A copy of ``edit`` with its values as stored, or InputError if it does not fit."""
        if not isinstance(edit.id, str) or not edit.id:
            raise InputError("an edit needs an id")
        self.check_range(clip_id, edit.start, edit.stop, ignore)
        values = {name: self.check_field(name, getattr(edit, name)) for name in EDIT_FIELDS}
        return replace(edit, **values)

    def check_marks(self, clip_id: str, mark_in: int | None, mark_out: int | None) -> None:
        self.clip(clip_id)
        frames = self.frame_count(clip_id)
        for name, value, low in (("in", mark_in, 0), ("out", mark_out, 1)):
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"the {name} mark must be a frame number, not {value!r}")
            high = None if frames is None else frames - 1 + low
            if value < low or (high is not None and value > high):
                raise InputError(f"the {name} mark {value} is outside the clip "
                                 f"({frames} frames)" if frames else
                                 f"the {name} mark {value} is before the clip's start")
        if mark_in is not None and mark_out is not None and mark_in >= mark_out:
            raise InputError(f"the in mark ({mark_in}) must come before the out mark "
                             f"({mark_out})")

    def marker(self, clip_id: str, marker_id: str) -> Marker:
        found = self.clip(clip_id).find_marker(marker_id)
        if found is None:
            raise InputError(f"marker {marker_id} is not on clip {self.clip_name(clip_id)}")
        return found

    def check_marker_field(self, clip_id: str, name: str, value: Any,
                           ignore: str | None = None) -> Any:
        """The value as stored, or InputError (a frame outside the clip, or one that already
        has another marker; a name of more than one line; a colour not in MARKER_COLORS)."""
        if name == "frame":
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"a marker's frame must be a whole number, not {value!r}")
            frames = self.frame_count(clip_id)
            if value < 0 or (frames is not None and value >= frames):
                raise InputError(f"frame {value} is outside {self.clip_name(clip_id)}"
                                 + (f" ({frames} frames)" if frames else ""))
            other = self.clip(clip_id).marker_at(value)
            if other is not None and other.id != ignore:
                raise InputError(f"frame {value} already has "
                                 + (f"marker '{other.name}'" if other.name else "a marker"))
            return value
        if name == "name":
            if not isinstance(value, str) or "\n" in value or len(value) > MAX_MARKER_NAME:
                raise InputError(f"a marker's name must be one line of at most "
                                 f"{MAX_MARKER_NAME} characters")
            return value
        if name == "color":
            if value not in MARKER_COLORS:
                raise InputError(f"marker colour {value!r} is not one of "
                                 f"{', '.join(MARKER_COLORS)}")
            return value
        raise InputError(f"a marker has no setting {name!r}")

    def checked_marker(self, clip_id: str, marker: Marker,
                       ignore: str | None = None) -> Marker:
        if not isinstance(marker.id, str) or not marker.id:
            raise InputError("a marker needs an id")
        values = {name: self.check_marker_field(clip_id, name, getattr(marker, name), ignore)
                  for name in MARKER_FIELDS}
        return replace(marker, **values)

    def check_consistent(self) -> None:
        """Whole-document invariants, for files read from disk."""
        for media_id, item in self.media.items():
            if item.id != media_id:
                raise InputError(f"media {media_id} is stored under another id ({item.id})")
        if self.current_clip is not None and self.current_clip not in self.clips:
            raise InputError(f"current clip {self.current_clip} is not open")
        if self.settings.get("provider", "auto") not in PROVIDERS:
            raise InputError(f"provider {self.settings.get('provider')!r} is not one of "
                             f"{', '.join(PROVIDERS)}")
        for clip_id, clip in self.clips.items():
            if clip.media_id != clip_id or self.media_item(clip_id).kind != "video":
                raise InputError(f"clip {clip_id} does not refer to a video in the project")
            self.check_marks(clip_id, clip.mark_in, clip.mark_out)
            ids = [e.id for e in clip.edits]
            if len(set(ids)) != len(ids):
                raise InputError(f"clip {self.clip_name(clip_id)} has two edits with one id")
            if not isinstance(clip.playhead, int) or clip.playhead < 0:
                raise InputError(f"playhead {clip.playhead!r} is not a frame number")
            if clip.model_set is not None and (not isinstance(clip.model_set, str) or
                                               not clip.model_set):
                raise InputError(f"model set {clip.model_set!r} is not a model set id")
            clip.sort()
            clip.edits = [self.checked_edit(clip_id, e, ignore=e.id) for e in clip.edits]
            ids = [m.id for m in clip.markers]
            if len(set(ids)) != len(ids):
                raise InputError(f"clip {self.clip_name(clip_id)} has two markers with one id")
            markers, clip.markers = clip.markers, []
            for m in markers:  # one at a time, so that two on one frame are caught
                clip.markers.append(self.checked_marker(clip_id, m))
        self.check_sequence_marks(self.sequence_in, self.sequence_out)
        ids = [s.id for s in self.sequence]
        if len(set(ids)) != len(ids):
            raise InputError("the sequence has two clips with one id")
        for entry in self.sequence:
            if not isinstance(entry.id, str) or not entry.id:
                raise InputError("a sequence clip needs an id")
            if entry.media_id not in self.clips:
                raise InputError(f"sequence clip {entry.id} refers to {entry.media_id}, which "
                                 "is not a clip of the project")
            self.check_trim(entry.media_id, entry.source_in, entry.source_out)
