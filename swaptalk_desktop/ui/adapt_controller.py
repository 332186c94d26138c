"""Per-actor adaptation in the editor: the Adapt dialog for the open clip, its job, and what
happens when the job is done (the adapted set is installed in the user model folder by the job;
the clip's edits then use it, as one undoable change).

A controller with its own state (the open dialog) and the collaborators it is given, instead
of a mixin that reads the window's attributes: the document's controller, the jobs, and a few
calls back into the window for what only the window knows (the open clip, the model folders,
the status bar).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QWidget

from ..app.adapt import adaptable_sets, clock, work_folder
from ..app.context import EngineContext
from ..app.errors import user_message
from ..app.jobs import JobRecord
from ..core.commands import SetClipModelSet
from ..core.errors import SwapTalkError
from .adapt_dialog import AdaptDialog, AdaptRequest
from .job_bridge import JobBridge
from .open_clip import OpenClip
from .project_controller import ProjectController

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowCalls:
    """What the controller asks of the window it works in."""

    open_clip: Callable[[], OpenClip | None]
    make_context: Callable[[], EngineContext]
    model_dirs: Callable[[], list[Path]]
    models_changed: Callable[[], None]
    """A new set is installed: engine contexts and previews must rescan the model folders."""
    show_error: Callable[[str], None]
    show_message: Callable[..., None]
    """(text[, milliseconds]) on the status bar."""


class AdaptController:
    def __init__(self, parent: QWidget, project: ProjectController, jobs: JobBridge,
                 window: WindowCalls):
        self.parent = parent
        self.project = project
        self.jobs = jobs
        self.window = window
        self.dialog: AdaptDialog | None = None
        """The Adapt dialog while it is open."""

    def open_dialog(self) -> AdaptDialog | None:
        """Edit ▸ Adapt to This Actor…: the dialog for the open clip (non-blocking)."""
        shown = self.window.open_clip()
        if shown is None:
            self.window.show_error("open a clip of the actor first (double-click it in the "
                                   "media bin)")
            return None
        project = self.project.project
        item = project.media_item(shown.clip_id)
        try:
            sets = adaptable_sets(self.window.make_context().registry)
        except SwapTalkError as err:
            self.window.show_error(str(err))
            sets = []
        preferred = project.settings.get("model_set") or (sets[0][0] if sets else None)
        dialog = AdaptDialog(item.name, shown.info, [(e.start, e.stop) for e in shown.clip.edits],
                             sets, preferred, shown.info.audio is not None, self.parent)
        clip_id = shown.clip_id
        dialog.accepted.connect(lambda: self.start(clip_id, dialog.result_request))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def start(self, clip_id: str, request: AdaptRequest) -> str | None:
        """Queue the adaptation of ``clip_id``; returns the job id."""
        project = self.project.project
        try:
            item = project.media_item(clip_id)
            payload = {"clip_id": clip_id, "video": str(item.path), "base_set": request.base_set,
                       "set_id": request.set_id, "minutes": request.minutes,
                       "steps": request.steps, "exclude": [list(r) for r in request.exclude],
                       "work": str(work_folder(request.set_id)),
                       "models_dirs": [str(p) for p in self.window.model_dirs()]}
            record = self.jobs.submit_adapt(payload, f"Adapt to the actor of {item.name}")
        except Exception as exc:
            self.window.show_error(user_message(exc, "starting the adaptation"))
            return None
        when = f", about {clock(request.estimate_s)}" if request.estimate_s else ""
        self.window.show_message(f"adapting {request.base_set} to {item.name} "
                                 f"({request.usable_frames} frames{when}); see the Jobs panel")
        return record.id

    def finished(self, record: JobRecord) -> None:
        """An adaptation is done: its clip's edits use the new set (undoable)."""
        result = record.result if isinstance(record.result, dict) else {}
        set_id, clip_id = result.get("set_id"), record.payload.get("clip_id")
        # the new set is in the user model folder: every context rescans it
        self.window.models_changed()
        self.jobs.reset_context()
        self.jobs.forget_status()
        if not set_id:
            return
        project = self.project.project
        if clip_id not in project.clips:
            self.window.show_message(f"adapted set {set_id} installed; choose it in File ▸ "
                                     "Settings", 10000)
            return
        if project.clips[clip_id].model_set != set_id:
            self.project.push(SetClipModelSet(clip_id, set_id))
        self.window.show_message(f"adapted set {set_id} installed; the edits of "
                                 f"{project.clip_name(clip_id)} use it now (Undo to go back)",
                                 10000)

    def use_project_models(self) -> None:
        """Edit ▸ Use the Project's Model Set for This Clip."""
        shown = self.window.open_clip()
        if shown is None or not shown.clip.model_set:
            self.window.show_error("this clip already uses the project's model set")
            return
        self.project.push(SetClipModelSet(shown.clip_id, None))
