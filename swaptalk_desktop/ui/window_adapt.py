"""Main-window behaviour for per-actor adaptation: the Adapt dialog for the open clip, its job,
and what happens when the job is done (the adapted set is installed in the user model folder
by the job; the clip's edits then use it, as one undoable change). Mixed into MainWindow (see
main_window.py for the attributes it relies on)."""

from __future__ import annotations

import logging

from ..app.adapt import adaptable_sets, clock, work_folder
from ..app.errors import user_message
from ..app.project_jobs import model_set_for
from ..core.commands import SetClipModelSet
from ..core.errors import SwapTalkError
from .adapt_dialog import AdaptDialog, AdaptRequest

log = logging.getLogger(__name__)


class AdaptMixin:
    adapt_window: AdaptDialog | None = None

    def adapt_dialog(self) -> AdaptDialog | None:
        """Edit ▸ Adapt to This Actor…: the dialog for the open clip (non-blocking)."""
        clip = self._clip()
        if clip is None or self.info is None:
            self.show_error("open a clip of the actor first (double-click it in the media bin)")
            return None
        project = self.controller.project
        item = project.media_item(self.clip_id)
        try:
            sets = adaptable_sets(self.make_context().registry)
        except SwapTalkError as err:
            self.show_error(str(err))
            sets = []
        preferred = project.settings.get("model_set") or (sets[0][0] if sets else None)
        dialog = AdaptDialog(item.name, self.info, [(e.start, e.stop) for e in clip.edits],
                             sets, preferred, self.info.audio is not None, self)
        clip_id = self.clip_id
        dialog.accepted.connect(lambda: self.start_adapt(clip_id, dialog.result_request))
        dialog.finished.connect(lambda _r: setattr(self, "adapt_window", None))
        self.adapt_window = dialog
        dialog.open()
        return dialog

    def start_adapt(self, clip_id: str, request: AdaptRequest) -> str | None:
        """Queue the adaptation of ``clip_id``; returns the job id."""
        project = self.controller.project
        try:
            item = project.media_item(clip_id)
            payload = {"clip_id": clip_id, "video": str(item.path), "base_set": request.base_set,
                       "set_id": request.set_id, "minutes": request.minutes,
                       "steps": request.steps, "exclude": [list(r) for r in request.exclude],
                       "work": str(work_folder(request.set_id)),
                       "models_dirs": [str(p) for p in self.model_dirs()]}
            record = self.jobs.submit_adapt(payload, f"Adapt to the actor of {item.name}")
        except Exception as exc:
            self.show_error(user_message(exc, "starting the adaptation"))
            return None
        when = f", about {clock(request.estimate_s)}" if request.estimate_s else ""
        self.show_message(f"adapting {request.base_set} to {item.name} "
                          f"({request.usable_frames} frames{when}); see the Jobs panel")
        return record.id

    def adapt_finished(self, record) -> None:
        """An adaptation is done: its clip's edits use the new set (undoable)."""
        result = record.result if isinstance(record.result, dict) else {}
        set_id, clip_id = result.get("set_id"), record.payload.get("clip_id")
        # the new set is in the user model folder: every context rescans it
        self._status_ctx = None
        self.jobs.reset_context()
        self.jobs.forget_status()
        self.preview.reset()
        if not set_id:
            return
        project = self.controller.project
        if clip_id not in project.clips:
            self.show_message(f"adapted set {set_id} installed; choose it in File ▸ Settings",
                              10000)
            return
        if project.clips[clip_id].model_set != set_id:
            self.controller.push(SetClipModelSet(clip_id, set_id))
        self.show_message(f"adapted set {set_id} installed; the edits of "
                          f"{project.clip_name(clip_id)} use it now (Undo to go back)", 10000)

    def use_project_models(self) -> None:
        """Edit ▸ Use the Project's Model Set for This Clip."""
        clip = self._clip()
        if clip is None or not clip.model_set:
            self.show_error("this clip already uses the project's model set")
            return
        self.controller.push(SetClipModelSet(self.clip_id, None))

    def models_text(self) -> str:
        """Which set the open clip's edits use, for the inspector and the status bar."""
        project = self.controller.project
        clip = self._clip()
        if clip is not None and clip.model_set:
            return f"{clip.model_set} (adapted for this clip)"
        return model_set_for(project, self.clip_id) or self.model_set_used or "the default set"
