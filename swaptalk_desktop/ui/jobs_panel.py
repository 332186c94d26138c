"""The job panel: one card per processing, export or adaptation job with progress, speed, ETA
and buttons to cancel, retry or clear it. A failed job shows its one-line error; the queue goes
on."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..app.job_progress import JobProgress
from . import style
from .widgets import ElidedLabel, wrap_freely
from .wording import gui_wording

STATE_TEXT = {"queued": "Queued", "running": "Running", "done": "Done", "failed": "Failed",
              "cancelled": "Cancelled"}
STAGE_TEXT = {"prepare": "checking inputs", "track": "tracking faces",
              "render": "rendering faces", "write": "writing MP4",
              "dataset": "preparing the footage", "train vqgan": "fine-tuning the decoder",
              "encode": "encoding the frames", "train sync": "fine-tuning the lip sync",
              "export": "installing the adapted set"}
STATE_COLOR = {"failed": style.ERROR, "done": style.OK, "cancelled": style.MUTED,
               "running": style.ACCENT, "queued": style.MUTED}


def status_line(r, p: JobProgress | None = None) -> str:
    """One line: state, stage, the whole job's percentage, the stage's counts, speed and the
    smoothed time left (or the error)."""
    if r.state == "failed":
        return f"Failed: {gui_wording(r.error or 'unknown error')}"
    parts = [STATE_TEXT.get(r.state, r.state)]
    if r.state == "running":
        training = r.stage.startswith("train ")
        if r.stage:
            # an adaptation's footage is prepared under the clip's name as the stage
            text = STAGE_TEXT.get(r.stage, "preparing the footage" if r.kind == "adapt"
                                  else r.stage)
            parts[0] += f": {text}"
        if r.message and r.message not in parts[0]:
            parts.append(r.message)
        if r.total and r.stage != "export":
            parts.append(f"{r.done}/{r.total}" + (" steps" if training else ""))
        if r.fps:
            parts.append(f"{r.fps:.1f} {'steps/s' if training else 'fps'}")
        if p is not None:
            parts.append(p.text())
    return " · ".join(parts)


def fraction_of(r, p: JobProgress | None = None) -> float:
    if r.state == "done":
        return 1.0
    return p.fraction if p is not None else 0.0


class JobCard(QFrame):
    def __init__(self, panel: JobsPanel, record) -> None:
        super().__init__()
        self.setObjectName("jobcard")
        self.setStyleSheet(f"QFrame#jobcard {{ background: {style.PANEL}; "
                           f"border: 1px solid {style.BORDER}; border-radius: 4px; }}")
        self.title = ElidedLabel(record.title)  # a long title shortens, its tooltip is whole
        self.title.setStyleSheet(f"color: {style.TEXT}; font-weight: 600;")
        self.status = wrap_freely(QLabel())  # a long error wraps; it never widens the dock
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        self.cancel = QToolButton(text="Cancel")
        self.retry = QToolButton(text="Retry")
        self.remove = QToolButton(text="Clear")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for button, signal in ((self.cancel, panel.cancelRequested),
                               (self.retry, panel.retryRequested),
                               (self.remove, panel.removeRequested)):
            button.clicked.connect(lambda _=False, s=signal, i=record.id: s.emit(i))
            top.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)

    def update_record(self, r, p: JobProgress | None = None) -> None:
        self.title.setText(r.title)
        self.status.setText(status_line(r, p))
        self.status.setToolTip(gui_wording(r.error) if r.error else "")
        self.status.setStyleSheet(f"color: {STATE_COLOR.get(r.state, style.TEXT)};")
        self.bar.setValue(int(round(1000 * min(1.0, max(0.0, fraction_of(r, p))))))
        active = r.state in ("queued", "running")
        self.cancel.setVisible(active)
        self.retry.setVisible(r.state in ("failed", "cancelled"))
        self.remove.setVisible(not active)


class JobsPanel(QWidget):
    cancelRequested = Signal(str)
    retryRequested = Signal(str)
    removeRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setSpacing(3)
        self.list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.hint = QLabel("No jobs. Process Range (Ctrl+R), Export (Ctrl+E) and Adapt to This "
                           "Actor queue here.")
        self.hint.setObjectName("hint")
        wrap_freely(self.hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        self._cards: dict[str, tuple[QListWidgetItem, JobCard]] = {}

    def update_record(self, record, progress: JobProgress | None = None) -> None:
        entry = self._cards.get(record.id)
        if entry is None:
            card = JobCard(self, record)
            item = QListWidgetItem()
            self.list.addItem(item)
            self.list.setItemWidget(item, card)
            entry = self._cards[record.id] = (item, card)
        item, card = entry
        card.update_record(record, progress)
        self._fit(item, card)
        self.hint.setVisible(False)

    def _fit(self, item: QListWidgetItem, card: JobCard) -> None:
        """The card as tall as its wrapped lines need at the list's width."""
        width = max(1, self.list.viewport().width() - 2 * self.list.spacing())
        layout = card.layout()
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
        item.setSizeHint(QSize(0, max(height, card.minimumSizeHint().height())))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        for item, card in self._cards.values():
            self._fit(item, card)

    def drop(self, job_id: str) -> None:
        entry = self._cards.pop(job_id, None)
        if entry is not None:
            self.list.takeItem(self.list.row(entry[0]))
        self.hint.setVisible(not self._cards)

    def state_text(self, job_id: str) -> str:
        entry = self._cards.get(job_id)
        return entry[1].status.text() if entry else ""

    def job_ids(self) -> list[str]:
        return list(self._cards)
