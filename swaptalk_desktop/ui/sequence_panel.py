"""The sequence (a dock beside the timeline): its clips in order, each with its place in the
sequence, its trim and its edits; buttons to add the open clip, remove, move earlier / later,
trim to the marks. Click a clip to open it in the timeline at its in point."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .widgets import ElidedLabel

_ID = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class SequenceRow:
    entry_id: str
    text: str
    tooltip: str


class SequencePanel(QWidget):
    openRequested = Signal(str)          # a sequence clip's id
    addRequested = Signal()
    removeRequested = Signal(str)
    moveRequested = Signal(str, int)     # id, +1 later / -1 earlier
    trimRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.summary = ElidedLabel("The sequence is empty")
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemClicked.connect(lambda item: self.openRequested.emit(item.data(_ID)))
        self.list.itemActivated.connect(lambda item: self.openRequested.emit(item.data(_ID)))
        layout.addWidget(self.list, 1)
        # two rows: the five buttons in one are cut short at the dock's width (270 px)
        row, second = QHBoxLayout(), QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, tip in (
                ("add", "Add", "Put the open clip at the end of the sequence (its marked "
                               "range, or all of it)"),
                ("remove", "Remove", "Take the selected clip out of the sequence (its edits "
                                     "stay with the clip)"),
                ("earlier", "◀", "Move the selected clip earlier"),
                ("later", "▶", "Move the selected clip later"),
                ("trim", "Trim to Marks", "Trim the selected clip to the open clip's in/out "
                                          "marks")):
            button = QPushButton(text)
            button.setToolTip(tip)
            (second if name == "trim" else row).addWidget(button)
            self.buttons[name] = button
        self.buttons["add"].clicked.connect(self.addRequested.emit)
        self.buttons["remove"].clicked.connect(
            lambda: self._with_selected(self.removeRequested.emit))
        self.buttons["earlier"].clicked.connect(
            lambda: self._with_selected(lambda e: self.moveRequested.emit(e, -1)))
        self.buttons["later"].clicked.connect(
            lambda: self._with_selected(lambda e: self.moveRequested.emit(e, 1)))
        self.buttons["trim"].clicked.connect(
            lambda: self._with_selected(self.trimRequested.emit))
        layout.addLayout(row)
        layout.addLayout(second)

    def _with_selected(self, then) -> None:
        entry = self.selected()
        if entry is not None:
            then(entry)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(_ID) if item is not None else None

    def ids(self) -> list[str]:
        return [self.list.item(i).data(_ID) for i in range(self.list.count())]

    def select(self, entry_id: str | None) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(_ID) == entry_id:
                self.list.setCurrentRow(i)
                return

    def set_rows(self, rows: list[SequenceRow], summary: str,
                 selected: str | None = None) -> None:
        keep = selected or self.selected()
        self.list.blockSignals(True)
        self.list.clear()
        for r in rows:
            item = QListWidgetItem(r.text)
            item.setData(_ID, r.entry_id)
            item.setToolTip(r.tooltip)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.select(keep)
        self.summary.setText(summary)
        has = bool(rows)
        for name in ("remove", "earlier", "later", "trim"):
            self.buttons[name].setEnabled(has)
