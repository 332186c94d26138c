"""The main window: media bin, viewer, timeline, edit inspector, markers, sequence, job panel
and status bar.

The GUI thread only paints and dispatches: decoding and previews run in the preview worker,
processing and exports in the job queue, probing, peaks and thumbnails in background tasks.
Everything the user changes goes through the project controller's undo stack.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSizePolicy, QVBoxLayout, QWidget

from ..app.context import EngineContext, make_context
from ..app.preferences import Preferences
from ..app.project_jobs import model_set_for
from ..core.timebase import frame_to_timecode
from ..media import VideoInfo
from .actions import build_menus
from .adapt_controller import AdaptController, WindowCalls
from .edit_controller import EditCalls, EditController
from .errors import guarded
from .inspector import Inspector
from .job_bridge import JobBridge
from .jobs_panel import JobsPanel
from .markers_controller import MarkerCalls, MarkersController
from .markers_panel import MarkersPanel
from .media_bin import MediaBin, dropped_paths
from .open_clip import OpenClip
from .playback import PlaybackController
from .preview_worker import FrameResult, PreviewWorker, ProcessedResult
from .project_controller import ProjectController
from .sequence_panel import SequencePanel
from .tasks import TaskRunner
from .timeline import TimelineWidget
from .timeline.sequence_strip import SequenceStrip
from .transport_keys import TransportKeys
from .viewer import Viewer
from .widgets import ElidedLabel
from .window_files import FileMixin
from .window_jobs import JobsMixin
from .window_plugins import note_disabled_plugins
from .window_sequence import SequenceMixin
from .wording import gui_wording

log = logging.getLogger(__name__)
MIN_SIDE_W = 200
"""The media bin's, the jobs' and the markers' narrowest (room for a name and a status)."""
MIN_INSPECTOR_W = 320
MIN_DOCK_H = 96


def initial_size() -> tuple[int, int]:
    """1440×900, or the screen's free area when that is smaller (a 1280×720 laptop)."""
    from PySide6.QtGui import QGuiApplication
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return 1440, 900
    free = screen.availableGeometry()
    return min(1440, max(800, free.width())), min(900, max(600, free.height()))


class MainWindow(FileMixin, JobsMixin, SequenceMixin, QMainWindow):
    def __init__(self, prefs: Preferences | None = None, *, models_dirs: list[Path] = (),
                 session_lock: bool = True):
        super().__init__()
        self.prefs = prefs or Preferences.load()
        self.prefs.apply_cache_location()
        self.extra_model_dirs = [Path(p) for p in models_dirs]
        self.setWindowTitle("SwapTalk Desktop")
        self.resize(*initial_size())
        self._laid_out = False
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.provider_used = "not loaded yet"
        self.model_set_used = ""
        self.ask_before_closing = True
        """False in tests and scripts: close without the "save changes?" question."""
        self._closing = False
        self._icons_asked: set[str] = set()
        self._job_states: dict[str, str] = {}
        self._dialogue_shown: tuple | None = None
        self._progress_refresh = QTimer(self, singleShot=True, interval=250)
        self._progress_refresh.timeout.connect(self.refresh_edits)

        self.tasks = TaskRunner(2, self)
        self.status_tasks = TaskRunner(1, self)  # range status: one thread, its own context
        self._status_ctx: EngineContext | None = None
        self.controller = ProjectController(
            {"model_set": self.prefs.model_set, "provider": self.prefs.provider},
            self.prefs.autosave_s, self)
        if session_lock:
            self.controller.acquire_lock()
        self.preview = PreviewWorker(self.make_context, self)
        self.jobs = JobBridge(self.model_dirs, self)
        self.adapt = AdaptController(self, self.controller, self.jobs, WindowCalls(
            open_clip=self._open_clip, make_context=self.make_context, model_dirs=self.model_dirs,
            models_changed=self._models_changed, show_error=self.show_error,
            show_message=self.show_message))
        self.playback = PlaybackController(self)
        self.transport = TransportKeys(self.playback, self.step, self)

        self.viewer = Viewer()
        self.setCentralWidget(self.viewer)
        self.media_bin = MediaBin()
        self.inspector = Inspector()
        self.timeline = TimelineWidget()
        self.jobs_panel = JobsPanel()
        self.markers_panel = MarkersPanel()
        self.sequence_panel = SequencePanel()
        self.sequence_strip = SequenceStrip()
        self.sequence_strip.hide()  # shown once the sequence has two clips
        self.sequence_entry_id: str | None = None
        """The sequence clip the user is in (a clip can be in the sequence twice)."""
        self.edits = EditController(
            self.controller, self.tasks, self.timeline, self.playback, self.viewer,
            self.media_bin, EditCalls(
                refresh_timeline=self.refresh_timeline, refresh_inspector=self.refresh_inspector,
                refresh_inspector_if_edit_changed=self.refresh_inspector_if_edit_changed,
                show_replacement_waveform=self._show_replacement_waveform,
                forget_replacement_waveform=lambda: setattr(self, "_dialogue_shown", None),
                refresh_sequence=self.refresh_sequence,
                refresh_sequence_playhead=self.refresh_sequence_playhead,
                request_preview=self.request_preview, frame_label=self.frame_label,
                show_error=self.show_error, show_message=self.show_message))
        timeline_box = QWidget()
        box = QVBoxLayout(timeline_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.sequence_strip)
        box.addWidget(self.timeline, 1)
        self.timeline.setMinimumHeight(MIN_DOCK_H)  # as when it was the dock's own widget
        self.docks: list[QDockWidget] = []
        # each panel has a minimum that keeps it readable down to 1280×720; the window's
        # minimum is their sum, never the width of a text (labels elide or wrap: widgets.py)
        self._dock("Media", self.media_bin, Qt.DockWidgetArea.LeftDockWidgetArea, MIN_SIDE_W)
        self._dock("Edit Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea,
                   MIN_INSPECTOR_W)
        self._dock("Timeline", timeline_box, Qt.DockWidgetArea.BottomDockWidgetArea, 0)
        self._dock("Jobs", self.jobs_panel, Qt.DockWidgetArea.LeftDockWidgetArea, MIN_SIDE_W)
        self._dock("Markers", self.markers_panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                   MIN_SIDE_W)
        media, _, timeline, jobs, markers = self.docks
        self.splitDockWidget(media, jobs, Qt.Orientation.Vertical)
        # beside the timeline: the list of its points, as tall as the timeline
        self.splitDockWidget(timeline, markers, Qt.Orientation.Horizontal)
        # the sequence shares the markers' place (a tab), so the layout's minimum is unchanged
        self._dock("Sequence", self.sequence_panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                   MIN_SIDE_W)
        self.sequence_dock = self.docks.pop()
        self.tabifyDockWidget(markers, self.sequence_dock)
        markers.raise_()
        self.lay_out_docks()
        self._build_status_bar()
        self.markers = MarkersController(
            self, self.controller, self.timeline, self.markers_panel, self.playback,
            MarkerCalls(open_clip=self._open_clip, playhead=lambda: self.playhead, seek=self.seek,
                        frame_label=self.frame_label, show_error=self.show_error,
                        show_message=self.show_message))
        self.acts = build_menus(self)
        self._connect()
        self.refresh_recent_menu()
        self._on_replaced()
        self.tasks.submit(self._encoders, on_done=self._set_encoders)
        QTimer.singleShot(0, self.probe_models)
        QTimer.singleShot(0, lambda: note_disabled_plugins(self))  # Help ▸ Plugins… has more
        self.jobs.client.warm_up()

    # --- construction -----------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea,
              min_width: int) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", ""))
        dock.setWidget(widget)
        if min_width:
            widget.setMinimumWidth(min_width)
        widget.setMinimumHeight(MIN_DOCK_H)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks.append(dock)

    def lay_out_docks(self) -> None:
        """Sizes in proportion to the window: side panels about a sixth of its width (at least
        their minimum), the timeline about a third of its height."""
        media, inspector, timeline, jobs, markers = self.docks[:5]
        w, h = max(self.width(), 1280), max(self.height(), 720)
        side = max(MIN_SIDE_W, w // 6)
        self.resizeDocks([media, inspector], [side + 20, max(MIN_INSPECTOR_W, w // 4)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([media, jobs], [h // 3, h // 4], Qt.Orientation.Vertical)
        self.resizeDocks([timeline, markers], [w - 270, 270], Qt.Orientation.Horizontal)
        self.resizeDocks([timeline], [h // 3], Qt.Orientation.Vertical)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.provider_label = ElidedLabel()
        self.audio_label = ElidedLabel()
        for label in (self.provider_label, self.audio_label):  # full width when there is room
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        # the message (an error naming a long path) is cut at the bar's end: the whole of it
        # is the bar's tooltip and in the log
        bar.messageChanged.connect(lambda text: bar.setToolTip(text))
        bar.addPermanentWidget(self.audio_label)
        bar.addPermanentWidget(self.provider_label)
        self._update_provider_label()
        if self.playback.audio.status:
            self.audio_label.setText(f"Sound: {self.playback.audio.status}")

    def _connect(self) -> None:
        c = self.controller
        c.changed.connect(self._on_changed)
        c.replaced.connect(self._on_replaced)
        c.dirtyChanged.connect(lambda _d: self._update_title())
        c.pathChanged.connect(lambda _p: self._update_title())
        c.message.connect(self.show_message)
        c.error.connect(self.show_error)
        c.recentChanged.connect(self.refresh_recent_menu)

        self.preview.frameReady.connect(self._on_frame)
        self.preview.processedReady.connect(self._on_processed)
        self.preview.modelsReady.connect(self._on_models)
        self.preview.modelsFailed.connect(self._on_models_failed)
        self.viewer.modeChanged.connect(lambda _m: self.request_preview())
        self.playback.frameShown.connect(self._on_playback_frame)
        self.playback.speedChanged.connect(self._on_speed)
        self.playback.overlays = self.audio_overlays
        self.playback.processed_frames = self.playback_processor

        self.media_bin.filesDropped.connect(self.import_files)
        self.media_bin.importRequested.connect(self.import_dialog)
        self.media_bin.openRequested.connect(self.edits.open_clip)
        self.media_bin.relinkRequested.connect(lambda _m: self.relink_dialog())
        self.media_bin.removeRequested.connect(self.remove_media)
        self.media_bin.usePhotoRequested.connect(
            lambda m: self.edits.set_selected_field("photo_id", m))
        self.media_bin.useDialogueRequested.connect(
            lambda m: self.edits.set_selected_field("audio_id", m))

        self.inspector.fieldChanged.connect(self.edits.on_field_changed)
        self.inspector.addRequested.connect(self.edits.add_edit)
        self.inspector.processRequested.connect(lambda e: self.process_edits([e]))
        self.inspector.removeRequested.connect(self.edits.remove_edit)
        self.inspector.adaptRequested.connect(self.adapt.open_dialog)

        t = self.timeline
        t.playheadDragged.connect(self.edits.seek)
        t.playheadDragged.connect(self.playback.scrub)
        t.seekRequested.connect(self.edits.seek)
        t.editSelected.connect(self.edits.select_edit)
        t.editDragged.connect(self.edits.on_edit_dragged)
        t.offsetDragged.connect(self.edits.on_offset_dragged)
        t.marksChanged.connect(self.edits.on_marks_dragged)
        t.markerActivated.connect(self.markers.edit)

        m = self.markers_panel
        m.jumpRequested.connect(self.markers.go_to)
        m.editRequested.connect(self.markers.edit)
        m.deleteRequested.connect(self.markers.delete)
        m.addRequested.connect(self.markers.add)

        q = self.sequence_panel
        q.openRequested.connect(self.sequence_open)
        q.addRequested.connect(self.sequence_add_clip)
        q.removeRequested.connect(self.sequence_remove)
        q.moveRequested.connect(self.sequence_move)
        q.trimRequested.connect(self.sequence_trim_to_marks)
        self.sequence_strip.frameRequested.connect(self.go_to_sequence_frame)

        self.jobs.recordChanged.connect(self.on_job_changed)
        self.jobs_panel.cancelRequested.connect(self.jobs.cancel)
        self.jobs_panel.retryRequested.connect(self.jobs.retry)
        self.jobs_panel.removeRequested.connect(self.remove_job)

    # --- the open clip (the edit controller's; tests and the sequence read it here) ----------
    @property
    def clip_id(self) -> str | None:
        return self.edits.clip_id

    @clip_id.setter
    def clip_id(self, value: str | None) -> None:
        self.edits.clip_id = value

    @property
    def info(self) -> VideoInfo | None:
        return self.edits.info

    @info.setter
    def info(self, value: VideoInfo | None) -> None:
        self.edits.info = value

    @property
    def infos(self) -> dict[str, VideoInfo]:
        return self.edits.infos

    @property
    def playhead(self) -> int:
        return self.edits.playhead

    @playhead.setter
    def playhead(self, value: int) -> None:
        self.edits.playhead = value

    @property
    def selected_edit(self) -> str | None:
        return self.edits.selected_edit

    @selected_edit.setter
    def selected_edit(self, value: str | None) -> None:
        self.edits.selected_edit = value

    def _clip(self):
        return self.edits.clip()

    def open_clip(self, media_id: str) -> None:
        self.edits.open_clip(media_id)

    def seek(self, index: int) -> None:
        self.edits.seek(index)

    def step(self, frames: int) -> None:
        self.edits.step(frames)

    def add_edit(self) -> None:
        self.edits.add_edit()

    def select_edit(self, edit_id: str | None) -> None:
        self.edits.select_edit(edit_id)

    # --- engine contexts --------------------------------------------------------------------
    def model_dirs(self) -> list[Path]:
        return [Path(d) for d in self.prefs.models_dirs] + self.extra_model_dirs

    def make_context(self) -> EngineContext:
        """A fresh context (one per worker thread) over the configured model folders."""
        return make_context(self.model_dirs())

    def status_context(self) -> EngineContext:
        if self._status_ctx is None:
            self._status_ctx = self.make_context()
        return self._status_ctx

    def _models_changed(self) -> None:
        """A model set was installed: every context rescans the model folders."""
        self._status_ctx = None
        self.preview.reset()

    def _open_clip(self) -> OpenClip | None:
        clip = self._clip()
        if clip is None or self.info is None:
            return None
        return OpenClip(self.clip_id, clip, self.info)

    def models_text(self) -> str:
        """Which set the open clip's edits use, for the inspector and the status bar."""
        clip = self._clip()
        if clip is not None and clip.model_set:
            return f"{clip.model_set} (adapted for this clip)"
        return model_set_for(self.controller.project, self.clip_id) or self.model_set_used or \
            "the default set"

    @staticmethod
    def _encoders() -> list[str]:
        from ..media import available_video_encoders
        return available_video_encoders()

    def _set_encoders(self, names: list[str]) -> None:
        self.encoders = names

    def probe_models(self) -> None:
        from ..app.project_jobs import run_options
        self.preview.probe_models(run_options(self.controller.project))

    def _on_models(self, provider: str, model_set: str) -> None:
        self.provider_used, self.model_set_used = provider, model_set
        self._update_provider_label()

    def _on_models_failed(self, message: str) -> None:
        self.provider_used, self.model_set_used = "unavailable", ""
        self._update_provider_label()
        self.show_error(message)

    def _update_provider_label(self) -> None:
        clip = self.controller.project.clips.get(self.clip_id) if self.clip_id else None
        used = clip.model_set if clip is not None and clip.model_set else self.model_set_used
        mark = " (this clip)" if clip is not None and clip.model_set else ""
        models = f" · models: {used}{mark}" if used else ""
        self.provider_label.setText(f"Inference: {self.provider_used}{models}")

    # --- status line ------------------------------------------------------------------------
    def show_message(self, text: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(text, ms)

    def show_error(self, text: str) -> None:
        text = gui_wording(text)  # the editor's controls, not the command line's flags
        self.statusBar().showMessage(f"⚠ {text}", 12000)
        log.info("user-facing error: %s", text)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.controller.title} — SwapTalk Desktop")

    # --- document -> views ------------------------------------------------------------------
    def _on_replaced(self) -> None:
        self.clip_id = None
        self.info = None
        self.selected_edit = None
        self.playback.set_clip(None)
        self.viewer.clear()
        self.jobs.forget_status()
        project = self.controller.project
        self._update_title()
        self._on_changed()
        if project.current_clip:
            self.open_clip(project.current_clip)
        self.request_icons()

    def _on_changed(self) -> None:
        project = self.controller.project
        if self.clip_id is not None and self.clip_id not in project.clips:
            self.clip_id, self.info = None, None
            self.playback.set_clip(None)
            self.viewer.clear()
        if project.current_clip and project.current_clip != self.clip_id:
            QTimer.singleShot(0, lambda: self.open_clip(project.current_clip))
        self.media_bin.set_media(project, self.clip_id)
        self.refresh_sequence()
        clip = project.clips.get(self.clip_id) if self.clip_id else None
        if self.selected_edit and (clip is None or clip.find(self.selected_edit) is None):
            self.selected_edit = None
        self.refresh_timeline()
        self.refresh_inspector()
        self.request_preview()

    def frame_label(self, index: int) -> str:
        if self.info is None:
            return ""
        return f"{frame_to_timecode(index, self.info.nominal_fps)}  ·  frame {index}"

    # --- preview ----------------------------------------------------------------------------
    def request_preview(self) -> None:
        if self.info is None or self.playback.playing:
            return
        from .preview_worker import FrameRequest
        job = None
        clip = self.controller.project.clips.get(self.clip_id)
        edit = clip.edit_at(self.playhead) if clip else None
        if edit is not None and self.viewer.mode != "original":
            job = self.job_for(edit.id, quiet=True)
        if edit is None:
            self.viewer.set_status("outside the edits: source shown")
        self.preview.request(FrameRequest(self.controller.revision, self.playhead, self.info,
                                          job))

    def _on_frame(self, r: FrameResult) -> None:
        if self.info is None or r.video != self.info.path or r.index != self.playhead or \
                self.playback.playing:
            return
        self.viewer.show_frame(r.index, r.original, self.frame_label(r.index))

    def _on_processed(self, r: ProcessedResult) -> None:
        if r.revision != self.controller.revision or r.index != self.playhead or \
                self.info is None or r.video != self.info.path:
            return  # stale: the document or the playhead moved on
        self.viewer.show_processed(r.index, r.processed, gui_wording(r.note))

    def _on_playback_frame(self, index: int, rgb, processed) -> None:
        self.playhead = index
        self.viewer.show_frame(index, rgb, self.frame_label(index))
        if processed is not None:
            self.viewer.show_processed(index, processed, "playing processed frames from "
                                                         "the cache")
        self.timeline.set_playhead(index)
        self.refresh_sequence_playhead()

    def _on_speed(self, speed: float) -> None:
        if speed == 0:
            self.edits.remember_playhead()
            self.request_preview()
            self.show_message("stopped", 1500)
        else:
            arrow = "▶" if speed > 0 else "◀"
            sound = "" if speed == 1 else " (sound plays at 1× forward)"
            rate = "½" if abs(speed) == 0.5 else f"{abs(speed):g}"
            self.show_message(f"{arrow} {rate}×{sound}", 0)

    @guarded
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._laid_out:  # the panels in proportion to the size the window shows at
            self._laid_out = True
            self.lay_out_docks()

    # --- drag and drop on the whole window --------------------------------------------------
    @guarded
    def dragEnterEvent(self, event) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    @guarded
    def dropEvent(self, event) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)

    # --- closing ----------------------------------------------------------------------------
    @guarded
    def closeEvent(self, event) -> None:
        if self.ask_before_closing and not self._closing and \
                not self.confirm_discard("quitting"):
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.transport.close()
        self.playback.close()
        self.preview.stop()
        self.jobs.shutdown()
        self.tasks.shutdown()
        self.status_tasks.shutdown()
        self.edits.timeline_close()
        self.controller.shutdown()
