"""Crash recovery, relinking, and the dialogs for a project that cannot be opened and for
media that could not be imported."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import InputError
from ..core.project import Project
from ..core.project_io import RecoveryCandidate, find_moved_media, relink


class RecoveryDialog(QDialog):
    """Offers the autosaves of sessions that did not exit cleanly (newest first).

    Accept = recover the selected one; "Discard" deletes them all; "Later" keeps them.
    With ``opening`` (a project file being opened whose autosave a crash left) the choices are
    Recover, "Open Saved File" (the DISCARD result: the autosave goes, the file opens) and
    "Cancel" (rejected: nothing opens, the autosave stays)."""

    DISCARD = 2

    def __init__(self, candidates: list[RecoveryCandidate], parent: QWidget | None = None,
                 opening: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.candidates = candidates
        self.opening = opening
        layout = QVBoxLayout(self)
        if opening is None:
            words = ("SwapTalk did not close normally last time. Recover the autosaved "
                     "project? Unfinished processing is queued again and reuses the chunks "
                     "already rendered.")
        else:
            saved = _modified(opening)
            words = (f"SwapTalk did not close normally while {opening.name} was open, and its "
                     "autosave may hold changes that were never saved"
                     + (f" (the file was last saved {saved})" if saved else "") +
                     ". Recover the autosave, or open the saved file and discard the autosave? "
                     "Recovered unfinished processing is queued again.")
        text = QLabel(words)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.list = QListWidget()
        for c in candidates:
            name = c.project_path.name if c.project_path else "Untitled project"
            item = QListWidgetItem(f"{name} — autosaved {c.saved_at:%Y-%m-%d %H:%M:%S}")
            item.setToolTip(str(c.project_path or c.autosave_path))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox()
        recover = buttons.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        recover.setObjectName("primary")
        discard = buttons.addButton("Discard" if opening is None else "Open Saved File",
                                    QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton("Later" if opening is None else "Cancel",
                          QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        discard.clicked.connect(lambda: self.done(self.DISCARD))
        layout.addWidget(buttons)

    def chosen(self) -> RecoveryCandidate | None:
        row = self.list.currentRow()
        return self.candidates[row] if 0 <= row < len(self.candidates) else None


def _modified(path: Path) -> str:
    try:
        return f"{datetime.fromtimestamp(path.stat().st_mtime):%Y-%m-%d %H:%M:%S}"
    except OSError:
        return ""


class OpenFailedDialog(QMessageBox):
    """A project file that cannot be opened: its name, what is wrong, where it is, and, when a
    backup of the save before is beside it, an "Open Backup" button."""

    def __init__(self, path: Path, reason: str, backup: Path | None,
                 parent: QWidget | None = None):
        super().__init__(QMessageBox.Icon.Warning, "Cannot open project",
                         f"Cannot open {path.name}", QMessageBox.StandardButton.NoButton, parent)
        self.setObjectName("openFailed")
        self.path, self.reason, self.backup = path, reason, backup
        details = [reason, f"File: {path}"]
        if backup is not None:
            details.append(f"A backup of the save before the last one was kept "
                           f"({backup.name}, saved {_modified(backup)}). Open it instead?")
        else:
            details.append("The project that was open is still open.")
        self.setInformativeText("\n\n".join(details))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.backup_button = None
        if backup is not None:
            self.backup_button = self.addButton("Open Backup", QMessageBox.ButtonRole.AcceptRole)
            self.addButton(QMessageBox.StandardButton.Cancel)
            self.setDefaultButton(self.backup_button)
        else:
            self.setDefaultButton(self.addButton(QMessageBox.StandardButton.Close))

    def wants_backup(self) -> bool:
        return self.backup_button is not None and self.clickedButton() is self.backup_button


class ImportErrorsDialog(QDialog):
    """Every file an import could not take, one row each with its reason (the list scrolls;
    Copy puts all of them on the clipboard)."""

    def __init__(self, errors: list[str], total: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("importErrors")
        self.setWindowTitle("Import problems")
        self.setMinimumWidth(560)
        self.errors = list(errors)
        layout = QVBoxLayout(self)
        n = len(errors)
        head = QLabel(f"{n} of {total} files could not be imported:" if total > 1 else
                      "The file could not be imported:")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        for line in errors:
            item = QListWidgetItem(line)
            item.setToolTip(line)
            self.list.addItem(item)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText("\n".join(self.errors)))
        buttons.rejected.connect(self.accept)
        layout.addWidget(buttons)

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]


class RelinkDialog(QDialog):
    """Point missing media at their new places: one by one, or by searching a folder (matched
    by content fingerprint, so renamed copies are found as well)."""

    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Relink media")
        self.setMinimumWidth(520)
        self.project = project
        self.changed = False
        layout = QVBoxLayout(self)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _i: self._locate())
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        locate = QPushButton("Locate…")
        locate.clicked.connect(self._locate)
        search = QPushButton("Search Folder…")
        search.clicked.connect(self._search)
        buttons.addButton(locate, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(search, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.accept)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        missing = [m for m in self.project.media.values() if m.missing]
        for m in missing:
            item = QListWidgetItem(f"{m.name}   (was {m.path.parent})")
            item.setData(Qt.ItemDataRole.UserRole, m.id)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.info.setText(f"{len(missing)} file(s) not found. Locate each one, or search a "
                          "folder where they were moved." if missing else
                          "All media files are where the project expects them.")

    def apply(self, media_id: str, path: Path) -> bool:
        """Relink one item; asks before accepting a file whose contents differ."""
        try:
            relink(self.project, media_id, path)
        except InputError as err:
            answer = QMessageBox.question(self, "Relink", f"{err}. Relink anyway?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
            relink(self.project, media_id, path, force=True)
        self.changed = True
        self.refresh()
        return True

    def _locate(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        media = self.project.media[item.data(Qt.ItemDataRole.UserRole)]
        path, _ = QFileDialog.getOpenFileName(self, f"Locate {media.name}",
                                              str(media.path.parent))
        if path:
            self.apply(media.id, Path(path))

    def search(self, folder: Path) -> int:
        found = find_moved_media(self.project, folder)
        for media_id, path in found.items():
            relink(self.project, media_id, path)
        if found:
            self.changed = True
        self.refresh()
        return len(found)

    def _search(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Search folder")
        if folder:
            n = self.search(Path(folder))
            self.info.setText(f"found {n} file(s). " + self.info.text())
