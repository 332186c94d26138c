"""GUI tests drive the real MainWindow offscreen (pytest-qt), with the synthetic test models.

Qt and SDL read their platform from the environment when they start, so it is set here, before
any test creates the QApplication.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

pytest.importorskip("pytestqt")


@pytest.fixture
def window(qtbot, models_dir):
    """A fresh main window over the test model sets ("source" pastes the photo's face)."""
    from gui_helpers import open_window  # the whole app: only for tests that use it
    w = open_window(qtbot, models_dir)
    yield w
    w.shutdown()
