"""Main-window behaviour for the edits' processing: queueing jobs, their progress, the cache
state of each edit, and what the timeline, inspector and playback show of it. Mixed into
MainWindow (see main_window.py for the attributes it relies on)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..app.context import RangeJob, prepared_for
from ..app.errors import user_message
from ..app.job_progress import JobProgress
from ..app.playback_frames import CachedFrames
from ..app.project_jobs import job_for_edit
from ..core.errors import SwapTalkError
from ..core.project import RangeEdit
from ..core.timebase import format_range, frame_to_timecode
from . import style
from .audio_out import Overlay
from .timeline import EditView
from .wording import edit_name, edit_range, gui_wording, write_note

log = logging.getLogger(__name__)


@dataclass
class EditProgress:
    finished: int = 0
    total: int = 0
    running: JobProgress | None = None
    """The progress of the job queued or running for the edit (the job card's)."""

    @property
    def status(self) -> str:
        if self.running is not None:
            return "running"
        if self.total > 0 and self.finished >= self.total:
            return "done"
        return "partial" if self.finished else "none"


class JobsMixin:
    def job_for(self, edit_id: str, quiet: bool = False) -> RangeJob | None:
        try:
            return job_for_edit(self.controller.project, self.clip_id, edit_id)
        except SwapTalkError as err:
            if not quiet:
                self.show_error(str(err))
            return None

    def edit_progress(self, edit: RangeEdit) -> EditProgress:
        job = self.job_for(edit.id, quiet=True)
        if job is None or not (job.do_swap or job.do_sync):
            return EditProgress()
        progress = self.jobs.progress_of(job)
        known = self.jobs.status.get(job)
        state = EditProgress(*known) if known else EditProgress()
        if known is None:
            self.jobs.query_status(job, self.status_tasks, self.status_context,
                                   self._status_known)
            state.total = -1  # unknown yet
        state.running = progress
        return state

    def refresh_edits(self) -> None:
        """Only the edit regions (processing progress), not marks or lanes."""
        clip = self._clip()
        if clip is None or self.info is None:
            return
        views = []
        for i, edit in enumerate(clip.edits):
            p = self.edit_progress(edit)
            fraction = p.running.fraction if p.running is not None else (
                p.finished / p.total if p.total > 0 else 0.0)
            views.append(EditView(edit.id, edit.start, edit.stop,
                                  style.EDIT_COLORS[i % len(style.EDIT_COLORS)], p.status,
                                  fraction, edit_name(clip, edit)))
        self.timeline.set_edits(views)
        self._refresh_inspector_status()

    def _status_known(self) -> None:
        self.refresh_edits()
        self.refresh_inspector()

    def refresh_timeline(self) -> None:
        self.markers.refresh()
        clip = self._clip()
        if clip is None or self.info is None:
            return
        self.refresh_edits()
        self.timeline.set_marks(clip.mark_in, clip.mark_out)
        self.timeline.set_playhead(self.playhead)
        self.timeline.select_edit(self.selected_edit)
        self._show_replacement_waveform()

    def _show_replacement_waveform(self) -> None:
        clip = self._clip()
        edit = clip.find(self.selected_edit) if clip and self.selected_edit else None
        if edit is None or edit.audio_id is None:
            if self._dialogue_shown is not None:
                self._dialogue_shown = None
                self.timeline.set_replacement_waveform(self.selected_edit or "", None, 0.0)
            return
        item = self.controller.project.media.get(edit.audio_id)
        cached = self.jobs.waveforms.get(item.path) if item else None
        if cached is not None:
            shown = (edit.id, id(cached), edit.audio_offset)
            if shown != self._dialogue_shown:  # unchanged: no lane refetch
                self._dialogue_shown = shown
                self.timeline.set_replacement_waveform(edit.id, cached, edit.audio_offset)
        elif item is not None and not item.missing:
            from ..media.waveform import load_or_build_waveform
            self.tasks.submit(load_or_build_waveform, item.path, doing="reading the dialogue",
                              on_done=lambda w, p=item.path: self._dialogue_ready(p, w),
                              on_error=self.show_error)

    def _dialogue_ready(self, path, waveform) -> None:
        self.jobs.waveforms[path] = waveform
        self._show_replacement_waveform()

    def refresh_inspector_if_edit_changed(self) -> None:
        if self.selected_edit is None:
            self.refresh_inspector()

    def refresh_inspector(self) -> None:
        self._update_provider_label()
        clip = self._clip()
        if clip is None or self.info is None:
            self.inspector.show_none(False)
            return
        edit = clip.find(self.selected_edit) if self.selected_edit else None
        if edit is None:
            self.inspector.show_none(True, self.marks_text(clip))
            return
        self.inspector.show_edit(self.controller.project, self.clip_id, edit,
                                 self.info.nominal_fps, self.edit_status(edit),
                                 self.models_text(), edit_name(clip, edit))

    def marks_text(self, clip) -> str:
        fps = self.info.nominal_fps
        if clip.mark_in is not None and clip.mark_out is not None:
            return f"\n\nMarked: {format_range(clip.mark_in, clip.mark_out, fps)}"
        if clip.mark_in is not None:
            return f"\n\nMarked: in {frame_to_timecode(clip.mark_in, fps)}, no out"
        if clip.mark_out is not None:
            return f"\n\nMarked: out {frame_to_timecode(clip.mark_out - 1, fps)}, no in"
        return ""

    def _refresh_inspector_status(self) -> None:
        """The status line only (progress ticks), so typing in the form is not disturbed."""
        clip = self._clip()
        edit = clip.find(self.selected_edit) if clip and self.selected_edit else None
        if edit is not None and self.inspector.edit_id == edit.id:
            self.inspector.set_status(self.edit_status(edit))

    def edit_status(self, edit: RangeEdit) -> str:
        p = self.edit_progress(edit)
        if p.running is not None:  # the job card's words and numbers
            return "queued" if p.running.state == "queued" else \
                f"processing: {p.running.text()}"
        if p.total < 0:
            return "checking the cache…"
        if p.total > 0:
            return f"processed {p.finished}/{p.total} chunks" + (
                " ✓" if p.status == "done" else "")
        return "not processed yet (the viewer computes single frames on demand)"

    def playback_processor(self) -> CachedFrames | None:
        """Processed playback from the cache, for edits whose cache state is known (their
        jobs are prepared already, so nothing heavy happens here)."""
        clip = self._clip()
        if clip is None or self.viewer.mode == "original":
            return None
        prepared = []
        for edit in clip.edits:
            job = self.job_for(edit.id, quiet=True)
            known = self.jobs.status.get(job) if job is not None else None
            if known and known[0] > 0:
                try:
                    prepared.append(prepared_for(job, self.status_context()))
                except SwapTalkError:
                    continue
        return CachedFrames(prepared) or None

    def audio_overlays(self) -> list[Overlay]:
        """Dialogue the playback should hear instead of the source (viewer not on A)."""
        clip = self._clip()
        if clip is None or self.info is None or self.viewer.mode == "original":
            return []
        out = []
        for edit in clip.edits:
            item = self.controller.project.media.get(edit.audio_id) if edit.audio_id else None
            if item is None or item.missing:
                continue
            t0 = self.info.audio_time(edit.start)
            t1 = self.info.audio_time(edit.stop) if edit.stop < self.info.frame_count else \
                self.info.audio_time(0) + float(self.info.duration_s)
            out.append(Overlay(t0, t1, item.path, edit.audio_offset))
        return out

    # --- processing -------------------------------------------------------------------------
    def process_edits(self, edit_ids: list[str]) -> list[str]:
        """Queue one processing job per edit; returns the job ids."""
        clip = self._clip()
        queued = []
        for edit_id in edit_ids:
            edit = clip.find(edit_id) if clip and edit_id else None
            if edit is None:
                continue
            job = self.job_for(edit_id)
            if job is None:
                continue
            if not (job.do_swap or job.do_sync):
                self.show_error(f"{edit_name(clip, edit)} has nothing to do: choose a face "
                                "photo and/or dialogue in the inspector")
                continue
            title = (f"Process {self.controller.project.clip_name(self.clip_id)} "
                     f"{edit_name(clip, edit)} · {edit_range(edit, self.info.nominal_fps)}")
            try:
                record = self.jobs.submit_process([job], title)
            except Exception as exc:
                self.show_error(user_message(exc, "queueing the job"))
                continue
            queued.append(record.id)
        if queued:
            self.show_message(f"queued {len(queued)} processing job(s)")
            self.refresh_timeline()
        return queued

    def _note_provider(self, result) -> None:
        """The provider the processing host really used, as its result reports it."""
        results = result if isinstance(result, list) else [result]
        used = [r.get("provider") for r in results if isinstance(r, dict) and r.get("provider")]
        if used:
            self.provider_used = used[-1]
            self._update_provider_label()

    def process_selected(self) -> None:
        clip = self._clip()
        edit_id = self.selected_edit
        if edit_id is None and clip is not None:
            edit = clip.edit_at(self.playhead)
            edit_id = edit.id if edit else None
        if edit_id is None:
            self.show_error("select an edit to process (or use Process All)")
            return
        self.process_edits([edit_id])

    def process_all(self) -> None:
        clip = self._clip()
        if clip is None or not clip.edits:
            self.show_error("this clip has no edits to process")
            return
        self.process_edits([e.id for e in clip.edits])

    def cancel_all_jobs(self) -> None:
        for record in self.jobs.records():
            if record.state in ("queued", "running"):
                self.jobs.cancel(record.id)

    def remove_job(self, job_id: str) -> None:
        self.jobs.remove(job_id)
        self.jobs_panel.drop(job_id)

    def on_job_changed(self, record) -> None:
        """Progress updates the job card at once and the timeline a few times a second;
        state changes (queued, running, done, failed) refresh everything."""
        self.jobs_panel.update_record(record, self.jobs.progress.get(record.id))
        previous = self._job_states.get(record.id)
        self._job_states[record.id] = record.state
        if previous == record.state:
            if not self._progress_refresh.isActive():
                self._progress_refresh.start()
            return
        self.controller.set_pending_jobs(self.jobs.unfinished_payloads())
        if record.state == "failed":
            self.show_error(f"{record.title}: {gui_wording(record.error or '')}")
        elif record.state == "done" and record.kind == "adapt":
            self.adapt.finished(record)
        elif record.state == "done":
            self._note_provider(record.result)
            output = record.payload.get("output") if record.kind == "export" else None
            note = write_note((record.result or {}).get("write")) if output else ""
            self.show_message(f"exported {output}{note}" if output else f"{record.title}: done",
                              10000)
        if record.finished:
            self.preview.forget()
            self.request_preview()
        self.refresh_timeline()
        self.refresh_inspector()
