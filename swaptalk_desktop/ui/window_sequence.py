"""Main-window behaviour for the sequence: the Sequence panel's rows and the V1/A1 strip above
the timeline, adding the open clip, removing, reordering and trimming sequence clips (each one
undo step), and going to a sequence frame (the clip that shows it opens in the timeline and the
viewer, at the source frame it shows). Mixed into MainWindow (see main_window.py for the
attributes it relies on)."""

from __future__ import annotations

from fractions import Fraction

from ..core.commands import (
    AddToSequence,
    MoveInSequence,
    RemoveFromSequence,
    SetSequenceMarks,
    TrimSequenceClip,
)
from ..core.errors import SwapTalkError
from ..core.timebase import format_range, frame_to_timecode
from .sequence_panel import SequenceRow
from .timeline.sequence_strip import StripBlock

DEFAULT_FPS = Fraction(25)


def _fps(summary: dict) -> Fraction:
    try:
        return Fraction(str(summary.get("nominal_fps") or summary.get("fps")))
    except (TypeError, ValueError, ZeroDivisionError):
        return DEFAULT_FPS


class SequenceMixin:
    def sequence_fps(self) -> Fraction:
        project = self.controller.project
        first = project.sequence[0] if project.sequence else None
        item = project.media.get(first.media_id) if first else None
        return _fps(item.summary) if item else DEFAULT_FPS

    def refresh_sequence(self) -> None:
        project = self.controller.project
        try:
            spans = project.sequence_spans()
        except SwapTalkError as err:  # a clip not probed yet: list it, say why
            self.sequence_panel.set_rows(
                [SequenceRow(s.id, f"{i + 1}. {project.clip_name(s.media_id)}", str(err))
                 for i, s in enumerate(project.sequence)], str(err))
            self.sequence_strip.hide()
            return
        fps = self.sequence_fps()
        rows, blocks = [], []
        for i, span in enumerate(spans):
            item = project.media.get(span.media_id)
            clip = project.clips.get(span.media_id)
            inside = [e for e in clip.edits if e.start < span.source_out and
                      e.stop > span.source_in] if clip else []
            edits = f" · {len(inside)} edit{'s' if len(inside) != 1 else ''}" if inside else ""
            clip_fps = _fps(item.summary) if item else fps
            blocks.append(StripBlock(
                span.entry_id, project.clip_name(span.media_id), span.start, span.length,
                tuple((span.to_sequence(max(e.start, span.source_in)),
                       span.to_sequence(min(e.stop, span.source_out))) for e in inside),
                item.has_audio if item else True))
            rows.append(SequenceRow(
                span.entry_id, f"{i + 1}. {project.clip_name(span.media_id)}{edits}",
                f"at {frame_to_timecode(span.start, fps)} in the sequence; source "
                f"{format_range(span.source_in, span.source_out, clip_fps)}"))
        total = sum(s.length for s in spans)
        summary = (f"Sequence: {len(spans)} clip{'s' if len(spans) != 1 else ''} · "
                   f"{frame_to_timecode(total, fps)} ({total} frames)") if spans else \
            "The sequence is empty: open a clip to put it in"
        self.sequence_panel.set_rows(rows, summary)
        span = self.current_span()
        self.sequence_strip.set_sequence(blocks, span.entry_id if span else None,
                                         self._sequence_playhead(span),
                                         (project.sequence_in, project.sequence_out))
        self.sequence_strip.setVisible(len(blocks) > 1)

    def current_span(self):
        """The sequence clip the open clip's playhead is in (the one last gone to, when the
        clip is in the sequence twice), or the clip's first place in it; None if it has none."""
        if self.clip_id is None:
            return None
        try:
            spans = [s for s in self.controller.project.sequence_spans()
                     if s.media_id == self.clip_id]
        except SwapTalkError:
            return None
        inside = [s for s in spans if s.source_in <= self.playhead < s.source_out]
        for group in (inside, spans):
            chosen = next((s for s in group if s.entry_id == self.sequence_entry_id), None)
            if chosen is not None or group:
                return chosen or group[0]
        return None

    def _sequence_playhead(self, span) -> int | None:
        if span is None or not span.source_in <= self.playhead < span.source_out:
            return None
        return span.to_sequence(self.playhead)

    def refresh_sequence_playhead(self) -> None:
        if not self.sequence_strip.isVisible():
            return
        span = self.current_span()
        self.sequence_strip.set_playhead(span.entry_id if span else None,
                                         self._sequence_playhead(span))

    def mark_sequence(self, which: str) -> bool:
        """The sequence's in ("in") or out ("out") mark at the playhead's place in it (the
        out mark includes the playhead's frame, as the clip's does); "clear" clears both."""
        project = self.controller.project
        if which == "clear":
            return self.controller.push(SetSequenceMarks(None, None))
        at = self._sequence_playhead(self.current_span())
        if at is None:
            self.show_error("the playhead is not in the sequence: go to a frame inside a "
                            "sequence clip's trim (the strip above the timeline)")
            return False
        mark_in, mark_out = project.sequence_in, project.sequence_out
        if which == "in":
            mark_in = at
            if mark_out is not None and mark_out <= at:
                mark_out = None
        else:
            mark_out = at + 1
            if mark_in is not None and mark_in >= mark_out:
                mark_in = None
        return self.controller.push(SetSequenceMarks(mark_in, mark_out))

    def go_to_sequence_frame(self, frame: int) -> None:
        """Show sequence frame ``frame``: its clip in the timeline and the viewer, the
        playhead on the source frame it shows."""
        project = self.controller.project
        try:
            span, source = project.locate(frame)
        except SwapTalkError as err:
            self.show_error(str(err))
            return
        self.sequence_entry_id = span.entry_id
        self.sequence_panel.select(span.entry_id)
        if span.media_id == self.clip_id and self.info is not None:
            self.seek(source)
            return
        clip = project.clips.get(span.media_id)
        if clip is not None:
            clip.playhead = source
        self.open_clip(span.media_id)

    def _entry(self, entry_id: str | None):
        project = self.controller.project
        entry_id = entry_id or self.sequence_panel.selected()
        if entry_id is None:
            current = [s for s in project.sequence if s.media_id == self.clip_id]
            entry_id = current[0].id if current else None
        if entry_id is None:
            self.show_error("select a clip in the Sequence panel first")
            return None
        try:
            return project.sequence_entry(entry_id)
        except SwapTalkError as err:
            self.show_error(str(err))
            return None

    def sequence_add_clip(self) -> bool:
        """The open clip at the end of the sequence: its marked range, or all of it."""
        clip = self._clip()
        if clip is None:
            self.show_error("open a clip to add it to the sequence")
            return False
        a = clip.mark_in if clip.mark_in is not None else 0
        b = clip.mark_out
        return self.controller.push(AddToSequence(self.clip_id, a, b))

    def sequence_remove(self, entry_id: str | None = None) -> bool:
        entry = self._entry(entry_id)
        return entry is not None and self.controller.push(RemoveFromSequence(entry.id))

    def sequence_move(self, entry_id: str | None = None, step: int = 1) -> bool:
        entry = self._entry(entry_id)
        if entry is None:
            return False
        index = self.controller.project.sequence_index(entry.id) + step
        if not 0 <= index < len(self.controller.project.sequence):
            self.show_error("the clip is at the " + ("start" if step < 0 else "end") +
                            " of the sequence already")
            return False
        ok = self.controller.push(MoveInSequence(entry.id, index))
        self.sequence_panel.select(entry.id)
        return ok

    def sequence_trim_to_marks(self, entry_id: str | None = None) -> bool:
        entry = self._entry(entry_id)
        if entry is None:
            return False
        clip = self.controller.project.clips.get(entry.media_id)
        if entry.media_id != self.clip_id:
            self.show_error(f"open {self.controller.project.clip_name(entry.media_id)} and "
                            "set its marks to trim it (click it in the Sequence panel)")
            return False
        if clip is None or (clip.mark_in is None and clip.mark_out is None):
            self.show_error("set an in and/or out mark (I / O) to trim the clip to")
            return False
        a = clip.mark_in if clip.mark_in is not None else 0
        return self.controller.push(TrimSequenceClip(entry.id, a, clip.mark_out))

    def sequence_open(self, entry_id: str) -> None:
        """Open the sequence clip's clip in the timeline, the playhead on its in point."""
        project = self.controller.project
        try:
            entry = project.sequence_entry(entry_id)
        except SwapTalkError as err:
            self.show_error(str(err))
            return
        self.sequence_entry_id = entry.id
        clip = project.clips.get(entry.media_id)
        if clip is not None:
            clip.playhead = entry.source_in
        if entry.media_id == self.clip_id and self.info is not None:
            self.seek(entry.source_in)
        else:
            self.open_clip(entry.media_id)
        self.sequence_panel.select(entry_id)
