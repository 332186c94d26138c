"""What feeds the picture and sound lanes: the clip's sources, the replacement dialogue and the
background fetches that turn them into thumbnails and envelopes for the visible range."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from ...app.timeline_model import thumbnail_slots, thumbnail_step
from .fetch import Thumbs, envelope_window, thumbnail_images
from .loader import LatestLoader
from .media_items import Envelope

if TYPE_CHECKING:
    from .widget import TimelineWidget

THUMB_BATCH = 8  # pictures per background call, so a pan re-prioritises quickly
_serials = itertools.count(1)


@dataclass
class Dialogue:
    edit_id: str
    pyramid: object
    offset_s: float
    serial: int


class LaneFeeds(QObject):
    def __init__(self, timeline: TimelineWidget):
        super().__init__(timeline)
        self.t = timeline
        self.waveform: object | None = None
        self.thumbs: Thumbs | None = None
        self.dialogue: Dialogue | None = None
        self.clip_serial = 0
        self.audio_serial = 0
        self._failed_thumbs: set[int] = set()
        self._thumb_height = 0
        self._audio_loader = LatestLoader(self._on_audio_envelope, "waveform", self)
        self._dialogue_loader = LatestLoader(self._on_dialogue_envelope, "dialogue", self)
        self._thumb_loader = LatestLoader(self._on_thumbnails, "thumbs", self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # a burst of range changes becomes one fetch
        self._timer.timeout.connect(self.refresh)

    def set_sources(self, waveform: object | None, thumbs: Thumbs | None) -> None:
        self.clip_serial = next(_serials)
        self.thumbs = thumbs
        self._failed_thumbs.clear()
        self._thumb_height = 0
        self.t._thumb_item.clear()
        self.set_waveform(waveform, "")
        self.set_dialogue("", None, 0.0)

    def set_waveform(self, waveform: object | None, hint: str) -> None:
        self.waveform = waveform
        self.audio_serial = next(_serials)
        self.t._audio_item.set_envelope(None)
        self.t._audio_item.empty_hint = hint if waveform is None else ""
        self.t._audio_item.update()
        self.schedule()

    def close(self) -> None:
        self._timer.stop()
        for loader in (self._audio_loader, self._dialogue_loader, self._thumb_loader):
            loader.close()

    def schedule(self) -> None:
        self._timer.start()

    # -- dialogue lane ----------------------------------------------------------------------

    def set_dialogue(self, edit_id: str, pyramid: object | None, offset_s: float) -> None:
        item = self.t._dialogue_item
        old = self.dialogue
        if pyramid is None:
            self.dialogue = None
            item.set_envelope(None)
        elif old is not None and old.pyramid is pyramid and old.edit_id == edit_id:
            old.offset_s = float(offset_s)
        else:
            self.dialogue = Dialogue(edit_id, pyramid, float(offset_s), next(_serials))
            item.set_envelope(None)
        self.update_dialogue_geometry()
        self.schedule()

    def dialogue_origin(self) -> float | None:
        """Where the dialogue's time 0 falls, in frames (None without one to show)."""
        d = self.dialogue
        edit = self.t.state.edits.get(d.edit_id) if d is not None else None
        if edit is None:
            return None
        clock = self.t.state.clock
        return float(clock.frames(clock.seconds(edit.start) + d.offset_s))

    def offset_for(self, start_x: float) -> float:
        """The offset that puts the dialogue's time 0 at frame position ``start_x``."""
        clock = self.t.state.clock
        edit = self.t.state.edits[self.dialogue.edit_id]
        return float(clock.seconds(start_x) - clock.seconds(edit.start))

    def preview_offset(self, offset_s: float) -> None:
        if self.dialogue is not None:
            self.dialogue.offset_s = offset_s
            self.update_dialogue_geometry()
            self.schedule()

    def update_dialogue_geometry(self) -> None:
        item = self.t._dialogue_item
        origin = self.dialogue_origin()
        if origin is None:
            item.extent = item.highlight = None
            item.caption = ""
            item.update()
            return
        d, clock = self.dialogue, self.t.state.clock
        edit = self.t.state.edits[d.edit_id]
        end = clock.frames(clock.seconds(origin) + float(d.pyramid.duration_s))
        item.extent = (origin, float(end))
        item.highlight = (float(edit.start), float(edit.stop))
        item.caption = f"offset {d.offset_s:+.3f} s"
        if item.envelope is not None:
            item.shift_frames = origin - item.envelope.origin
        item.update()

    # -- fetching for the visible range -----------------------------------------------------

    def refresh(self) -> None:
        t = self.t
        x0, x1 = t.visible_range()
        pixels = max(1, int(t._view.width()))
        clock = t.state.clock
        visible = (max(x0, 0.0), min(x1, float(t.state.frame_count)))
        if self.waveform is not None and visible[1] > visible[0]:
            t0, t1 = (float(clock.seconds(x)) for x in visible)
            self._audio_loader.request(self.audio_serial, lambda p=self.waveform: envelope_window(
                p, t0, t1, pixels, 0.0, clock))
        self._refresh_dialogue(x0, x1, pixels)
        self._refresh_thumbnails(x0, x1)

    def _refresh_dialogue(self, x0: float, x1: float, pixels: int) -> None:
        d, origin = self.dialogue, self.dialogue_origin()
        if d is None or origin is None:
            return
        clock = self.t.state.clock
        origin_s = float(clock.seconds(origin))
        t0 = max(0.0, float(clock.seconds(x0)) - origin_s)
        t1 = min(float(d.pyramid.duration_s), float(clock.seconds(x1)) - origin_s)
        if t1 > t0:
            self._dialogue_loader.request(d.serial, lambda p=d.pyramid: envelope_window(
                p, t0, t1, pixels, origin_s, clock))

    def _refresh_thumbnails(self, x0: float, x1: float) -> None:
        item = self.t._thumb_item
        if self.thumbs is None:
            item.slots = []
            return
        lane = self.t.state.lanes["video"]
        height = max(8, int(round((lane.height - 4) * self.t.devicePixelRatioF())))
        if self._thumb_height and not 0.75 < height / self._thumb_height < 1.34:
            item.images.clear()  # the lane was resized a lot: fetch sharper pictures
            self._failed_thumbs.clear()
        item.step = thumbnail_step(item.aspect * (lane.height - 4), self.t._ppf())
        item.slots = thumbnail_slots(x0, x1, item.step, self.t.state.frame_count)
        item.update()
        missing = [f for f in item.slots
                   if f not in item.images and f not in self._failed_thumbs][:THUMB_BATCH]
        if missing and not self._thumb_loader.busy:
            self._thumb_height = height
            self._thumb_loader.request(self.clip_serial, lambda t=self.thumbs: thumbnail_images(
                t, missing, height))

    def _on_audio_envelope(self, serial: int, envelope: Envelope) -> None:
        if serial == self.audio_serial:
            self.t._audio_item.set_envelope(envelope)

    def _on_dialogue_envelope(self, serial: int, envelope: Envelope) -> None:
        if self.dialogue is not None and serial == self.dialogue.serial:
            self.t._dialogue_item.set_envelope(envelope)
            self.update_dialogue_geometry()

    def _on_thumbnails(self, serial: int, result: tuple) -> None:
        if serial == self.clip_serial:
            frames, images, failed = result
            self._failed_thumbs.update(failed)
            self.t._thumb_item.add_images(frames, images)
        self.schedule()  # the next batch, if the view still wants more
