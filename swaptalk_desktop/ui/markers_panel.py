"""The marker list (a dock: colour, timecode, name; click to jump, double-click to edit) and
the small dialog that renames, recolours or deletes one marker."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.project import MARKER_COLORS, MAX_MARKER_NAME, Marker
from ..core.timebase import frame_to_timecode
from . import style
from .timeline.theme import MARKER_COLORS as PAINT
from .widgets import wrap_freely

_ID = Qt.ItemDataRole.UserRole


def swatch(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(PAINT.get(color, QColor("#5cc25c")))
    return QIcon(pixmap)


def marker_label(marker: Marker, index: int) -> str:
    """How the list and messages name a marker without a name."""
    return marker.name or f"Marker {index + 1}"


class MarkersPanel(QWidget):
    jumpRequested = Signal(int)        # a frame
    editRequested = Signal(str)        # a marker id
    deleteRequested = Signal(str)
    addRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Timecode", "Name"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(lambda item, _c: self.editRequested.emit(
            item.data(0, _ID)))
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.installEventFilter(self)
        layout.addWidget(self.tree)
        self.hint = QLabel("No markers. Press M to add one at the playhead.")
        wrap_freely(self.hint)
        self.hint.setStyleSheet(f"color: {style.MUTED};")
        layout.addWidget(self.hint)
        row = QHBoxLayout()
        self.add_button = QToolButton(text="Add")
        self.add_button.setToolTip("Add a marker at the playhead (M)")
        self.edit_button = QToolButton(text="Edit…")
        self.edit_button.setToolTip("Rename or recolour the selected marker (double-click)")
        self.delete_button = QToolButton(text="Delete")
        self.delete_button.setToolTip("Delete the selected marker")
        self.add_button.clicked.connect(self.addRequested.emit)
        self.edit_button.clicked.connect(lambda: self._emit_selected(self.editRequested))
        self.delete_button.clicked.connect(lambda: self._emit_selected(self.deleteRequested))
        for button in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self._frames: dict[str, int] = {}
        self._syncing = False
        self.set_markers([], 25)

    def set_markers(self, markers: list[Marker], fps: Fraction | float,
                    current: int | None = None) -> None:
        """Show ``markers``; the one at frame ``current`` (the playhead) is selected."""
        self._syncing = True
        try:
            selected = self.selected_id()
            self.tree.clear()
            self._frames = {m.id: m.frame for m in markers}
            for i, marker in enumerate(markers):
                item = QTreeWidgetItem([frame_to_timecode(marker.frame, fps),
                                        marker_label(marker, i)])
                item.setIcon(0, swatch(marker.color))
                item.setData(0, _ID, marker.id)
                item.setToolTip(1, f"frame {marker.frame} · {marker.color}")
                if not marker.name:
                    item.setForeground(1, QColor(style.MUTED))
                self.tree.addTopLevelItem(item)
                if marker.frame == current or (current is None and marker.id == selected):
                    self.tree.setCurrentItem(item)
        finally:
            self._syncing = False
        self.hint.setVisible(not markers)
        for button in (self.edit_button, self.delete_button):
            button.setEnabled(bool(markers))

    def select_frame(self, frame: int) -> None:
        """Highlight the marker at ``frame`` (the playhead), if any, without jumping."""
        self._syncing = True
        try:
            for i in range(self.tree.topLevelItemCount()):
                item = self.tree.topLevelItem(i)
                if self._frames.get(item.data(0, _ID)) == frame:
                    self.tree.setCurrentItem(item)
                    return
            self.tree.clearSelection()
        finally:
            self._syncing = False

    def selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, _ID) if item is not None and item.isSelected() else None

    def row_of(self, marker_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            if self.tree.topLevelItem(i).data(0, _ID) == marker_id:
                return self.tree.topLevelItem(i)
        return None

    def _emit_selected(self, signal) -> None:
        marker_id = self.selected_id()
        if marker_id is not None:
            signal.emit(marker_id)

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        frame = self._frames.get(item.data(0, _ID))
        if frame is not None:
            self.jumpRequested.emit(frame)

    def _current_changed(self, item: QTreeWidgetItem | None, _previous) -> None:
        if item is not None and not self._syncing:  # arrow keys in the list jump too
            self._clicked(item, 0)

    # Inside the list, ↑/↓ move between markers (and jump) and Delete deletes the marker: the
    # list claims those keys before the window's shortcuts (edit points, Remove Edit) see them.
    _OWN_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Delete, Qt.Key.Key_Backspace)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.tree and ev.type() in (QEvent.Type.ShortcutOverride,
                                              QEvent.Type.KeyPress):
            if ev.key() in self._OWN_KEYS and \
                    ev.modifiers() == Qt.KeyboardModifier.NoModifier:
                ev.accept()
                if ev.type() == QEvent.Type.KeyPress and \
                        ev.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                    self._emit_selected(self.deleteRequested)
                    return True
                return False
        return super().eventFilter(obj, ev)


class MarkerDialog(QDialog):
    """Name and colour of one marker; "Delete Marker" closes it with DELETE."""

    DELETE = 2

    def __init__(self, marker: Marker, fps: Fraction | float, label: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.marker_id = marker.id
        self.setWindowTitle("Marker")
        form = QFormLayout(self)
        where = QLabel(f"{frame_to_timecode(marker.frame, fps)}  ·  frame {marker.frame}")
        form.addRow("At", where)
        self.name = QLineEdit(marker.name)
        self.name.setPlaceholderText(label)
        self.name.setMaxLength(MAX_MARKER_NAME)
        self.name.selectAll()
        form.addRow("Name", self.name)
        self.color = QComboBox()
        for color in MARKER_COLORS:
            self.color.addItem(swatch(color), color.capitalize(), color)
        self.color.setCurrentIndex(MARKER_COLORS.index(marker.color)
                                   if marker.color in MARKER_COLORS else 0)
        form.addRow("Colour", self.color)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        self.delete_button = QPushButton("Delete Marker")
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.delete_button.clicked.connect(lambda: self.done(self.DELETE))
        form.addRow(buttons)
        self.name.setFocus()

    def values(self) -> dict:
        return {"name": self.name.text().strip(), "color": self.color.currentData()}
