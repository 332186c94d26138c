"""The open clip: opening it, the transport, the marks, and the edits the user makes on it
(each one undo step through the document's controller).

A controller with its own state (which clip is open and its video, the videos probed so far,
the playhead, the selected edit, the clip's sound) and the collaborators it is given — the
document's controller, the background tasks, the timeline, the playback, the viewer and the
media bin — plus ``EditCalls`` for what the window and its other parts do when the clip
changes (refreshing the timeline, the inspector, the sequence and the preview; the status
bar), instead of a mixin that reads the window's attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..core.commands import (
    AddClip,
    AddEdit,
    MoveEdit,
    RemoveEdit,
    SetEditField,
    SetMarks,
    TrimEdit,
)
from ..core.project import ClipState, RangeEdit
from ..core.timebase import format_range
from ..media import VideoInfo
from .media_bin import MediaBin
from .playback import PlaybackController
from .project_controller import ProjectController
from .tasks import TaskRunner
from .timeline import TimelineWidget
from .viewer import Viewer
from .wording import edit_name

log = logging.getLogger(__name__)
DEFAULT_SPAN_S = 2.0


@dataclass(frozen=True)
class EditCalls:
    """What the controller asks of the window it works in."""

    refresh_timeline: Callable[[], None]
    refresh_inspector: Callable[[], None]
    refresh_inspector_if_edit_changed: Callable[[], None]
    show_replacement_waveform: Callable[[], None]
    """The selected edit's dialogue in the timeline's replacement lane."""
    forget_replacement_waveform: Callable[[], None]
    """A clip opened: the replacement lane shows nothing yet."""
    refresh_sequence: Callable[[], None]
    refresh_sequence_playhead: Callable[[], None]
    request_preview: Callable[[], None]
    frame_label: Callable[[int], str]
    show_error: Callable[[str], None]
    show_message: Callable[..., None]
    """(text[, milliseconds]) on the status bar."""


class EditController:
    def __init__(self, project: ProjectController, tasks: TaskRunner, timeline: TimelineWidget,
                 playback: PlaybackController, viewer: Viewer, media_bin: MediaBin,
                 window: EditCalls):
        self.project = project
        self.tasks = tasks
        self.timeline = timeline
        self.playback = playback
        self.viewer = viewer
        self.media_bin = media_bin
        self.window = window
        self.clip_id: str | None = None
        """The clip shown in the timeline and the viewer (set together with ``info``)."""
        self.info: VideoInfo | None = None
        self.infos: dict[str, VideoInfo] = {}
        """The videos probed so far, by media id."""
        self.playhead = 0
        self.selected_edit: str | None = None
        self.waveform = None
        """The open clip's sound, once read."""

    # --- the open clip ----------------------------------------------------------------------
    def clip(self) -> ClipState | None:
        return self.project.project.clips.get(self.clip_id) if self.clip_id else None

    def open_clip(self, media_id: str) -> None:
        project = self.project.project
        item = project.media.get(media_id)
        if item is None or item.kind != "video":
            return
        if item.missing:
            self.window.show_error(f"{item.name} is missing; relink it (File ▸ Relink Media)")
            return
        if media_id not in project.clips:
            self.project.push(AddClip(media_id))
            return  # the change brings us back here with the clip open
        project.current_clip = media_id
        if media_id == self.clip_id and self.info is not None:
            return
        info = self.infos.get(media_id)
        if info is not None:
            self._show_clip(media_id, info)
            return
        self.window.show_message(f"opening {item.name}…", 0)
        from ..media import probe_video
        self.tasks.submit(probe_video, item.path, doing=f"opening {item.name}",
                          on_done=lambda i, m=media_id: self._probed(m, i),
                          on_error=self.window.show_error)

    def _probed(self, media_id: str, info: VideoInfo) -> None:
        self.infos[media_id] = info
        if self.project.project.current_clip == media_id:
            self._show_clip(media_id, info)

    def _show_clip(self, media_id: str, info: VideoInfo) -> None:
        clip = self.project.project.clips[media_id]
        self.clip_id, self.info = media_id, info
        self.playhead = min(clip.playhead, info.frame_count - 1)
        self.playback.set_clip(info, self.playhead)
        self.waveform = None
        self.timeline.set_clip(info.frame_count, info.nominal_fps, self._frame_times(info),
                               None, self._thumbs_for(info))
        self.timeline.set_waveform(None, "Reading the sound…" if info.audio is not None
                                   else "No audio")
        self.window.forget_replacement_waveform()
        self.window.show_message(f"opened {info.name}: {info.frame_count} frames, "
                                 f"{float(info.fps):.3g} fps, {info.width}×{info.height}")
        if info.audio is not None:
            from ..media.waveform import load_or_build_waveform
            self.tasks.submit(load_or_build_waveform, info.path, doing="reading the sound",
                              on_done=lambda w, m=media_id: self._waveform_ready(m, w),
                              on_error=self.window.show_error)
        self.media_bin.set_media(self.project.project, self.clip_id)
        self.window.refresh_timeline()
        self.window.refresh_inspector()
        self.window.refresh_sequence()
        self.window.request_preview()

    @staticmethod
    def _frame_times(info: VideoInfo):
        """Where each frame plays on the audio clock (the waveform's time axis)."""
        return info.frame_times + (info.audio_time(0) - float(info.frame_times[0]))

    @staticmethod
    def _thumbs_for(info: VideoInfo):
        from ..media.thumbnails import thumbnail_strip
        return lambda frames, height: thumbnail_strip(info, list(frames), height)

    def _waveform_ready(self, media_id: str, waveform) -> None:
        if media_id != self.clip_id or self.info is None:
            return
        self.waveform = waveform
        self.timeline.set_waveform(waveform)  # keeps the editor's zoom, edits and playhead

    def zoom_to_fit(self) -> None:
        self.timeline.zoom_to_fit()

    def timeline_close(self) -> None:
        self.timeline.shutdown()

    # --- transport --------------------------------------------------------------------------
    def seek(self, index: int) -> None:
        if self.info is None:
            return
        index = max(0, min(int(index), self.info.frame_count - 1))
        if self.playback.playing:
            self.playback.seek(index)
            return
        self.playhead = index
        self.playback.position = index
        self.timeline.set_playhead(index)
        self.viewer.timecode.setText(self.window.frame_label(index))
        self.window.refresh_sequence_playhead()
        self.remember_playhead()
        self.window.refresh_inspector_if_edit_changed()
        self.window.request_preview()

    def step(self, frames: int) -> None:
        if self.playback.playing:
            self.playback.stop()
        self.seek(self.playhead + frames)

    def step_seconds(self, seconds: int) -> None:
        if self.info is not None:
            self.step(int(round(float(self.info.nominal_fps))) * seconds)

    def seek_end(self) -> None:
        if self.info is not None:
            self.seek(self.info.frame_count - 1)

    def remember_playhead(self) -> None:
        """The playhead is stored in the project, but moving it is not an undoable change."""
        clip = self.clip()
        if clip is not None:
            clip.playhead = self.playhead

    # --- marks ------------------------------------------------------------------------------
    def mark_in(self) -> None:
        clip = self.clip()
        if clip is None:
            return
        out = clip.mark_out if clip.mark_out is not None and clip.mark_out > self.playhead \
            else None
        self.project.push(SetMarks(self.clip_id, self.playhead, out))

    def mark_out(self) -> None:
        clip = self.clip()
        if clip is None:
            return
        stop = self.playhead + 1  # the out mark's frame is part of the range
        start = clip.mark_in if clip.mark_in is not None and clip.mark_in < stop else None
        self.project.push(SetMarks(self.clip_id, start, stop))

    def clear_marks(self) -> None:
        clip = self.clip()
        if clip is not None and (clip.mark_in is not None or clip.mark_out is not None):
            self.project.push(SetMarks(self.clip_id, None, None))

    def on_marks_dragged(self, mark_in, mark_out) -> None:
        clip = self.clip()
        if clip is not None and (clip.mark_in, clip.mark_out) != (mark_in, mark_out):
            self.project.push(SetMarks(self.clip_id, mark_in, mark_out))

    # --- edits ------------------------------------------------------------------------------
    def new_edit_span(self) -> tuple[int, int] | None:
        """The marks when set, else two seconds centred on the playhead, shortened so that
        it does not run into a neighbouring edit."""
        clip, info = self.clip(), self.info
        if clip is None or info is None:
            return None
        n = info.frame_count
        if clip.mark_in is not None and clip.mark_out is not None:
            return clip.mark_in, clip.mark_out
        half = max(1, int(round(float(info.nominal_fps) * DEFAULT_SPAN_S / 2)))
        start = clip.mark_in if clip.mark_in is not None else max(0, self.playhead - half)
        stop = clip.mark_out if clip.mark_out is not None else min(n, start + 2 * half)
        for other in clip.edits:
            if other.start <= self.playhead < other.stop:
                return None
            if other.stop <= self.playhead:
                start = max(start, other.stop)
            elif other.start > self.playhead:
                stop = min(stop, other.start)
        return (start, stop) if stop > start else None

    def add_edit(self) -> None:
        span, info = self.new_edit_span(), self.info
        if span is None:
            self.window.show_error("no room for a new edit here: move the playhead off the "
                                   "existing edit or set in/out marks" if self.info else
                                   "open a clip first")
            return
        project = self.project.project
        photos = [m.id for m in project.media.values() if m.kind == "photo"]
        lines = [m.id for m in project.media.values() if m.kind == "audio"]
        edit = RangeEdit.new(*span, photo_id=photos[0] if len(photos) == 1 else None,
                             audio_id=lines[0] if len(lines) == 1 else None)
        if self.project.push(AddEdit(self.clip_id, edit)):
            self.select_edit(edit.id)
            self.window.show_message(f"added {edit_name(self.clip(), edit)}: "
                                     f"{format_range(*span, info.nominal_fps)}")

    def remove_edit(self, edit_id: str | None) -> None:
        if self.clip_id and edit_id:
            self.project.push(RemoveEdit(self.clip_id, edit_id))

    def remove_selected_edit(self) -> None:
        self.remove_edit(self.selected_edit)

    def select_edit(self, edit_id: str | None) -> None:
        self.selected_edit = edit_id or None
        self.timeline.select_edit(self.selected_edit)
        self.window.refresh_inspector()
        self.window.show_replacement_waveform()

    def on_field_changed(self, edit_id: str, field: str, value, drag_id) -> None:
        clip = self.clip()
        edit = clip.find(edit_id) if clip else None
        if edit is None or getattr(edit, field, object()) == value:
            return  # e.g. focus leaving an unchanged label: not an undo step
        self.project.push(SetEditField(self.clip_id, edit_id, field, value, drag_id))

    def set_selected_field(self, field: str, value) -> None:
        edit_id = self.selected_edit
        if edit_id is None:
            clip = self.clip()
            edit = clip.edit_at(self.playhead) if clip else None
            edit_id = edit.id if edit else None
        if edit_id is None:
            self.window.show_error("select an edit first (click it on the timeline)")
            return
        self.on_field_changed(edit_id, field, value, None)

    def on_edit_dragged(self, edit_id: str, start: int, stop: int, drag_id: str,
                        finished: bool) -> None:
        clip = self.clip()
        edit = clip.find(edit_id) if clip else None
        if edit is None or (edit.start, edit.stop) == (start, stop):
            return
        if stop - start == edit.length:
            command = MoveEdit(self.clip_id, edit_id, start, drag_id)
        else:
            command = TrimEdit(self.clip_id, edit_id, start, stop, drag_id)
        self.project.push(command)

    def on_offset_dragged(self, edit_id: str, offset: float, drag_id: str,
                          finished: bool) -> None:
        self.on_field_changed(edit_id, "audio_offset", round(float(offset), 6), drag_id)
