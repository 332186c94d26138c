"""Undoable changes to a Project, free of Qt.

Each command checks everything in ``validate`` (also the first thing ``redo`` does) and only
then mutates, so a refused command leaves the document untouched and raises one InputError
line. ``redo`` records what it replaces, so ``undo`` restores exactly the state before it; both
assume the document is in the state the stack left it in (undo/redo strictly in order).

A drag sends many Move/Trim/SetEditField commands carrying the same ``drag_id``; their equal
``merge_key`` lets the undo stack fold them into one step that keeps the first command's old
values and the last command's new ones.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .errors import InputError
from .project import (
    EDIT_FIELDS,
    MARKER_FIELDS,
    ClipState,
    Marker,
    MediaItem,
    Project,
    RangeEdit,
    SequenceClip,
    new_id,
)

FIELD_NAMES = {"photo_id": "face photo", "audio_id": "dialogue", "audio_offset": "dialogue offset",
               "swap": "face swap", "sync": "lip sync", "feather": "feather",
               "strength": "strength", "color_match": "colour match", "label": "label",
               "swap_method": "swap method"}


class Command:
    """Base: ``text`` names the change for the Edit menu ("Undo Move edit 'Line 7'")."""

    text = ""

    @property
    def merge_key(self) -> tuple | None:
        return None

    def merge(self, other: Command) -> bool:
        """Fold ``other`` (already applied after self) into self; False when it cannot."""
        return False

    def validate(self, project: Project) -> Any:
        """Raise InputError if redo() would be refused; changes nothing.

        The UI calls it before pushing onto a QUndoStack, whose push() runs redo() where an
        exception could not reach the user."""

    def redo(self, project: Project) -> None:
        raise NotImplementedError

    def undo(self, project: Project) -> None:
        raise NotImplementedError


def _insert_sorted(clip: ClipState, edit: RangeEdit) -> None:
    clip.edits.append(edit)
    clip.sort()


def _remove(clip: ClipState, edit_id: str) -> RangeEdit:
    edit = clip.find(edit_id)
    assert edit is not None, f"undo/redo out of order: edit {edit_id} is gone"
    clip.edits.remove(edit)
    return edit


class AddEdit(Command):
    def __init__(self, clip_id: str, edit: RangeEdit):
        self.clip_id = clip_id
        self.edit = replace(edit)  # the caller may go on changing its object
        self.text = f"Add edit {edit.title}"

    def validate(self, project: Project) -> RangeEdit:
        if project.clip(self.clip_id).find(self.edit.id) is not None:
            raise InputError(f"edit {self.edit.id} is already on this clip")
        return project.checked_edit(self.clip_id, self.edit)

    def redo(self, project: Project) -> None:
        edit = self.validate(project)
        _insert_sorted(project.clips[self.clip_id], edit)

    def undo(self, project: Project) -> None:
        _remove(project.clips[self.clip_id], self.edit.id)


class RemoveEdit(Command):
    def __init__(self, clip_id: str, edit_id: str):
        self.clip_id, self.edit_id = clip_id, edit_id
        self.removed: RangeEdit | None = None
        self.text = "Remove edit"

    def validate(self, project: Project) -> RangeEdit:
        return project.edit(self.clip_id, self.edit_id)

    def redo(self, project: Project) -> None:
        edit = self.validate(project)
        self.text = f"Remove edit {edit.title}"
        self.removed = _remove(project.clips[self.clip_id], self.edit_id)

    def undo(self, project: Project) -> None:
        assert self.removed is not None
        _insert_sorted(project.clips[self.clip_id], replace(self.removed))


class _RangeChange(Command):
    """Move and Trim: both set [start, stop) and remember the range they replaced."""

    verb = ""

    def __init__(self, clip_id: str, edit_id: str, drag_id: str | None):
        self.clip_id, self.edit_id, self.drag_id = clip_id, edit_id, drag_id
        self.old: tuple[int, int] | None = None
        self.text = f"{self.verb} edit"

    def target(self, edit: RangeEdit) -> tuple[int, int]:
        raise NotImplementedError

    @property
    def merge_key(self) -> tuple | None:
        if self.drag_id is None:
            return None
        return (type(self).__name__, self.clip_id, self.edit_id, self.drag_id)

    def validate(self, project: Project) -> tuple[RangeEdit, int, int]:
        edit = project.edit(self.clip_id, self.edit_id)
        start, stop = self.target(edit)
        project.check_range(self.clip_id, start, stop, ignore=self.edit_id)
        return edit, start, stop

    def redo(self, project: Project) -> None:
        edit, start, stop = self.validate(project)
        self.old = (edit.start, edit.stop)
        self.text = f"{self.verb} edit {edit.title}"
        edit.start, edit.stop = start, stop
        project.clips[self.clip_id].sort()

    def undo(self, project: Project) -> None:
        assert self.old is not None
        edit = project.edit(self.clip_id, self.edit_id)
        edit.start, edit.stop = self.old
        project.clips[self.clip_id].sort()


class MoveEdit(_RangeChange):
    """Shift an edit to start at ``new_start``, keeping its length."""

    verb = "Move"

    def __init__(self, clip_id: str, edit_id: str, new_start: int, drag_id: str | None = None):
        self.new_start = new_start
        super().__init__(clip_id, edit_id, drag_id)

    def target(self, edit: RangeEdit) -> tuple[int, int]:
        return self.new_start, self.new_start + edit.length

    def merge(self, other: Command) -> bool:
        if not isinstance(other, MoveEdit) or other.merge_key != self.merge_key or \
                self.merge_key is None:
            return False
        self.new_start = other.new_start
        return True


class TrimEdit(_RangeChange):
    verb = "Trim"

    def __init__(self, clip_id: str, edit_id: str, new_start: int, new_stop: int,
                 drag_id: str | None = None):
        self.new_start, self.new_stop = new_start, new_stop
        super().__init__(clip_id, edit_id, drag_id)

    def target(self, edit: RangeEdit) -> tuple[int, int]:
        return self.new_start, self.new_stop

    def merge(self, other: Command) -> bool:
        if not isinstance(other, TrimEdit) or other.merge_key != self.merge_key or \
                self.merge_key is None:
            return False
        self.new_start, self.new_stop = other.new_start, other.new_stop
        return True


class SetEditField(Command):
    """Change one setting of an edit (a slider drag passes a drag_id to merge its steps)."""

    def __init__(self, clip_id: str, edit_id: str, field: str, value: Any,
                 drag_id: str | None = None):
        self.clip_id, self.edit_id, self.field, self.value = clip_id, edit_id, field, value
        self.drag_id = drag_id
        self.old: Any = None
        self.text = f"Change {FIELD_NAMES.get(field, field)}"

    @property
    def merge_key(self) -> tuple | None:
        if self.drag_id is None:
            return None
        return ("SetEditField", self.clip_id, self.edit_id, self.field, self.drag_id)

    def validate(self, project: Project) -> Any:
        if self.field not in EDIT_FIELDS:
            raise InputError(f"an edit has no setting {self.field!r}")
        project.edit(self.clip_id, self.edit_id)
        return project.check_field(self.field, self.value)

    def redo(self, project: Project) -> None:
        value = self.validate(project)
        edit = project.edit(self.clip_id, self.edit_id)
        self.old = getattr(edit, self.field)
        setattr(edit, self.field, value)
        self.text = f"Change {FIELD_NAMES[self.field]} of {edit.title}"

    def undo(self, project: Project) -> None:
        setattr(project.edit(self.clip_id, self.edit_id), self.field, self.old)

    def merge(self, other: Command) -> bool:
        if not isinstance(other, SetEditField) or other.merge_key != self.merge_key or \
                self.merge_key is None:
            return False
        self.value = other.value
        return True


class SetMarks(Command):
    """Set both marks at once (None clears one); a mark drag may pass a drag_id to merge."""

    def __init__(self, clip_id: str, mark_in: int | None, mark_out: int | None,
                 drag_id: str | None = None):
        self.clip_id, self.mark_in, self.mark_out, self.drag_id = clip_id, mark_in, mark_out, \
            drag_id
        self.old: tuple[int | None, int | None] | None = None
        self.text = "Clear marks" if mark_in is None and mark_out is None else "Set marks"

    @property
    def merge_key(self) -> tuple | None:
        return None if self.drag_id is None else ("SetMarks", self.clip_id, self.drag_id)

    def validate(self, project: Project) -> None:
        project.check_marks(self.clip_id, self.mark_in, self.mark_out)

    def redo(self, project: Project) -> None:
        self.validate(project)
        clip = project.clips[self.clip_id]
        self.old = (clip.mark_in, clip.mark_out)
        clip.mark_in, clip.mark_out = self.mark_in, self.mark_out

    def undo(self, project: Project) -> None:
        assert self.old is not None
        clip = project.clips[self.clip_id]
        clip.mark_in, clip.mark_out = self.old

    def merge(self, other: Command) -> bool:
        if not isinstance(other, SetMarks) or other.merge_key != self.merge_key or \
                self.merge_key is None:
            return False
        self.mark_in, self.mark_out, self.text = other.mark_in, other.mark_out, other.text
        return True


class SetClipModelSet(Command):
    """Make a clip's edits use a model set (one adapted to its actor), or None for the
    project's set again."""

    def __init__(self, clip_id: str, model_set: str | None):
        self.clip_id, self.model_set = clip_id, model_set
        self.old: str | None = None
        self.text = f"Use model set {model_set}" if model_set else "Use the project's model set"

    def validate(self, project: Project) -> None:
        project.clip(self.clip_id)
        if self.model_set is not None and (not isinstance(self.model_set, str) or
                                           not self.model_set):
            raise InputError(f"{self.model_set!r} is not a model set id")

    def redo(self, project: Project) -> None:
        self.validate(project)
        clip = project.clips[self.clip_id]
        self.old = clip.model_set
        clip.model_set = self.model_set
        what = f"model set {self.model_set}" if self.model_set else "the project's model set"
        self.text = f"Use {what} for {project.clip_name(self.clip_id)}"

    def undo(self, project: Project) -> None:
        project.clips[self.clip_id].model_set = self.old


class AddMarker(Command):
    def __init__(self, clip_id: str, marker: Marker):
        self.clip_id = clip_id
        self.marker = replace(marker)
        self.text = f"Add marker {marker.title}"

    def validate(self, project: Project) -> Marker:
        if project.clip(self.clip_id).find_marker(self.marker.id) is not None:
            raise InputError(f"marker {self.marker.id} is already on this clip")
        return project.checked_marker(self.clip_id, self.marker)

    def redo(self, project: Project) -> None:
        marker = self.validate(project)
        clip = project.clips[self.clip_id]
        clip.markers.append(marker)
        clip.sort()

    def undo(self, project: Project) -> None:
        clip = project.clips[self.clip_id]
        marker = clip.find_marker(self.marker.id)
        assert marker is not None, "undo/redo out of order: the marker is gone"
        clip.markers.remove(marker)


class RemoveMarker(Command):
    def __init__(self, clip_id: str, marker_id: str):
        self.clip_id, self.marker_id = clip_id, marker_id
        self.removed: Marker | None = None
        self.text = "Delete marker"

    def validate(self, project: Project) -> Marker:
        return project.marker(self.clip_id, self.marker_id)

    def redo(self, project: Project) -> None:
        marker = self.validate(project)
        self.text = f"Delete marker {marker.title}"
        project.clips[self.clip_id].markers.remove(marker)
        self.removed = marker

    def undo(self, project: Project) -> None:
        assert self.removed is not None
        clip = project.clips[self.clip_id]
        clip.markers.append(replace(self.removed))
        clip.sort()


class SetMarker(Command):
    """Rename, recolour or move a marker: ``changes`` maps fields of MARKER_FIELDS to values."""

    def __init__(self, clip_id: str, marker_id: str, **changes: Any):
        self.clip_id, self.marker_id, self.changes = clip_id, marker_id, dict(changes)
        self.old: dict[str, Any] = {}
        self.text = self._describe()

    def _describe(self, marker: Marker | None = None) -> str:
        verbs = {"name": "Rename", "color": "Recolour", "frame": "Move"}
        verb = verbs[next(iter(self.changes))] if len(self.changes) == 1 and \
            next(iter(self.changes)) in verbs else "Change"
        return f"{verb} marker" + (f" {marker.title}" if marker is not None else "")

    def validate(self, project: Project) -> dict[str, Any]:
        project.marker(self.clip_id, self.marker_id)
        if not self.changes:
            raise InputError("nothing to change on the marker")
        for name in self.changes:
            if name not in MARKER_FIELDS:
                raise InputError(f"a marker has no setting {name!r}")
        return {name: project.check_marker_field(self.clip_id, name, value,
                                                 ignore=self.marker_id)
                for name, value in self.changes.items()}

    def redo(self, project: Project) -> None:
        values = self.validate(project)
        marker = project.marker(self.clip_id, self.marker_id)
        self.old = {name: getattr(marker, name) for name in values}
        for name, value in values.items():
            setattr(marker, name, value)
        self.text = self._describe(marker)  # the marker as it is now: "Rename marker 'new'"
        project.clips[self.clip_id].sort()

    def undo(self, project: Project) -> None:
        marker = project.marker(self.clip_id, self.marker_id)
        for name, value in self.old.items():
            setattr(marker, name, value)
        project.clips[self.clip_id].sort()


class AddMedia(Command):
    def __init__(self, item: MediaItem):
        self.item = replace(item, summary=dict(item.summary))
        self.text = f"Import {item.name}"

    def validate(self, project: Project) -> None:
        if self.item.id in project.media:
            raise InputError(f"media {self.item.id} is already in the project")
        for other in project.media.values():
            if other.path == self.item.path:
                raise InputError(f"{other.name} is already in the project")

    def redo(self, project: Project) -> None:
        self.validate(project)
        project.media[self.item.id] = replace(self.item, summary=dict(self.item.summary))

    def undo(self, project: Project) -> None:
        del project.media[self.item.id]


class RemoveMedia(Command):
    """Take an item out of the project; refused while an edit uses it (the user decides)."""

    def __init__(self, media_id: str):
        self.media_id = media_id
        self.position = 0
        self.item: MediaItem | None = None
        self.clip: tuple[int, ClipState] | None = None
        self.current_clip: str | None = None
        self.sequence: list[SequenceClip] = []
        self.text = "Remove media"

    def validate(self, project: Project) -> MediaItem:
        item = project.media_item(self.media_id)
        users = project.users_of(self.media_id)
        if users:
            clip_id, edit = users[0]
            raise InputError(f"{item.name} is used by edit {edit.title} of "
                             f"{project.clip_name(clip_id)}; change or remove that edit first")
        clip = project.clips.get(self.media_id)
        if clip is not None and clip.edits:
            raise InputError(f"{item.name} has {len(clip.edits)} edit(s) in the timeline; "
                             "remove them first")
        return item

    def redo(self, project: Project) -> None:
        item = self.validate(project)
        self.text = f"Remove {item.name}"
        self.position = list(project.media).index(self.media_id)
        self.item = project.media.pop(self.media_id)
        self.current_clip = project.current_clip
        self.clip = None
        if self.media_id in project.clips:
            self.clip = (list(project.clips).index(self.media_id),
                         project.clips.pop(self.media_id))
            if project.current_clip == self.media_id:
                project.current_clip = next(iter(project.clips), None)
        self.sequence = list(project.sequence)  # its places in the cut go with it
        project.sequence[:] = [s for s in project.sequence if s.media_id != self.media_id]

    def undo(self, project: Project) -> None:
        assert self.item is not None
        _dict_insert(project.media, self.position, self.media_id, self.item)
        if self.clip is not None:
            _dict_insert(project.clips, self.clip[0], self.media_id, self.clip[1])
        project.sequence[:] = self.sequence
        project.current_clip = self.current_clip


class AddClip(Command):
    """Open a video of the project in the timeline and make it the current clip; it goes at
    the end of the sequence, whole."""

    def __init__(self, media_id: str):
        self.media_id = media_id
        self.previous: str | None = None
        self.entry_id = new_id()
        self.text = "Open clip"

    def validate(self, project: Project) -> MediaItem:
        item = project.media_item(self.media_id)
        if item.kind != "video":
            raise InputError(f"{item.name} is not a video; only videos open in the timeline")
        if self.media_id in project.clips:
            raise InputError(f"{item.name} is already open in the timeline")
        return item

    def redo(self, project: Project) -> None:
        item = self.validate(project)
        self.text = f"Open {item.name} in the timeline"
        self.previous = project.current_clip
        project.clips[self.media_id] = ClipState(media_id=self.media_id)
        project.sequence.append(SequenceClip(self.entry_id, self.media_id))
        project.current_clip = self.media_id

    def undo(self, project: Project) -> None:
        del project.clips[self.media_id]
        project.sequence[:] = [s for s in project.sequence if s.id != self.entry_id]
        if project.current_clip == self.media_id:
            project.current_clip = self.previous if self.previous in project.clips else None


# --- the sequence -------------------------------------------------------------------------------
class AddToSequence(Command):
    """Put a video in the sequence at ``position`` (default: the end), trimmed to
    ``[source_in, source_out)``; a video not yet a clip of the project becomes one (its
    edits and markers start empty). The same clip may be in the sequence more than once."""

    def __init__(self, media_id: str, source_in: int = 0, source_out: int | None = None,
                 position: int | None = None, entry_id: str | None = None):
        self.entry = SequenceClip(entry_id or new_id(), media_id, source_in, source_out)
        self.position = position
        self.opened = False
        self.text = "Add clip to the sequence"

    def validate(self, project: Project) -> MediaItem:
        item = project.media_item(self.entry.media_id)
        if item.kind != "video":
            raise InputError(f"{item.name} is not a video; only videos go in the sequence")
        if any(s.id == self.entry.id for s in project.sequence):
            raise InputError(f"clip {self.entry.id} is already in the sequence")
        if self.position is not None and not 0 <= self.position <= len(project.sequence):
            raise InputError(f"position {self.position} is outside the sequence "
                             f"({len(project.sequence)} clips)")
        project.check_trim(self.entry.media_id, self.entry.source_in, self.entry.source_out)
        return item

    def redo(self, project: Project) -> None:
        item = self.validate(project)
        self.text = f"Add {item.name} to the sequence"
        self.opened = self.entry.media_id not in project.clips
        if self.opened:
            project.clips[self.entry.media_id] = ClipState(media_id=self.entry.media_id)
            if project.current_clip is None:
                project.current_clip = self.entry.media_id
        at = len(project.sequence) if self.position is None else self.position
        project.sequence.insert(at, replace(self.entry))

    def undo(self, project: Project) -> None:
        project.sequence[:] = [s for s in project.sequence if s.id != self.entry.id]
        if self.opened:
            del project.clips[self.entry.media_id]
            if project.current_clip == self.entry.media_id:
                project.current_clip = None


class RemoveFromSequence(Command):
    """Take a clip out of the sequence. Its edits and markers stay with the clip (they are
    the clip's, in its source frames), so putting it back brings them back."""

    def __init__(self, entry_id: str):
        self.entry_id = entry_id
        self.removed: tuple[int, SequenceClip] | None = None
        self.text = "Remove clip from the sequence"

    def validate(self, project: Project) -> SequenceClip:
        return project.sequence_entry(self.entry_id)

    def redo(self, project: Project) -> None:
        entry = self.validate(project)
        self.text = f"Remove {project.clip_name(entry.media_id)} from the sequence"
        index = project.sequence.index(entry)
        self.removed = (index, project.sequence.pop(index))

    def undo(self, project: Project) -> None:
        assert self.removed is not None
        project.sequence.insert(self.removed[0], replace(self.removed[1]))


class MoveInSequence(Command):
    """Reorder: the clip goes to ``new_index`` (0: first), the others keep their order."""

    def __init__(self, entry_id: str, new_index: int):
        self.entry_id, self.new_index = entry_id, new_index
        self.old: int | None = None
        self.text = "Move clip in the sequence"

    def validate(self, project: Project) -> SequenceClip:
        entry = project.sequence_entry(self.entry_id)
        if isinstance(self.new_index, bool) or not isinstance(self.new_index, int) or \
                not 0 <= self.new_index < len(project.sequence):
            raise InputError(f"position {self.new_index!r} is outside the sequence "
                             f"({len(project.sequence)} clips)")
        return entry

    def redo(self, project: Project) -> None:
        entry = self.validate(project)
        self.text = f"Move {project.clip_name(entry.media_id)} in the sequence"
        self.old = project.sequence.index(entry)
        project.sequence.pop(self.old)
        project.sequence.insert(self.new_index, entry)

    def undo(self, project: Project) -> None:
        assert self.old is not None
        entry = project.sequence_entry(self.entry_id)
        project.sequence.remove(entry)
        project.sequence.insert(self.old, entry)


class SetSequenceMarks(Command):
    """The sequence's in/out marks (sequence frames; None clears one)."""

    def __init__(self, mark_in: int | None, mark_out: int | None):
        self.mark_in, self.mark_out = mark_in, mark_out
        self.old: tuple[int | None, int | None] | None = None
        self.text = "Clear sequence marks" if mark_in is None and mark_out is None else \
            "Set sequence marks"

    def validate(self, project: Project) -> None:
        project.check_sequence_marks(self.mark_in, self.mark_out)

    def redo(self, project: Project) -> None:
        self.validate(project)
        self.old = (project.sequence_in, project.sequence_out)
        project.sequence_in, project.sequence_out = self.mark_in, self.mark_out

    def undo(self, project: Project) -> None:
        assert self.old is not None
        project.sequence_in, project.sequence_out = self.old


class TrimSequenceClip(Command):
    """Set a sequence clip's source in/out (``source_out`` None: to the clip's end); a drag
    passes a drag_id to merge its steps."""

    def __init__(self, entry_id: str, source_in: int, source_out: int | None,
                 drag_id: str | None = None):
        self.entry_id, self.source_in, self.source_out = entry_id, source_in, source_out
        self.drag_id = drag_id
        self.old: tuple[int, int | None] | None = None
        self.text = "Trim clip in the sequence"

    @property
    def merge_key(self) -> tuple | None:
        return None if self.drag_id is None else ("TrimSequenceClip", self.entry_id,
                                                  self.drag_id)

    def validate(self, project: Project) -> SequenceClip:
        entry = project.sequence_entry(self.entry_id)
        project.check_trim(entry.media_id, self.source_in, self.source_out)
        return entry

    def redo(self, project: Project) -> None:
        entry = self.validate(project)
        self.text = f"Trim {project.clip_name(entry.media_id)} in the sequence"
        self.old = (entry.source_in, entry.source_out)
        entry.source_in, entry.source_out = self.source_in, self.source_out

    def undo(self, project: Project) -> None:
        assert self.old is not None
        entry = project.sequence_entry(self.entry_id)
        entry.source_in, entry.source_out = self.old

    def merge(self, other: Command) -> bool:
        if not isinstance(other, TrimSequenceClip) or other.merge_key != self.merge_key or \
                self.merge_key is None:
            return False
        self.source_in, self.source_out = other.source_in, other.source_out
        return True


def _dict_insert(mapping: dict, position: int, key: str, value: Any) -> None:
    """Put ``key`` back at ``position`` (in place: views may hold the dict), so undo restores
    the order the media bin showed."""
    items = list(mapping.items())
    items.insert(position, (key, value))
    mapping.clear()
    mapping.update(items)
