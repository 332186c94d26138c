"""Main-window behaviour for markers and for the keys that move the playhead to a place: the
next/previous marker, the in/out marks, the previous/next edit point, and timeline zoom.
Mixed into MainWindow (see main_window.py for the attributes it relies on)."""

from __future__ import annotations

from ..core.commands import AddMarker, RemoveMarker, SetMarker
from ..core.project import DEFAULT_MARKER_COLOR, Marker, step_to
from .markers_panel import MarkerDialog, marker_label
from .timeline import MarkerView


class MarkersMixin:
    marker_color = DEFAULT_MARKER_COLOR
    """The colour of the next new marker: the one last chosen in the marker dialog."""

    # --- markers ----------------------------------------------------------------------------
    def add_marker(self) -> None:
        """M: a marker at the playhead; on a frame that has one, its dialog (as M twice does
        in Premiere)."""
        clip = self._clip()
        if clip is None or self.info is None:
            self.show_error("open a clip first")
            return
        existing = clip.marker_at(self.playhead)
        if existing is not None:
            self.edit_marker(existing.id)
            return
        taken = {m.name for m in clip.markers}
        number = next(n for n in range(1, len(taken) + 2) if f"Marker {n}" not in taken)
        marker = Marker.new(self.playhead, name=f"Marker {number}", color=self.marker_color)
        if self.controller.push(AddMarker(self.clip_id, marker)):
            self.show_message(f"added {marker.name} at {self.frame_label(self.playhead)} "
                              "(M again to rename it)")

    def marker_under_playhead(self) -> Marker | None:
        clip = self._clip()
        return clip.marker_at(self.playhead) if clip is not None else None

    def edit_marker(self, marker_id: str | None = None) -> MarkerDialog | None:
        """The dialog for a marker (by default the one at the playhead); OK renames and
        recolours it as one undo step."""
        clip = self._clip()
        if clip is None or self.info is None:
            return None
        if marker_id is None:
            under = self.marker_under_playhead()
            if under is None:
                self.show_error("no marker at the playhead (Shift+M goes to the next one)")
                return None
            marker_id = under.id
        marker = clip.find_marker(marker_id)
        if marker is None:
            return None
        dialog = MarkerDialog(marker, self.info.nominal_fps,
                              marker_label(marker, clip.markers.index(marker)), self)
        dialog.finished.connect(lambda result, d=dialog: self._marker_dialog_done(d, result))
        dialog.open()
        return dialog

    def _marker_dialog_done(self, dialog: MarkerDialog, result: int) -> None:
        dialog.deleteLater()
        clip = self._clip()
        marker = clip.find_marker(dialog.marker_id) if clip is not None else None
        if marker is None:
            return
        if result == MarkerDialog.DELETE:
            self.controller.push(RemoveMarker(self.clip_id, marker.id))
            return
        if result != MarkerDialog.DialogCode.Accepted:
            return
        values = dialog.values()
        changes = {k: v for k, v in values.items() if getattr(marker, k) != v}
        if changes:
            self.controller.push(SetMarker(self.clip_id, marker.id, **changes))
        self.marker_color = values["color"]

    def delete_marker(self, marker_id: str | None = None) -> None:
        """Delete a marker (by default the one at the playhead)."""
        if marker_id is None:
            under = self.marker_under_playhead()
            if under is None:
                self.show_error("no marker at the playhead to delete")
                return
            marker_id = under.id
        if self.clip_id:
            self.controller.push(RemoveMarker(self.clip_id, marker_id))

    def go_to_marker(self, direction: int) -> None:
        """Shift+M / Ctrl+Shift+M: the next / previous marker."""
        clip = self._clip()
        if clip is None or self.info is None:
            return
        target = step_to([m.frame for m in clip.markers], self.playhead, direction)
        if target is None:
            self.show_message("no markers after the playhead" if direction > 0 else
                              "no markers before the playhead", 2500)
            return
        self.go_to(target)

    def refresh_markers(self) -> None:
        clip = self._clip()
        if clip is None or self.info is None:
            self.markers_panel.set_markers([], 25)
            self.timeline.set_markers([])
            return
        self.timeline.set_markers([MarkerView(m.id, m.frame, m.name, m.color)
                                   for m in clip.markers])
        self.markers_panel.set_markers(clip.markers, self.info.nominal_fps, self.playhead)

    # --- going to places ------------------------------------------------------------------
    def go_to(self, frame: int) -> None:
        """Move the playhead there as a jump: playback stops, the marker list follows."""
        if self.playback.playing:
            self.playback.stop()
        self.seek(frame)
        self.markers_panel.select_frame(self.playhead)

    def go_to_mark(self, which: str) -> None:
        """Shift+I / Shift+O: the in mark, or the last frame of the marked range."""
        clip = self._clip()
        if clip is None or self.info is None:
            return
        mark = clip.mark_in if which == "in" else clip.mark_out
        if mark is None:
            self.show_message(f"no {which} mark set ({'I' if which == 'in' else 'O'} sets it)",
                              2500)
            return
        self.go_to(mark if which == "in" else mark - 1)

    def go_to_edit_point(self, direction: int) -> None:
        """Up / Down: the previous / next edit point (an edit's first frame, the frame after
        it, the clip's first and last frame)."""
        clip = self._clip()
        if clip is None or self.info is None:
            return
        target = step_to(clip.edit_points(self.info.frame_count), self.playhead, direction)
        if target is not None:
            self.go_to(target)

    def zoom_in(self) -> None:
        self.timeline.zoom_in()

    def zoom_out(self) -> None:
        self.timeline.zoom_out()
