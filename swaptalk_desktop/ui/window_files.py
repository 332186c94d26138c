"""Main-window behaviour for files: projects, import, relink, export, settings, recovery.
Mixed into MainWindow (see main_window.py for the attributes it relies on)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .. import __version__
from ..app.cache import cache_folder, cache_usage, clear_cache
from ..app.errors import user_message
from ..app.jobs import ExportRequest
from ..app.media_import import AUDIO_FILTER, PHOTO_FILTER, VIDEO_FILTER, describe_files
from ..app.project_jobs import exportable, jobs_for_clip
from ..core.commands import AddMedia, RemoveMedia
from ..core.errors import SwapTalkError
from ..core.project import MediaItem
from ..core.project_io import (
    PROJECT_SUFFIX,
    NewerFormatError,
    RecoveryCandidate,
    backup_path,
    pending_recovery,
    recovery_for,
)
from ..core.timebase import format_range
from .actions import shortcuts_dialog
from .dialogs import ImportErrorsDialog, OpenFailedDialog, RecoveryDialog, RelinkDialog
from .export_dialog import ExportDialog
from .media_bin import icon_from_rgb, waveform_icon
from .settings_dialog import SettingsDialog

log = logging.getLogger(__name__)
PROJECT_FILTER = f"SwapTalk project (*{PROJECT_SUFFIX})"


def icon_picture(item: MediaItem):
    """What the bin shows for an item: a frame, the photo, or the sound's peaks."""
    if item.kind == "video":
        from ..media import probe_video
        from ..media.thumbnails import thumbnail_strip
        info = probe_video(item.path)
        frame = min(info.frame_count - 1, info.frame_count // 10)
        return "rgb", thumbnail_strip(info, [frame], 108)[0]
    if item.kind == "photo":
        import cv2
        bgr = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        scale = 108 / max(1, bgr.shape[0])
        small = cv2.resize(bgr, (max(1, int(bgr.shape[1] * scale)), 108),
                           interpolation=cv2.INTER_AREA)
        return "rgb", np.ascontiguousarray(small[..., ::-1])
    from ..media.waveform import load_or_build_waveform
    pyramid = load_or_build_waveform(item.path)
    _, mins, maxs = pyramid.window(0.0, pyramid.duration_s, 96)
    return "wave", (mins, maxs)


class FileMixin:
    encoders: list[str] = ["libx264"]
    _icons_asked: set[str]

    # --- projects ---------------------------------------------------------------------------
    def confirm_discard(self, doing: str) -> bool:
        """Ask before unsaved changes are lost; True when it is fine to go on."""
        if not self.controller.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.controller.title.rstrip(' •')}"
            f" before {doing}?", QMessageBox.StandardButton.Save |
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save_project()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if self.confirm_discard("starting a new project"):
            self.controller.new()

    def open_project_dialog(self) -> None:
        if not self.confirm_discard("opening another project"):
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self.prefs.last_folder,
                                              PROJECT_FILTER)
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path, recover: bool = True) -> bool:
        """Open a project file, however it was asked for (command line, File ▸ Open, Open
        Recent). A crashed session's autosave of it is offered first (unless not ``recover``);
        a file that cannot be read gets a dialog saying why (and offering its backup), and the
        window keeps the project it had. True when the project, or the offer of its autosave,
        is open."""
        path = Path(path)
        candidates = recovery_for(path) if recover else []
        if candidates:
            self.offer_recovery(candidates, opening=path)
            return True
        return self._open_file(path)

    def _open_file(self, path: Path, from_backup: bool = False) -> bool:
        try:
            if from_backup:
                self.controller.open_backup(path)
            else:
                self.controller.open(path)
        except Exception as exc:
            self.open_failed_dialog(backup_path(path) if from_backup else path, exc)
            return False
        self.prefs.last_folder = str(path.parent)
        if any(m.missing for m in self.controller.project.media.values()):
            self.relink_dialog()
        return True

    def open_failed_dialog(self, path: Path, exc: BaseException) -> OpenFailedDialog:
        """Why ``path`` did not open, in a dialog that stays until closed (non-blocking)."""
        reason = user_message(exc, f"opening {path.name}")
        log.info("cannot open %s: %s", path, reason)
        backup = backup_path(path)
        offer = backup.is_file() and not isinstance(exc, NewerFormatError) and \
            not path.name.endswith(backup.suffix)
        dialog = OpenFailedDialog(path, reason, backup if offer else None, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: dialog.wants_backup() and
                                self._open_file(path, from_backup=True))
        self.show_error(reason)
        dialog.open()
        return dialog

    def save_project(self) -> bool:
        if self.controller.path is None:
            return self.save_project_as()
        return self.controller.save()

    def save_project_as(self) -> bool:
        start = str(self.controller.path or Path(self.prefs.last_folder or Path.home()) /
                    f"Untitled{PROJECT_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", start, PROJECT_FILTER)
        return bool(path) and self.controller.save_as(Path(path))

    def refresh_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.controller.recent.paths()
        for path in paths:
            action = menu.addAction(f"{path.name}  —  {path.parent}")
            action.setEnabled(path.exists())
            action.triggered.connect(lambda _=False, p=path: self._open_recent(p))
        if not paths:
            menu.addAction("No recent projects").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear List", lambda: (self.controller.recent.clear(),
                                                  self.refresh_recent_menu()))

    def _open_recent(self, path: Path) -> None:
        if self.confirm_discard("opening another project"):
            self.open_project(path)

    # --- media ------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import media", self.prefs.last_folder,
            f"Media ({VIDEO_FILTER} {AUDIO_FILTER} {PHOTO_FILTER});;Clips ({VIDEO_FILTER});;"
            f"Dialogue ({AUDIO_FILTER});;Photos ({PHOTO_FILTER});;All files (*)")
        if paths:
            self.prefs.last_folder = str(Path(paths[0]).parent)
            self.import_files([Path(p) for p in paths])

    def import_files(self, paths: list[Path]) -> None:
        known = {m.path for m in self.controller.project.media.values()}
        fresh = [Path(p) for p in paths if Path(p).resolve() not in known]
        if not fresh:
            self.show_message("already in the project")
            return
        self.show_message(f"importing {len(fresh)} file(s)…", 0)
        self.tasks.submit(describe_files, fresh, doing="importing media",
                          on_done=self._imported, on_error=self.show_error)

    def _imported(self, result) -> None:
        found, errors = result
        items = [item for item, _ in found]
        for item, info in found:
            if info is not None:
                self.infos[item.id] = info
        if items:
            title = f"Import {items[0].name}" if len(items) == 1 else \
                f"Import {len(items)} files"
            self.controller.push_all(title, [AddMedia(item) for item in items])
            self.show_message(f"imported {len(items)} file(s)")
        if errors:
            self.import_errors_dialog(errors, len(found) + len(errors))
        self.request_icons()
        videos = [i for i in items if i.kind == "video"]
        if self.clip_id is None and videos:
            self.open_clip(videos[0].id)

    def import_errors_dialog(self, errors: list[str], total: int) -> ImportErrorsDialog:
        """Every file that could not be imported, each with its reason (non-blocking)."""
        dialog = ImportErrorsDialog(errors, total, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.show_error(errors[0] if len(errors) == 1 else
                        f"{len(errors)} of {total} files could not be imported; see the list")
        dialog.open()
        return dialog

    def request_icons(self) -> None:
        for item in self.controller.project.media.values():
            if item.missing or self.media_bin.has_icon(item.id) or item.id in self._icons_asked:
                continue
            self._icons_asked.add(item.id)
            self.tasks.submit(icon_picture, item, doing=f"reading {item.name}",
                              on_done=lambda r, m=item.id: self._icon_ready(m, r),
                              on_error=lambda _e: None)

    def _icon_ready(self, media_id: str, result) -> None:
        self._icons_asked.discard(media_id)
        kind, data = result
        icon = icon_from_rgb(data) if kind == "rgb" else waveform_icon(*data)
        self.media_bin.set_icon(media_id, icon)

    def remove_media(self, media_id: str) -> None:
        self.controller.push(RemoveMedia(media_id))

    def relink_dialog(self) -> None:
        dialog = RelinkDialog(self.controller.project, self)
        dialog.finished.connect(lambda _r: self._relinked(dialog))
        dialog.open()
        return dialog

    def _relinked(self, dialog: RelinkDialog) -> None:
        if dialog.changed:
            self.infos.clear()
            self.controller.mark_changed()
            self.request_icons()
            if self.clip_id is None and self.controller.project.current_clip:
                self.open_clip(self.controller.project.current_clip)

    # --- export -----------------------------------------------------------------------------
    def export_dialog(self) -> ExportDialog | None:
        if self.clip_id is None or self.info is None:
            self.show_error("open a clip to export")
            return None
        clip = self._clip()
        item = self.controller.project.media[self.clip_id]
        folder = Path(self.prefs.last_folder) if self.prefs.last_folder else item.path.parent
        default = folder / f"{item.path.stem}_swaptalk.mp4"
        marks = None
        text = ""
        if clip.mark_in is not None and clip.mark_out is not None:
            marks = (clip.mark_in, clip.mark_out)
            fps = self.info.nominal_fps
            text = format_range(marks[0], marks[1], fps)
        project = self.controller.project
        sequence_text, sequence_marks, sequence_marks_text = "", None, ""
        try:
            if project.sequence:
                n = len(project.sequence)
                sequence_text = (f"{n} clip{'s' if n != 1 else ''} · "
                                 f"{project.sequence_length()} frames")
                if project.sequence_in is not None or project.sequence_out is not None:
                    sequence_marks = project.sequence_range()
                    sequence_marks_text = format_range(*sequence_marks, self.sequence_fps())
        except SwapTalkError:
            sequence_text, sequence_marks = "", None
        dialog = ExportDialog(item.name, default, marks, text, self.encoders, self,
                              sequence_text=sequence_text, sequence_marks=sequence_marks,
                              sequence_marks_text=sequence_marks_text)
        dialog.accepted.connect(lambda: self.export(dialog.result_request))
        dialog.open()
        return dialog

    def export(self, request: ExportRequest) -> str | None:
        """Queue an export of the current clip (or the sequence); returns the job id."""
        if request.sequence:
            return self.export_sequence(request)
        try:
            jobs = [j for j in jobs_for_clip(self.controller.project, self.clip_id)
                    if exportable(j)]
            record = self.jobs.submit_export(self.info.path, jobs, request)
        except Exception as exc:
            self.show_error(user_message(exc, "starting the export"))
            return None
        self.prefs.last_folder = str(request.output.parent)
        self.show_message(f"exporting to {request.output.name}…")
        return record.id

    def export_sequence(self, request: ExportRequest) -> str | None:
        """Queue an export of the whole sequence to one MP4; returns the job id."""
        from dataclasses import replace

        from ..app.project_jobs import sequence_parts
        try:
            parts = [replace(p, jobs=tuple(j for j in p.jobs if exportable(j)))
                     for p in sequence_parts(self.controller.project)]
            record = self.jobs.submit_sequence_export(parts, request)
        except Exception as exc:
            self.show_error(user_message(exc, "starting the export"))
            return None
        self.prefs.last_folder = str(request.output.parent)
        self.show_message(f"exporting the sequence to {request.output.name}…")
        return record.id

    # --- settings ---------------------------------------------------------------------------
    # --- timeline interchange (OpenTimelineIO, EDL) -----------------------------------------
    def export_timeline_dialog(self) -> None:
        project = self.controller.project
        if project.current_clip is None:
            self.show_error("open a clip in the timeline before exporting the timeline")
            return
        start = Path(self.prefs.last_folder or Path.home()) / \
            f"{project.media_item(project.current_clip).path.stem}.otio"
        path, _ = QFileDialog.getSaveFileName(self, "Export timeline", str(start),
                                              "OpenTimelineIO (*.otio)")
        if path:
            self.export_timeline(Path(path))

    def export_timeline(self, path: Path) -> bool:
        from ..interchange import export_otio
        if path.suffix.lower() != ".otio":
            path = path.with_name(path.name + ".otio")
        try:
            written = export_otio(self.controller.project, path)
        except SwapTalkError as err:
            self.show_error(str(err))
            return False
        self.show_message(f"exported the timeline to {written.name}")
        return True

    def import_timeline_dialog(self) -> None:
        if not self.confirm_discard("importing a timeline"):
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Import timeline", self.prefs.last_folder,
            "Timelines (*.otio *.edl);;OpenTimelineIO (*.otio);;CMX 3600 EDL (*.edl)")
        if path:
            self.import_timeline(Path(path))

    def import_timeline(self, path: Path) -> bool:
        """A new, unsaved project from an .otio or .edl; what it leaves out is listed."""
        from ..interchange import import_timeline
        try:
            result = import_timeline(path)
        except SwapTalkError as err:
            self.show_error(str(err))
            return False
        self.controller.open_imported(result.project)
        self.prefs.last_folder = str(Path(path).parent)
        text = f"imported the timeline of {path.name}; save it as a project"
        for line in result.warnings:
            log.info("importing %s: %s", path, line)
        if result.warnings:  # the first in the status bar, all of them in the log
            more = len(result.warnings) - 1
            text += f" ({result.warnings[0]}{f'; {more} more in the log' if more else ''})"
        self.show_message(text, 15000)
        return True

    def settings_dialog(self) -> SettingsDialog:
        ctx = self.make_context()
        try:
            sets = [(s.id, s.description) for s in ctx.registry.sets()]
            default = ctx.registry.default_set_id()
        except SwapTalkError:
            sets, default = [], None
        dialog = SettingsDialog(self.prefs, sets, default, self.provider_used, str(cache_folder()),
                                self)
        self._measure_cache(dialog)
        dialog.clearCacheRequested.connect(lambda: self._clear_cache(dialog))
        dialog.accepted.connect(lambda: self.apply_preferences(dialog.result_preferences()))
        dialog.open()
        return dialog

    def _measure_cache(self, dialog: SettingsDialog) -> None:
        dialog.set_usage(None)
        self.tasks.submit(cache_usage, on_done=dialog.set_usage, on_error=self.show_error)

    def _clear_cache(self, dialog: SettingsDialog) -> None:
        if self.jobs.busy():
            self.show_error("wait for the running jobs to finish (or cancel them) before "
                            "clearing the cache")
            return
        self.tasks.submit(clear_cache, doing="clearing the cache",
                          on_done=lambda freed: (self.show_message(
                              f"cleared {freed / 1024**2:.1f} MiB of cache"),
                              self.jobs.forget_status(), self.preview.forget(),
                              self._measure_cache(dialog),
                              self.refresh_timeline()),
                          on_error=self.show_error)

    def apply_preferences(self, prefs) -> None:
        self.prefs = prefs
        try:
            prefs.save()
        except SwapTalkError as err:
            self.show_error(str(err))
        prefs.apply_cache_location()
        self.controller.defaults.update(model_set=prefs.model_set, provider=prefs.provider)
        self.controller.set_setting("model_set", prefs.model_set)
        self.controller.set_setting("provider", prefs.provider)
        self._status_ctx = None
        self.jobs.reset_context()
        self.jobs.forget_status()
        self.preview.reset()
        self.probe_models()
        self.refresh_timeline()
        self.request_preview()

    # --- recovery and help ------------------------------------------------------------------
    def offer_recovery(self, candidates: list[RecoveryCandidate] | None = None,
                       opening: Path | None = None) -> RecoveryDialog | None:
        """Offer autosaves of crashed sessions (non-blocking; None when there are none): at a
        bare start all of them; when ``opening`` a project file, those of that file, and the
        file itself opens if the autosave is declined (``open_project`` does this)."""
        candidates = pending_recovery() if candidates is None else candidates
        if not candidates:
            return None
        dialog = RecoveryDialog(candidates, self, opening=opening)
        dialog.finished.connect(lambda result: self._recovery_done(dialog, result))
        dialog.open()
        return dialog

    def _recovery_done(self, dialog: RecoveryDialog, result: int) -> None:
        if result == RecoveryDialog.DISCARD:
            for candidate in dialog.candidates:
                candidate.discard()
            self.show_message("discarded the autosaved work")
            if dialog.opening is not None:
                self._open_file(dialog.opening)
            return
        chosen = dialog.chosen() if result == RecoveryDialog.DialogCode.Accepted else None
        if chosen is None:
            if dialog.opening is not None:
                self.show_message(f"{dialog.opening.name} not opened; its autosave is kept")
            return
        try:
            payloads = self.controller.recover(chosen)
        except Exception as exc:
            self.show_error(user_message(exc, "recovering the autosave"))
            if dialog.opening is not None:  # the saved file is the best there is now
                self._open_file(dialog.opening)
            return
        for payload in payloads:
            try:
                self.jobs.resubmit(payload)
            except Exception as exc:
                self.show_error(user_message(exc, "re-queueing a job"))

    def show_shortcuts(self) -> None:
        dialog = shortcuts_dialog(self.acts, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_about(self) -> None:
        QMessageBox.about(self, "About SwapTalk Desktop",
                          f"SwapTalk Desktop {__version__}<br>Replace a clip's face and dialogue"
                          " (face swap and lip sync in one VQ latent space; ONNX Runtime).<br>"
                          f"Inference: {self.provider_used}")
