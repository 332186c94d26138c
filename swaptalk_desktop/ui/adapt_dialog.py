""""Adapt to this actor": what an adaptation of the open clip would learn from and how long it
would take here, before it starts.

The dialog shows the footage outside the clip's edit ranges (those are never trained on), the
base set it starts from, the steps and the estimated time on this machine from the measured
table in ``engine.adapt_plan``; Start queues the job. Without the training extras it says how
to install them and Start stays off. Nothing here imports torch.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..app.adapt import (
    DEFAULT_STEPS,
    MEASURED_ON,
    PHASES,
    clock,
    estimate,
    footage_clock,
    plan_footage,
)
from ..media import VideoInfo

EXTRAS_MESSAGE = "adaptation needs the training extras: bash scripts/setup.sh --dev"
SHORT = {"prepare": "preparing", "decoder": "decoder", "encode": "encoding", "sync": "lip sync",
         "export": "installing"}


def training_available() -> bool:
    """Whether torch and safetensors are installed (looked up, not imported: the editor never
    loads torch; the adaptation runs in its own process)."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "safetensors"))


def adapted_set_id(base: str, clip: Path) -> str:
    """The id ``swaptalk adapt`` gives by default: BASE-CLIPSTEM (safe characters only)."""
    import re
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", clip.stem).strip("._") or "clip"
    return f"{base}-{stem}"


@dataclass(frozen=True)
class AdaptRequest:
    base_set: str
    set_id: str
    minutes: float
    """0: all usable footage."""
    steps: int
    exclude: list[tuple[int, int]]
    usable_frames: int
    estimate_s: float | None


class AdaptDialog(QDialog):
    def __init__(self, clip_name: str, info: VideoInfo, exclude: list[tuple[int, int]],
                 base_sets: list[tuple[str, str]], preferred: str | None, has_audio: bool,
                 parent: QWidget | None = None, training: bool | None = None):
        super().__init__(parent)
        self.setWindowTitle("Adapt to This Actor")
        self.setMinimumWidth(560)
        self.info, self.exclude, self.clip_name = info, list(exclude), clip_name
        self.configs = dict(base_sets)
        layout = QVBoxLayout(self)
        heading = QLabel(f"Adapt to the actor of {clip_name}")
        heading.setStyleSheet("font-size: 15px; font-weight: 600;")
        layout.addWidget(heading)
        about = QLabel("Fine-tunes the base set's face decoder and lip sync on this clip's own "
                       "frames and sound, and installs the result as a new model set that this "
                       "clip's edits then use. The edit ranges (the lines being replaced) are "
                       "never trained on.")
        about.setObjectName("hint")
        about.setWordWrap(True)
        layout.addWidget(about)

        footage = QGroupBox("Footage")
        form = QFormLayout(footage)
        self.usable = QLabel()
        self.usable.setWordWrap(True)
        form.addRow("Usable", self.usable)
        self.minutes = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=600.0, singleStep=0.5,
                                      suffix=" min")
        self.minutes.setSpecialValueText("all of it")
        self.minutes.setToolTip("How much of the usable footage to learn from, from the start "
                                "of the clip (more takes longer; 3 minutes is plenty)")
        self.minutes.setValue(3.0)
        form.addRow("Use up to", self.minutes)
        layout.addWidget(footage)

        training_box = QGroupBox("Training")
        form2 = QFormLayout(training_box)
        self.base = QComboBox()
        for set_id, config in base_sets:
            self.base.addItem(f"{set_id} ({config})", set_id)
        if preferred is not None and self.base.findData(preferred) >= 0:
            self.base.setCurrentIndex(self.base.findData(preferred))
        form2.addRow("Base model set", self.base)
        self.steps = QSpinBox(minimum=1, maximum=100_000, singleStep=100)
        self.steps.setToolTip("Steps of each of the two fine-tunes (decoder, lip sync)")
        form2.addRow("Steps", self.steps)
        self.set_id = QLabel()
        form2.addRow("New model set", self.set_id)
        layout.addWidget(training_box)

        self.estimate_text = QLabel()
        self.estimate_text.setWordWrap(True)
        layout.addWidget(self.estimate_text)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setObjectName("primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.problem = ""
        if not (training_available() if training is None else training):
            self.problem = EXTRAS_MESSAGE
        elif not base_sets:
            self.problem = ("no installed model set has training weights to start from; "
                            "install one made by `swaptalk train export`")
        elif not has_audio:
            self.problem = (f"{clip_name} has no sound; adaptation learns the actor's lips "
                            "from their own speech")
        self.base.currentIndexChanged.connect(self._base_changed)
        self.minutes.valueChanged.connect(self.refresh)
        self.steps.valueChanged.connect(self.refresh)
        self._base_changed()

    # --- what it would do ------------------------------------------------------------------
    def config(self) -> str | None:
        return self.configs.get(self.base.currentData())

    def _base_changed(self) -> None:
        config = self.config()
        self.steps.blockSignals(True)
        self.steps.setValue(DEFAULT_STEPS.get(config or "", 1500))
        self.steps.blockSignals(False)
        self.refresh()

    def footage(self):
        return plan_footage(self.info.frame_times, self.info.duration_s, float(self.info.fps),
                            self.exclude, self.minutes.value())

    def refresh(self) -> None:
        footage = self.footage()
        total = plan_footage(self.info.frame_times, self.info.duration_s, float(self.info.fps),
                             self.exclude, None)
        ranges = len(total.excluded)
        text = (f"{footage_clock(footage.usable_s)} of {footage_clock(total.usable_s)} outside "
                f"the edit ranges ({footage.usable} frames)")
        if ranges:
            text += (f"; {ranges} edit range(s), {total.left_out} frames with their sound "
                     "margin, left out")
        self.usable.setText(text)
        base = self.base.currentData()
        self.set_id.setText(adapted_set_id(base, Path(self.clip_name)) if base else "–")
        plan = estimate(self.config() or "", footage, self.steps.value(),
                        self.info.width * self.info.height / 1e6)
        self.estimate_s = plan.total_s if plan else None
        if plan is None:
            self.estimate_text.setText("No measured speeds for this set's configuration, so no "
                                       "time estimate.")
        else:
            parts = ", ".join(f"{SHORT[p]} {clock(plan.seconds[p])}" for p in PHASES)
            self.estimate_text.setText(f"<b>About {clock(plan.total_s)}</b> on this machine "
                                       f"(speeds measured on {MEASURED_ON}): {parts}. It runs "
                                       "in the background and can be cancelled and resumed.")
        problem = self.problem or ("" if footage.usable else
                                   "no footage outside the edit ranges to learn from")
        self.error.setText(problem)
        self.start_button.setEnabled(not problem)

    def request(self) -> AdaptRequest:
        footage = self.footage()
        base = self.base.currentData()
        return AdaptRequest(base_set=base, set_id=adapted_set_id(base, Path(self.clip_name)),
                            minutes=float(self.minutes.value()), steps=self.steps.value(),
                            exclude=list(footage.excluded), usable_frames=footage.usable,
                            estimate_s=self.estimate_s)

    def accept(self) -> None:
        self.refresh()
        if not self.start_button.isEnabled():
            return
        self.result_request = self.request()
        super().accept()
