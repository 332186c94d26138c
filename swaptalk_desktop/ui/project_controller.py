"""The open document: Project + QUndoStack, files, autosave, crash recovery, recent projects.

Every change a user can undo goes through :meth:`ProjectController.push`, which asks the core
command to validate first (a refused change becomes one line in the status bar, and the stack is
not touched), then pushes a QUndoCommand that delegates to it. Commands that carry the same
``merge_key`` (one drag) merge into one undo step.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..app.errors import user_message
from ..core import project_io
from ..core.commands import Command
from ..core.errors import SwapTalkError
from ..core.project import Project, default_settings
from ..core.project_io import (
    PROJECT_SUFFIX,
    RecentProjects,
    RecoveryCandidate,
    SessionLock,
    autosave_path,
    discard_autosave,
    write_autosave,
)

log = logging.getLogger(__name__)
AUTOSAVE_DEBOUNCE_MS = 1500
_MERGEABLE_ID = 7


class QtCommand(QUndoCommand):
    """A QUndoCommand that runs a Qt-free core command on the controller's project."""

    def __init__(self, controller: ProjectController, command: Command):
        super().__init__(command.text)
        self.controller, self.command = controller, command

    def redo(self) -> None:
        self.command.redo(self.controller.project)
        self.setText(self.command.text)
        self.controller._document_changed()

    def undo(self) -> None:
        self.command.undo(self.controller.project)
        self.controller._document_changed()

    def id(self) -> int:
        return _MERGEABLE_ID if self.command.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, QtCommand) or self.command.merge_key is None or \
                other.command.merge_key != self.command.merge_key:
            return False
        return self.command.merge(other.command)


class ProjectController(QObject):
    changed = Signal()                # the document changed (edit, undo, redo, settings, jobs)
    replaced = Signal()               # another document (new, open, recovered)
    pathChanged = Signal(object)      # Path | None
    dirtyChanged = Signal(bool)
    message = Signal(str)             # one line for the status bar
    error = Signal(str)               # one line a user must see
    recentChanged = Signal()
    _autosave_failed = Signal(str)

    def __init__(self, defaults: dict | None = None, autosave_s: int = 30,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.defaults = dict(defaults or default_settings())
        self.project = Project(settings=dict(self.defaults))
        self.path: Path | None = None
        self.revision = 0
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(lambda _clean: self.dirtyChanged.emit(self.dirty))
        self.undo_stack.indexChanged.connect(lambda _i: self._debounce.start())
        self.recent = RecentProjects()
        self.lock: SessionLock | None = None
        self._extra_dirty = False
        self._autosaved_revision = -1
        self._autosave_file: Path | None = None
        self._debounce = QTimer(self, singleShot=True, interval=AUTOSAVE_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.autosave)
        self._autosave_timer = QTimer(self, interval=max(1, autosave_s) * 1000)
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._last_write: Future | None = None
        self._autosave_failed.connect(self.message)

    # --- session lifetime -------------------------------------------------------------------
    def acquire_lock(self) -> None:
        """Mark this session as running (autosaves of a session without a live lock are
        offered for recovery at the next start)."""
        try:
            self.lock = SessionLock().acquire()
        except SwapTalkError as err:
            log.warning("no session lock, crash recovery is off: %s", err)

    def shutdown(self) -> None:
        """A clean exit: stop autosaving and drop this session's autosaves and lock."""
        self._autosave_timer.stop()
        self._debounce.stop()
        self.flush_autosave()
        self._writer.shutdown(wait=True)
        self.undo_stack.blockSignals(True)  # the window is going; nothing may react now
        if self.lock is not None:
            self.lock.release(discard_autosaves=True)
            self.lock = None

    # --- state ------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self._extra_dirty or not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        name = self.path.name if self.path else "Untitled"
        return f"{name}{' •' if self.dirty else ''}"

    def _document_changed(self) -> None:
        self.revision += 1
        self._debounce.start()
        self.changed.emit()

    def mark_changed(self, undoable: bool = False) -> None:
        """A change outside the undo stack (settings, queued jobs): dirty + autosave soon."""
        if not undoable:
            was = self.dirty
            self._extra_dirty = True
            if not was:
                self.dirtyChanged.emit(True)
        self._document_changed()

    # --- changes ----------------------------------------------------------------------------
    def push(self, command: Command) -> bool:
        """Apply an undoable change; False (and one line on ``error``) when it is refused."""
        try:
            command.validate(self.project)
        except SwapTalkError as err:
            self.error.emit(str(err))
            return False
        self.undo_stack.push(QtCommand(self, command))
        return True

    def push_all(self, title: str, commands: list[Command]) -> int:
        """Several changes as one undo step; returns how many were applied."""
        applied = 0
        self.undo_stack.beginMacro(title)
        try:
            for command in commands:
                applied += self.push(command)
        finally:
            self.undo_stack.endMacro()
        return applied

    def set_setting(self, key: str, value) -> None:
        if self.project.settings.get(key) != value:
            self.project.settings[key] = value
            self.mark_changed()

    def set_pending_jobs(self, payloads: list[dict]) -> None:
        """Unfinished jobs travel in the autosave, so a crash can re-queue them."""
        if payloads != self.project.pending_jobs:
            self.project.pending_jobs = list(payloads)
            self.revision += 1
            self.autosave(force=True)

    # --- files ------------------------------------------------------------------------------
    def _replace(self, project: Project, path: Path | None, dirty: bool = False) -> None:
        self._drop_autosave()
        self.project, self.path = project, path
        self.undo_stack.clear()
        self._extra_dirty = dirty
        self.revision += 1
        self.replaced.emit()
        self.pathChanged.emit(path)
        self.dirtyChanged.emit(self.dirty)

    def new(self) -> None:
        self._replace(Project(settings=dict(self.defaults)), None)

    def open(self, path: Path | str) -> None:
        """Open the project file ``path``; raises what ``load_project`` raises (the window
        shows it in a dialog), and then the open document stays as it was."""
        path = Path(path)
        self._opened(project_io.load_project(path), path)

    def open_backup(self, path: Path | str) -> None:
        """Open the backup of the project file ``path`` (the save before its last) as that
        project, unsaved: saving writes ``path`` again. Raises as ``open``."""
        path = Path(path)
        self._opened(project_io.load_backup(path), path, dirty=True)
        self.message.emit(f"opened the backup of {path.name}; save to replace the damaged file")

    def open_imported(self, project: Project) -> None:
        """Make ``project`` (e.g. from File ▸ Import Timeline) the document: new and unsaved."""
        self._replace(project, None, dirty=True)

    def _opened(self, project: Project, path: Path, dirty: bool = False) -> None:
        self._replace(project, path, dirty=dirty)
        self._remember(path)
        missing = [m.name for m in project.media.values() if m.missing]
        if missing:
            self.message.emit(f"{len(missing)} media file(s) not found ({', '.join(missing[:3])}"
                              f"{'…' if len(missing) > 3 else ''}); use File ▸ Relink Media")

    def save(self) -> bool:
        if self.path is None:
            return False
        return self.save_as(self.path)

    def save_as(self, path: Path | str) -> bool:
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        try:
            project_io.save_project(self.project, path)
        except Exception as exc:
            self.error.emit(user_message(exc, f"saving {path.name}"))
            return False
        self.flush_autosave()
        old_autosave = self._autosave_file
        if path != self.path:
            self.path = path
            self.pathChanged.emit(path)
        self.undo_stack.setClean()
        self._extra_dirty = False
        self.dirtyChanged.emit(False)
        self._remember(path)
        if old_autosave is not None:
            discard_autosave(old_autosave)
            self._autosave_file = None
        self.message.emit(f"saved {path}")
        return True

    def _remember(self, path: Path) -> None:
        try:
            self.recent.add(path)
        except SwapTalkError as err:
            log.warning("recent projects not updated: %s", err)
        self.recentChanged.emit()

    # --- autosave and recovery --------------------------------------------------------------
    def autosave(self, force: bool = False) -> Path | None:
        """Write the document to the autosave folder when it changed since the last one.

        A copy is taken here; the write (with its fsync) happens on a background thread, in
        order, so the editor never waits for the disk."""
        if not force and (not self.dirty or self._autosaved_revision == self.revision):
            return None
        if not self.project.media and not self.project.pending_jobs:
            return None
        target = autosave_path(self.path)
        old = self._autosave_file if self._autosave_file != target else None
        snapshot, path = self.project.copy(), self.path

        def write() -> None:
            try:
                write_autosave(snapshot, path)
                if old is not None:
                    discard_autosave(old)
            except Exception as exc:
                self._autosave_failed.emit(user_message(exc, "autosaving"))

        self._autosave_file = target
        self._autosaved_revision = self.revision
        self._last_write = self._writer.submit(write)
        return target

    def flush_autosave(self, timeout: float | None = 30) -> None:
        """Wait until the autosaves asked for so far are on disk."""
        if self._last_write is not None:
            self._last_write.result(timeout)

    def _drop_autosave(self) -> None:
        if self._autosave_file is not None:
            self.flush_autosave()
            discard_autosave(self._autosave_file)
            self._autosave_file = None

    def recover(self, candidate: RecoveryCandidate) -> list[dict]:
        """Open a crashed session's autosave; returns its unfinished jobs to re-queue."""
        project = candidate.load()
        self._replace(project, candidate.project_path, dirty=True)
        jobs, project.pending_jobs = list(project.pending_jobs), []
        # Ours now: the crashed session's copy goes (it may have our autosave's name).
        candidate.discard()
        self.autosave(force=True)
        self.flush_autosave()
        self.message.emit("recovered the autosaved project"
                          + (f"; re-queued {len(jobs)} unfinished job(s)" if jobs else ""))
        return jobs
