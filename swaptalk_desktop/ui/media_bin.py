"""The media bin: clips, photos and dialogue files in the project, with thumbnails and durations.

Files come in through File ▸ Import… or by dropping them on the bin (or anywhere on the
window). A double-click opens a video in the timeline. Thumbnails are made off the GUI thread
by the window and handed in with :meth:`MediaBin.set_icon`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..app.media_import import format_duration
from ..core.project import MediaItem, Project
from . import style
from .errors import guarded
from .viewer import to_qimage

ICON = QSize(96, 54)
KIND_LABEL = {"video": "Clip", "audio": "Dialogue", "photo": "Photo"}


def dropped_paths(mime) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] \
        if mime.hasUrls() else []


def describe(item: MediaItem) -> str:
    s = item.summary
    parts = [KIND_LABEL.get(item.kind, item.kind)]
    if item.kind == "video":
        parts.append(format_duration(s.get("duration_s")))
        if s.get("width"):
            parts.append(f"{s['width']}×{s['height']}")
        if s.get("fps"):
            num, _, den = str(s["fps"]).partition("/")
            parts.append(f"{float(num) / float(den or 1):.3g} fps")
    elif item.kind == "audio":
        parts.append(format_duration(s.get("duration_s")))
        if s.get("sample_rate"):
            parts.append(f"{s['sample_rate'] / 1000:g} kHz")
    elif s.get("width"):
        parts.append(f"{s['width']}×{s['height']}")
    return " · ".join(p for p in parts if p)


def placeholder_icon(kind: str) -> QIcon:
    pix = QPixmap(ICON)
    pix.fill(QColor(style.RAISED))
    painter = QPainter(pix)
    painter.setPen(QColor(style.MUTED))
    painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter,
                     {"video": "▶", "audio": "♪", "photo": "☺"}.get(kind, "?"))
    painter.end()
    return QIcon(pix)


def icon_from_rgb(rgb: np.ndarray) -> QIcon:
    """Fit a picture into the icon box, letterboxed on the panel colour."""
    image = to_qimage(rgb).scaled(ICON, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
    pix = QPixmap(ICON)
    pix.fill(QColor(style.BASE))
    painter = QPainter(pix)
    painter.drawImage((ICON.width() - image.width()) // 2,
                      (ICON.height() - image.height()) // 2, image)
    painter.end()
    return QIcon(pix)


def waveform_icon(mins: np.ndarray, maxs: np.ndarray) -> QIcon:
    image = QImage(ICON, QImage.Format.Format_RGB32)
    image.fill(QColor(style.BASE))
    painter = QPainter(image)
    painter.setPen(QColor(style.ACCENT))
    mid, half = ICON.height() / 2, ICON.height() / 2 - 4
    for x in range(min(len(mins), ICON.width())):
        painter.drawLine(x, int(mid - maxs[x] * half), x, int(mid - mins[x] * half))
    painter.end()
    return QIcon(QPixmap.fromImage(image))


class _List(QListWidget):
    filesDropped = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setIconSize(ICON)
        self.setSpacing(2)
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        # long names are shortened in the middle (extension kept, full path in the tooltip)
        # instead of scrolling sideways: the bin is readable at its narrowest
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    @guarded
    def dragEnterEvent(self, event) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    @guarded
    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    @guarded
    def dropEvent(self, event) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            super().dropEvent(event)


class MediaBin(QWidget):
    filesDropped = Signal(list)
    importRequested = Signal()
    openRequested = Signal(str)
    relinkRequested = Signal(str)
    removeRequested = Signal(str)
    usePhotoRequested = Signal(str)
    useDialogueRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = _List()
        self.list.filesDropped.connect(self.filesDropped)
        self.list.itemDoubleClicked.connect(self._activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self._icons: dict[str, QIcon] = {}
        self._kinds: dict[str, str] = {}
        self.hint = QLabel("Drop clips, photos and dialogue here")
        self.hint.setObjectName("hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        button = QPushButton("Import…")
        button.clicked.connect(self.importRequested)
        top = QHBoxLayout()
        top.setContentsMargins(6, 6, 6, 0)
        top.addWidget(button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)

    # --- content ----------------------------------------------------------------------------
    def set_media(self, project: Project, current_clip: str | None = None) -> None:
        selected = self.selected_id()
        self.list.clear()
        for item in project.media.values():
            self._kinds[item.id] = item.kind
            name = item.name + ("  (missing)" if item.missing else "")
            if item.id == current_clip:
                name = "● " + name
            entry = QListWidgetItem(self._icons.get(item.id) or placeholder_icon(item.kind),
                                    f"{name}\n{describe(item)}")
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            entry.setToolTip(str(item.path))
            if item.missing:
                entry.setForeground(QColor(style.ERROR))
            self.list.addItem(entry)
            if item.id == selected:
                entry.setSelected(True)
                self.list.setCurrentItem(entry)
        self.hint.setVisible(not project.media)

    def set_icon(self, media_id: str, icon: QIcon) -> None:
        self._icons[media_id] = icon
        for row in range(self.list.count()):
            entry = self.list.item(row)
            if entry.data(Qt.ItemDataRole.UserRole) == media_id:
                entry.setIcon(icon)

    def has_icon(self, media_id: str) -> bool:
        return media_id in self._icons

    def ids(self) -> list[str]:
        return [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count())]

    def selected_id(self) -> str | None:
        entry = self.list.currentItem()
        return entry.data(Qt.ItemDataRole.UserRole) if entry is not None else None

    def select(self, media_id: str) -> None:
        for row in range(self.list.count()):
            entry = self.list.item(row)
            if entry.data(Qt.ItemDataRole.UserRole) == media_id:
                self.list.setCurrentItem(entry)

    # --- interaction ------------------------------------------------------------------------
    def _activated(self, entry: QListWidgetItem) -> None:
        media_id = entry.data(Qt.ItemDataRole.UserRole)
        if self._kinds.get(media_id) == "video":
            self.openRequested.emit(media_id)
        elif self._kinds.get(media_id) == "photo":
            self.usePhotoRequested.emit(media_id)
        elif self._kinds.get(media_id) == "audio":
            self.useDialogueRequested.emit(media_id)

    def _menu(self, pos) -> None:
        entry = self.list.itemAt(pos)
        menu = QMenu(self)
        if entry is None:
            menu.addAction("Import…", self.importRequested.emit)
        else:
            media_id = entry.data(Qt.ItemDataRole.UserRole)
            kind = self._kinds.get(media_id)
            actions: list[tuple[str, Signal]] = []
            if kind == "video":
                actions.append(("Open in Timeline", self.openRequested))
                actions.append(("Use Its Sound as Dialogue", self.useDialogueRequested))
            if kind == "photo":
                actions.append(("Use as Face Photo of the Selected Edit", self.usePhotoRequested))
            if kind == "audio":
                actions.append(("Use as Dialogue of the Selected Edit",
                                self.useDialogueRequested))
            actions += [("Relink…", self.relinkRequested), ("Remove from Project",
                                                            self.removeRequested)]
            for text, signal in actions:
                action = QAction(text, menu)
                action.triggered.connect(lambda _=False, s=signal, m=media_id: s.emit(m))
                menu.addAction(action)
        menu.exec(self.list.mapToGlobal(pos))
