"""Markers, and the keys that move the playhead to a place: the next/previous marker, the
in/out marks, the previous/next edit point.

A controller with its own state (the colour of the next marker) and the collaborators it is
given — the document's controller, the timeline, the markers panel, the playback — plus
``MarkerCalls`` for what only the window knows (the open clip, the playhead, seeking, the
status bar), instead of a mixin that reads the window's attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from ..core.commands import AddMarker, RemoveMarker, SetMarker
from ..core.project import DEFAULT_MARKER_COLOR, Marker, step_to
from .markers_panel import MarkerDialog, MarkersPanel, marker_label
from .open_clip import OpenClip
from .playback import PlaybackController
from .project_controller import ProjectController
from .timeline import MarkerView, TimelineWidget


@dataclass(frozen=True)
class MarkerCalls:
    """What the controller asks of the window it works in."""

    open_clip: Callable[[], OpenClip | None]
    playhead: Callable[[], int]
    seek: Callable[[int], None]
    frame_label: Callable[[int], str]
    show_error: Callable[[str], None]
    show_message: Callable[..., None]
    """(text[, milliseconds]) on the status bar."""


class MarkersController:
    def __init__(self, parent: QWidget, project: ProjectController, timeline: TimelineWidget,
                 panel: MarkersPanel, playback: PlaybackController, window: MarkerCalls):
        self.parent = parent
        self.project = project
        self.timeline = timeline
        self.panel = panel
        self.playback = playback
        self.window = window
        self.color = DEFAULT_MARKER_COLOR
        """The colour of the next new marker: the one last chosen in the marker dialog."""

    # --- markers ----------------------------------------------------------------------------
    def add(self) -> None:
        """M: a marker at the playhead; on a frame that has one, its dialog (as M twice does
        in Premiere)."""
        shown = self.window.open_clip()
        if shown is None:
            self.window.show_error("open a clip first")
            return
        playhead = self.window.playhead()
        existing = shown.clip.marker_at(playhead)
        if existing is not None:
            self.edit(existing.id)
            return
        taken = {m.name for m in shown.clip.markers}
        number = next(n for n in range(1, len(taken) + 2) if f"Marker {n}" not in taken)
        marker = Marker.new(playhead, name=f"Marker {number}", color=self.color)
        if self.project.push(AddMarker(shown.clip_id, marker)):
            self.window.show_message(f"added {marker.name} at {self.window.frame_label(playhead)}"
                                     " (M again to rename it)")

    def under_playhead(self) -> Marker | None:
        shown = self.window.open_clip()
        return shown.clip.marker_at(self.window.playhead()) if shown is not None else None

    def edit(self, marker_id: str | None = None) -> MarkerDialog | None:
        """The dialog for a marker (by default the one at the playhead); OK renames and
        recolours it as one undo step."""
        shown = self.window.open_clip()
        if shown is None:
            return None
        if marker_id is None:
            under = self.under_playhead()
            if under is None:
                self.window.show_error("no marker at the playhead (Shift+M goes to the next "
                                       "one)")
                return None
            marker_id = under.id
        marker = shown.clip.find_marker(marker_id)
        if marker is None:
            return None
        dialog = MarkerDialog(marker, shown.info.nominal_fps,
                              marker_label(marker, shown.clip.markers.index(marker)),
                              self.parent)
        dialog.finished.connect(lambda result, d=dialog: self._dialog_done(d, result))
        dialog.open()
        return dialog

    def _dialog_done(self, dialog: MarkerDialog, result: int) -> None:
        dialog.deleteLater()
        shown = self.window.open_clip()
        marker = shown.clip.find_marker(dialog.marker_id) if shown is not None else None
        if marker is None:
            return
        if result == MarkerDialog.DELETE:
            self.project.push(RemoveMarker(shown.clip_id, marker.id))
            return
        if result != MarkerDialog.DialogCode.Accepted:
            return
        values = dialog.values()
        changes = {k: v for k, v in values.items() if getattr(marker, k) != v}
        if changes:
            self.project.push(SetMarker(shown.clip_id, marker.id, **changes))
        self.color = values["color"]

    def delete(self, marker_id: str | None = None) -> None:
        """Delete a marker (by default the one at the playhead)."""
        if marker_id is None:
            under = self.under_playhead()
            if under is None:
                self.window.show_error("no marker at the playhead to delete")
                return
            marker_id = under.id
        shown = self.window.open_clip()
        if shown is not None:
            self.project.push(RemoveMarker(shown.clip_id, marker_id))

    def go_to_marker(self, direction: int) -> None:
        """Shift+M / Ctrl+Shift+M: the next / previous marker."""
        shown = self.window.open_clip()
        if shown is None:
            return
        target = step_to([m.frame for m in shown.clip.markers], self.window.playhead(),
                         direction)
        if target is None:
            self.window.show_message("no markers after the playhead" if direction > 0 else
                                     "no markers before the playhead", 2500)
            return
        self.go_to(target)

    def refresh(self) -> None:
        shown = self.window.open_clip()
        if shown is None:
            self.panel.set_markers([], 25)
            self.timeline.set_markers([])
            return
        clip = shown.clip
        self.timeline.set_markers([MarkerView(m.id, m.frame, m.name, m.color)
                                   for m in clip.markers])
        self.panel.set_markers(clip.markers, shown.info.nominal_fps, self.window.playhead())

    # --- going to places ------------------------------------------------------------------
    def go_to(self, frame: int) -> None:
        """Move the playhead there as a jump: playback stops, the marker list follows."""
        if self.playback.playing:
            self.playback.stop()
        self.window.seek(frame)
        self.panel.select_frame(self.window.playhead())

    def go_to_mark(self, which: str) -> None:
        """Shift+I / Shift+O: the in mark, or the last frame of the marked range."""
        shown = self.window.open_clip()
        if shown is None:
            return
        mark = shown.clip.mark_in if which == "in" else shown.clip.mark_out
        if mark is None:
            self.window.show_message(f"no {which} mark set ({'I' if which == 'in' else 'O'} "
                                     "sets it)", 2500)
            return
        self.go_to(mark if which == "in" else mark - 1)

    def go_to_edit_point(self, direction: int) -> None:
        """Up / Down: the previous / next edit point (an edit's first frame, the frame after
        it, the clip's first and last frame)."""
        shown = self.window.open_clip()
        if shown is None:
            return
        target = step_to(shown.clip.edit_points(shown.info.frame_count), self.window.playhead(),
                         direction)
        if target is not None:
            self.go_to(target)
