"""Settings: which inference provider and model set to use, where the cache lives and how big it
may grow (with its current size and a button that clears it), how often to autosave."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..app.preferences import Preferences

PROVIDERS = (("auto", "Automatic (CUDA when it works, else CPU)"), ("cuda", "CUDA (NVIDIA GPU)"),
             ("cpu", "CPU"))


def format_bytes(n: int | None) -> str:
    if n is None:
        return "measuring…"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


class SettingsDialog(QDialog):
    clearCacheRequested = Signal()

    def __init__(self, prefs: Preferences, model_sets: list[tuple[str, str]],
                 default_set: str | None, provider_used: str, default_cache: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.prefs = prefs
        layout = QVBoxLayout(self)

        inference = QGroupBox("Inference")
        form = QFormLayout(inference)
        self.provider = QComboBox()
        for key, text in PROVIDERS:
            self.provider.addItem(text, key)
        self.provider.setCurrentIndex(max(0, self.provider.findData(prefs.provider)))
        form.addRow("Provider", self.provider)
        used = QLabel(f"In use now: {provider_used}")
        used.setObjectName("hint")
        form.addRow("", used)
        self.model_set = QComboBox()
        self.model_set.addItem(f"Default ({default_set or 'none installed'})", None)
        for set_id, description in model_sets:
            self.model_set.addItem(f"{set_id} — {description}" if description else set_id,
                                   set_id)
        self.model_set.setCurrentIndex(max(0, self.model_set.findData(prefs.model_set)))
        form.addRow("Model set", self.model_set)
        self.models_dir = QLineEdit(prefs.models_dirs[0] if prefs.models_dirs else "")
        self.models_dir.setPlaceholderText("optional folder with a manifest.json")
        form.addRow("Extra models folder", self._with_browse(self.models_dir))
        layout.addWidget(inference)

        cache = QGroupBox("Cache (face tracks, rendered chunks, waveforms, thumbnails)")
        cform = QFormLayout(cache)
        self.cache_dir = QLineEdit(prefs.cache_dir or "")
        self.cache_dir.setPlaceholderText(default_cache)
        cform.addRow("Location", self._with_browse(self.cache_dir))
        self.cache_limit = QDoubleSpinBox(minimum=0.5, maximum=2048, decimals=1, suffix=" GiB",
                                          value=prefs.cache_limit_gb)
        cform.addRow("Size limit", self.cache_limit)
        usage_row = QHBoxLayout()
        self.usage = QLabel(format_bytes(None))
        self.clear_button = QPushButton("Clear Cache")
        self.clear_button.setToolTip("Delete cached render chunks and face tracks (processed "
                                     "ranges will need processing again)")
        self.clear_button.clicked.connect(self.clearCacheRequested)
        usage_row.addWidget(self.usage, 1)
        usage_row.addWidget(self.clear_button)
        cform.addRow("In use", usage_row)
        layout.addWidget(cache)

        other = QGroupBox("Project")
        oform = QFormLayout(other)
        self.autosave = QSpinBox(minimum=5, maximum=600, suffix=" s", value=prefs.autosave_s)
        oform.addRow("Autosave every", self.autosave)
        layout.addWidget(other)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _with_browse(self, line: QLineEdit) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(lambda: self._pick(line))
        row.addWidget(button)
        return box

    def _pick(self, line: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose folder", line.text())
        if folder:
            line.setText(folder)

    def set_usage(self, n_bytes: int | None) -> None:
        self.usage.setText(format_bytes(n_bytes))

    def result_preferences(self) -> Preferences:
        folder = self.models_dir.text().strip()
        return replace(self.prefs, provider=self.provider.currentData(),
                       model_set=self.model_set.currentData(),
                       models_dirs=[folder] if folder else [],
                       cache_dir=self.cache_dir.text().strip() or None,
                       cache_limit_gb=float(self.cache_limit.value()),
                       autosave_s=int(self.autosave.value()))
