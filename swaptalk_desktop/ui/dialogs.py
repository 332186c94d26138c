"""Crash recovery and relinking dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
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

    Accept = recover the selected one; "Discard" deletes them all; "Later" keeps them."""

    DISCARD = 2

    def __init__(self, candidates: list[RecoveryCandidate], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.candidates = candidates
        layout = QVBoxLayout(self)
        text = QLabel("SwapTalk did not close normally last time. Recover the autosaved "
                      "project? Unfinished processing is queued again and reuses the chunks "
                      "already rendered.")
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
        discard = buttons.addButton("Discard", QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        discard.clicked.connect(lambda: self.done(self.DISCARD))
        layout.addWidget(buttons)

    def chosen(self) -> RecoveryCandidate | None:
        row = self.list.currentRow()
        return self.candidates[row] if 0 <= row < len(self.candidates) else None


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
