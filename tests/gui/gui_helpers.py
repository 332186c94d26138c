"""Helpers for driving the main window in tests (plain functions, no fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from swaptalk_desktop.app.preferences import Preferences
from swaptalk_desktop.ui.main_window import MainWindow

WAIT_MS = 120_000  # a bound against a hang only; nothing here is timed


def open_window(qtbot, models_dir: Path, model_set: str = "source", **prefs) -> MainWindow:
    w = MainWindow(Preferences(model_set=model_set, **prefs), models_dirs=[models_dir])
    w.ask_before_closing = False  # no "save changes?" box when a test closes it
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    return w


def import_and_open(qtbot, w: MainWindow, clip: Path, *others: Path) -> str:
    """Import files as a drop would, wait for the clip to open; returns the clip's media id."""
    w.import_files([clip, *others])
    qtbot.waitUntil(lambda: len(w.controller.project.media) == 1 + len(others), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    return w.clip_id


def key(w: MainWindow, k, modifier=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    for _ in range(times):
        QTest.keyClick(w, k, modifier)


def media_id(w: MainWindow, path: Path) -> str:
    return next(m.id for m in w.controller.project.media.values() if m.path == path.resolve())


def wait_job(qtbot, w: MainWindow, job_id: str) -> None:
    qtbot.waitUntil(lambda: (r := w.jobs.record(job_id)) is not None and r.finished,
                    timeout=WAIT_MS)


def wait_processed(qtbot, w: MainWindow, index: int) -> np.ndarray:
    qtbot.waitUntil(lambda: w.viewer.processed is not None and
                    w.viewer.processed_index == index, timeout=WAIT_MS)
    return w.viewer.processed
