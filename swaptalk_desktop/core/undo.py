"""A Qt-free undo stack with QUndoStack's rules, for tests, scripts and the core's own checks.

The UI uses a QUndoStack whose commands delegate to ``core.commands``; this class follows the
same semantics (merging, clean state, truncation of the redo tail) so that what the tests prove
here holds there.
"""

from __future__ import annotations

from collections.abc import Callable

from .commands import Command
from .project import Project


class UndoStack:
    def __init__(self, project: Project, undo_limit: int = 0):
        self.project = project
        self.undo_limit = undo_limit
        self._commands: list[Command] = []
        self._index = 0
        self._clean: int | None = 0
        self._revision = 0
        self.on_change: list[Callable[[], None]] = []

    # --- state ----------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Number of commands applied; the command that undo() reverts is ``index - 1``."""
        return self._index

    @property
    def count(self) -> int:
        return len(self._commands)

    @property
    def revision(self) -> int:
        """Increases on every change of the document (push, merge, undo, redo), so work started
        for an older state can be recognised as stale."""
        return self._revision

    @property
    def clean_index(self) -> int | None:
        """Index at which the document equals the saved file; None when no state does."""
        return self._clean

    def command(self, i: int) -> Command:
        return self._commands[i]

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo() else ""

    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo() else ""

    def is_clean(self) -> bool:
        return self._clean == self._index

    def set_clean(self) -> None:
        self._clean = self._index

    # --- changes -------------------------------------------------------------------------------
    def push(self, command: Command) -> bool:
        """Apply ``command``; True when it merged into the previous step. A refused command
        raises its InputError and leaves both the document and the stack unchanged."""
        command.redo(self.project)
        del self._commands[self._index:]
        if self._clean is not None and self._clean > self._index:
            self._clean = None  # the saved state was in the discarded redo tail
        top = self._commands[-1] if self._commands else None
        # Like QUndoStack: never merge into the saved state, or "clean" would silently
        # stand for a document that differs from the file.
        merged = (top is not None and command.merge_key is not None and
                  top.merge_key == command.merge_key and self._clean != self._index and
                  top.merge(command))
        if not merged:
            self._commands.append(command)
            self._index += 1
            self._trim()
        self._changed()
        return merged

    def undo(self) -> None:
        if not self.can_undo():
            return
        self._commands[self._index - 1].undo(self.project)
        self._index -= 1
        self._changed()

    def redo(self) -> None:
        if not self.can_redo():
            return
        self._commands[self._index].redo(self.project)
        self._index += 1
        self._changed()

    def clear(self) -> None:
        """Forget the history (after opening another project); the document stays as it is."""
        self._commands.clear()
        self._index = 0
        self._clean = 0
        self._changed()

    def _trim(self) -> None:
        if self.undo_limit and len(self._commands) > self.undo_limit:
            drop = len(self._commands) - self.undo_limit
            del self._commands[:drop]
            self._index -= drop
            if self._clean is not None:
                self._clean = self._clean - drop if self._clean >= drop else None

    def _changed(self) -> None:
        self._revision += 1
        for callback in list(self.on_change):
            callback()
