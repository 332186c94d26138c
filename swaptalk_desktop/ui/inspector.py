"""The edit inspector: the selected edit's face photo, dialogue and its offset (with nudge
buttons), swap/sync switches, feather and strength. Every change is requested through
``fieldChanged``; the window turns it into an undoable command. A slider drag carries one
drag id, so the whole drag is one undo step."""

from __future__ import annotations

import uuid
from fractions import Fraction

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.project import MAX_FEATHER, Project, RangeEdit
from ..core.timebase import format_range
from .widgets import ElidedLabel, wrap_freely
from .wording import edit_name


class _DragSlider(QSlider):
    """A slider that reports (value, drag id): one id per press-drag-release."""

    changed = Signal(int, object)

    def __init__(self, lo: int, hi: int):
        super().__init__(Qt.Orientation.Horizontal)
        self.setRange(lo, hi)
        self._drag: str | None = None
        self.sliderPressed.connect(self._start)
        self.sliderReleased.connect(self._end)
        self.valueChanged.connect(lambda v: self.changed.emit(v, self._drag))

    def _start(self) -> None:
        self._drag = uuid.uuid4().hex

    def _end(self) -> None:
        self._drag = None


class Inspector(QWidget):
    fieldChanged = Signal(str, str, object, object)  # edit id, field, value, drag id
    addRequested = Signal()
    processRequested = Signal(str)
    removeRequested = Signal(str)
    adaptRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit_id: str | None = None
        self.fps = Fraction(25)
        self._updating = False
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_empty())
        self.stack.addWidget(self._build_form())
        # the form scrolls when the window is short (1280×720): it never sets the window's
        # minimum height, and its texts (elided or wrapped) never its minimum width
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.stack)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

    # --- building ---------------------------------------------------------------------------
    def _build_empty(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.empty_text = wrap_freely(QLabel())
        self.empty_text.setObjectName("hint")
        self.add_button = QPushButton("Add Edit")
        self.add_button.setObjectName("primary")
        self.add_button.clicked.connect(self.addRequested)
        self.adapt_empty = QPushButton("Adapt to This Actor…")
        self.adapt_empty.setToolTip("Fine-tune the model set on this clip's actor, outside the "
                                    "edit ranges")
        self.adapt_empty.clicked.connect(self.adaptRequested)
        layout.addWidget(self.empty_text)
        layout.addWidget(self.add_button)
        layout.addWidget(self.adapt_empty)
        layout.addStretch(1)
        return page

    def _build_form(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.title = ElidedLabel()
        self.title.setStyleSheet("font-weight: 600; font-size: 13px;")
        self.range_text = ElidedLabel()
        self.range_text.setObjectName("hint")
        layout.addWidget(self.title)
        layout.addWidget(self.range_text)

        what = QGroupBox("Replace")
        form = QFormLayout(what)
        self.label = QLineEdit(placeholderText="e.g. Line 7")
        self.label.editingFinished.connect(
            lambda: self._emit("label", self.label.text().strip()))
        self.photo = QComboBox()
        self.photo.activated.connect(lambda _i: self._emit("photo_id", self.photo.currentData()))
        self.audio = QComboBox()
        self.audio.activated.connect(lambda _i: self._emit("audio_id", self.audio.currentData()))
        self.swap = QCheckBox("Face swap")
        self.swap.toggled.connect(lambda on: self._emit("swap", on))
        self.sync = QCheckBox("Lip sync")
        self.sync.toggled.connect(lambda on: self._emit("sync", on))
        switches = QHBoxLayout()
        switches.addWidget(self.swap)
        switches.addWidget(self.sync)
        self.swap_method = QComboBox()
        self.swap_method.addItem("Face mesh", "warp")
        self.swap_method.addItem("Latent model", "latent")
        # the inspector dock is narrow at 1280x720: the combo must not widen the form
        self.swap_method.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.swap_method.setMinimumContentsLength(8)
        self.swap_method.setToolTip(
            "Face mesh: the photo's own face drawn on the actor's face mesh, sharp (the "
            "default).\n"
            "Latent model: the model set's swap stage, as in the SwapTalk paper; the shipped "
            "sets' latent swap barely changes who the face looks like.")
        self.swap_method.activated.connect(
            lambda _i: self._emit("swap_method", self.swap_method.currentData()))
        form.addRow("Label", self.label)
        form.addRow("Face photo", self.photo)
        form.addRow("Dialogue", self.audio)
        form.addRow("", switches)
        form.addRow("Swap by", self.swap_method)
        self.note = wrap_freely(QLabel())
        self.note.setObjectName("hint")
        form.addRow(self.note)
        layout.addWidget(what)

        timing = QGroupBox("Dialogue offset")
        rows = QVBoxLayout(timing)  # the value above its nudges: fits the narrowest dock
        self.offset = QDoubleSpinBox(decimals=3, minimum=-600, maximum=600, singleStep=0.01,
                                     suffix=" s", keyboardTracking=False)
        self.offset.setToolTip("Seconds from the edit's first frame to the dialogue's start")
        self.offset.valueChanged.connect(lambda v: self._emit("audio_offset", round(v, 6)))
        rows.addWidget(self.offset)
        row = QHBoxLayout()
        rows.addLayout(row)
        self.nudges: dict[str, QToolButton] = {}
        for text, frames, ms in (("−1f", -1, 0), ("−10ms", 0, -10), ("+10ms", 0, 10),
                                 ("+1f", 1, 0)):
            button = QToolButton(text=text)
            button.setToolTip("Nudge the dialogue " + ("one frame" if frames else "10 ms")
                              + (" earlier" if frames + ms < 0 else " later"))
            button.clicked.connect(lambda _=False, f=frames, m=ms: self.nudge(f, m))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            row.addWidget(button)
            self.nudges[text] = button
        layout.addWidget(timing)

        look = QGroupBox("Blend")
        form2 = QFormLayout(look)
        self.feather = _DragSlider(0, int(MAX_FEATHER / 2))
        self.feather_value = QLabel()
        self.feather.changed.connect(lambda v, d: self._emit("feather", float(v), d))
        self.strength = _DragSlider(0, 100)
        self.strength_value = QLabel()
        self.strength.changed.connect(lambda v, d: self._emit("strength", v / 100, d))
        self.color_match = QCheckBox("Match colour to the original")
        self.color_match.toggled.connect(lambda on: self._emit("color_match", on))
        for name, slider, value in (("Feather", self.feather, self.feather_value),
                                    ("Strength", self.strength, self.strength_value)):
            line = QHBoxLayout()
            line.addWidget(slider, 1)
            value.setMinimumWidth(44)
            line.addWidget(value)
            form2.addRow(name, line)
        form2.addRow("", self.color_match)
        layout.addWidget(look)

        models = QHBoxLayout()
        self.models = wrap_freely(QLabel())
        self.models.setObjectName("hint")
        self.adapt_button = QPushButton("Adapt to This Actor…")
        self.adapt_button.setToolTip("Fine-tune the model set on this clip's actor, outside "
                                     "the edit ranges; the clip's edits then use it")
        self.adapt_button.clicked.connect(self.adaptRequested)
        models.addWidget(self.models, 1)
        models.addWidget(self.adapt_button)
        layout.addLayout(models)
        self.status = ElidedLabel()
        self.status.setObjectName("hint")
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.process_button = QPushButton("Process Range")
        self.process_button.setObjectName("primary")
        self.process_button.clicked.connect(lambda: self.processRequested.emit(self.edit_id))
        self.remove_button = QPushButton("Remove Edit")
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self.edit_id))
        buttons.addWidget(self.process_button)
        buttons.addWidget(self.remove_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        return page

    # --- showing ----------------------------------------------------------------------------
    def show_none(self, has_clip: bool, marks: str = "") -> None:
        self.edit_id = None
        self.stack.setCurrentIndex(0)
        self.add_button.setEnabled(has_clip)
        self.adapt_empty.setVisible(has_clip)
        if has_clip:
            self.empty_text.setText(
                "No edit selected.\n\nMark a range with I and O (or use the playhead) and add "
                f"an edit (E). Select an edit on the timeline to change it.{marks}")
        else:
            self.empty_text.setText("No clip open.\n\nImport a clip and double-click it in the "
                                    "media bin to open it in the timeline.")

    def show_edit(self, project: Project, clip_id: str, edit: RangeEdit, fps: Fraction,
                  status: str = "", models: str = "", name: str = "") -> None:
        self._updating = True
        try:
            self.edit_id, self.fps = edit.id, fps
            self.stack.setCurrentIndex(1)
            self.title.setText(name or edit_name(project.clips.get(clip_id), edit))
            self.range_text.setText(format_range(edit.start, edit.stop, fps))
            if not self.label.hasFocus():
                self.label.setText(edit.label)
            self._fill(self.photo, project, "photo", edit.photo_id, "No new face")
            self._fill(self.audio, project, "audio", edit.audio_id, "Keep original sound")
            self.swap.setChecked(edit.swap)
            self.sync.setChecked(edit.sync)
            self.swap_method.setCurrentIndex(max(0, self.swap_method.findData(edit.swap_method)))
            self.swap_method.setEnabled(edit.swap)
            self.offset.setValue(edit.audio_offset)
            self.feather.setValue(round(edit.feather))
            self.feather_value.setText(f"{edit.feather:.0f} px")
            self.strength.setValue(round(edit.strength * 100))
            self.strength_value.setText(f"{edit.strength * 100:.0f} %")
            self.color_match.setChecked(edit.color_match)
            for button in self.nudges.values():
                button.setEnabled(edit.audio_id is not None)
            self.offset.setEnabled(edit.audio_id is not None)
            notes = []
            if edit.photo_id is None and edit.audio_id is None:
                notes.append("Choose a face photo and/or dialogue for this edit.")
            if edit.swap and edit.photo_id is None and edit.audio_id is not None:
                notes.append("Face swap needs a photo.")
            if edit.sync and edit.audio_id is None and edit.photo_id is not None:
                notes.append("Lip sync needs dialogue.")
            self.note.setText(" ".join(notes))
            self.note.setVisible(bool(notes))
            self.status.setText(status)
            self.models.setText(f"Model set: {models}" if models else "")
        finally:
            self._updating = False

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _fill(self, combo: QComboBox, project: Project, role: str, current: str | None,
              none_text: str) -> None:
        combo.clear()
        combo.addItem(none_text, None)
        for item in project.media.values():
            fits = item.kind == "photo" if role == "photo" else item.has_audio
            if fits:
                suffix = " (its sound)" if item.kind == "video" else ""
                combo.addItem(item.name + suffix, item.id)
        index = combo.findData(current)
        combo.setCurrentIndex(max(0, index))

    # --- requests ---------------------------------------------------------------------------
    def _emit(self, field: str, value, drag_id: str | None = None) -> None:
        if self._updating or self.edit_id is None:
            return
        self.fieldChanged.emit(self.edit_id, field, value, drag_id)

    def nudge(self, frames: int, ms: int) -> None:
        step = frames / float(self.fps) + ms / 1000.0
        self._emit("audio_offset", round(self.offset.value() + step, 6))
