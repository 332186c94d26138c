"""Export settings: whole clip, the marked range or the whole sequence, H.264 quality and
speed, hardware encoder when one works here, what to do with the sound, and where to write the
MP4."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..app.jobs import ExportRequest
from ..media import EncodeSettings
from ..media.encoders import X264_PRESETS
from .widgets import wrap_freely

ENCODER_NAMES = {"libx264": "H.264 (x264, software)", "h264_nvenc": "H.264 NVENC (NVIDIA GPU)",
                 "h264_qsv": "H.264 Quick Sync (Intel)", "h264_vaapi": "H.264 VA-API",
                 "h264_videotoolbox": "H.264 VideoToolbox (Apple)"}
AUDIO_MODES = (("replace", "Replace with the new dialogue"), ("keep", "Keep the original sound"),
               ("mute", "No sound"))


class ExportDialog(QDialog):
    def __init__(self, clip_name: str, default_output: Path, marks: tuple[int, int] | None,
                 marks_text: str = "", encoders: list[str] | None = None,
                 parent: QWidget | None = None, sequence_text: str = "",
                 sequence_marks: tuple[int, int] | None = None,
                 sequence_marks_text: str = ""):
        super().__init__(parent)
        self.setWindowTitle(f"Export {clip_name}")
        self.setMinimumWidth(520)
        self.marks = marks
        layout = QVBoxLayout(self)
        heading = QLabel(f"Export {clip_name}")
        heading.setStyleSheet("font-size: 15px; font-weight: 600;")
        layout.addWidget(heading)

        scope = QGroupBox("What")
        scope_layout = QVBoxLayout(scope)
        self.whole = QRadioButton("Whole clip")
        self.range = QRadioButton("Marked range only" + (f"  ({marks_text})" if marks_text
                                                         else ""))
        self.range.setEnabled(marks is not None)
        if marks is None:
            self.range.setToolTip("Set in and out marks (I / O) to export just that span")
        self.sequence = QRadioButton("Whole sequence" + (f"  ({sequence_text})"
                                                         if sequence_text else ""))
        self.sequence.setEnabled(bool(sequence_text))
        self.sequence.setToolTip("Every clip of the Sequence panel in order, each trimmed, "
                                 "with its edits, as one MP4")
        self.sequence_marks = sequence_marks
        self.sequence_range = QRadioButton(
            "Marked range of the sequence" + (f"  ({sequence_marks_text})"
                                              if sequence_marks_text else ""))
        self.sequence_range.setEnabled(bool(sequence_text) and sequence_marks is not None)
        self.sequence_range.setToolTip("Set the sequence's marks with Sequence ▸ Mark "
                                       "Sequence In / Out (Alt+I / Alt+O)")
        group = QButtonGroup(self)
        for button in (self.whole, self.range, self.sequence, self.sequence_range):
            group.addButton(button)
            scope_layout.addWidget(button)
        self.whole.setChecked(True)
        layout.addWidget(scope)

        video = QGroupBox("Video")
        form = QFormLayout(video)
        self.encoder = QComboBox()
        for name in encoders or ["libx264"]:
            self.encoder.addItem(ENCODER_NAMES.get(name, name), name)
        self.crf = QSpinBox(minimum=0, maximum=51, value=18)
        self.crf.setToolTip("0 = lossless, 18 = visually transparent, higher = smaller file")
        self.preset = QComboBox()
        self.preset.addItems(list(X264_PRESETS))
        self.preset.setCurrentText("medium")
        form.addRow("Encoder", self.encoder)
        form.addRow("Quality (CRF)", self.crf)
        form.addRow("Speed preset", self.preset)
        layout.addWidget(video)

        sound = QGroupBox("Audio")
        sound_form = QFormLayout(sound)
        self.audio = QComboBox()
        for mode, text in AUDIO_MODES:
            self.audio.addItem(text, mode)
        sound_form.addRow("Sound", self.audio)
        layout.addWidget(sound)

        out = QGroupBox("Output")
        out_layout = QVBoxLayout(out)
        row = QHBoxLayout()
        self.output = QLineEdit(str(default_output))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.output, 1)
        row.addWidget(browse)
        out_layout.addLayout(row)
        self.overwrite = QCheckBox("Replace the file if it exists")
        out_layout.addWidget(self.overwrite)
        note = QLabel("Written to a temporary file and renamed when complete. What was "
                      "changed is recorded in the file's metadata and a .swaptalk.json sidecar.")
        note.setObjectName("hint")
        wrap_freely(note)
        out_layout.addWidget(note)
        layout.addWidget(out)

        self.error = QLabel()
        self.error.setObjectName("error")
        wrap_freely(self.error)  # a long reason wraps inside the dialog, never widens it
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.output.text(),
                                              "MP4 video (*.mp4)")
        if path:
            self.output.setText(path if path.lower().endswith((".mp4", ".m4v", ".mov"))
                                else path + ".mp4")

    def request(self) -> ExportRequest:
        """The chosen settings; ValueError with one line when something is not usable."""
        text = self.output.text().strip()
        if not text:
            raise ValueError("choose an output file")
        output = Path(text).expanduser()
        if output.suffix.lower() not in (".mp4", ".m4v", ".mov"):
            raise ValueError(f"{output.name} must end in .mp4")
        if output.exists() and not self.overwrite.isChecked():
            raise ValueError(f"{output.name} exists; tick 'Replace the file' or choose "
                             "another name")
        if not output.parent.is_dir():
            raise ValueError(f"folder {output.parent} does not exist")
        encode = EncodeSettings(video_codec=self.encoder.currentData(), crf=self.crf.value(),
                                preset=self.preset.currentText())
        span = self.marks if self.range.isChecked() and self.range.isEnabled() else None
        sequence = self.sequence.isChecked() and self.sequence.isEnabled()
        if self.sequence_range.isChecked() and self.sequence_range.isEnabled():
            sequence, span = True, self.sequence_marks
        return ExportRequest(output, span, encode, self.audio.currentData(),
                             self.overwrite.isChecked(), sequence)

    def accept(self) -> None:
        try:
            self.result_request = self.request()
        except ValueError as err:
            self.error.setText(str(err))
            return
        super().accept()
