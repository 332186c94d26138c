"""The Adapt dialog without the training extras (the editor never needs torch): it still shows
the usable footage and says in one line how to install them; Start stays off."""

from __future__ import annotations

from gui_helpers import import_and_open

from swaptalk_desktop.core.commands import SetMarks
from swaptalk_desktop.ui import adapt_dialog
from swaptalk_desktop.ui.adapt_dialog import EXTRAS_MESSAGE, AdaptDialog


def test_without_training_extras(qtbot, window, clip, monkeypatch):
    monkeypatch.setattr(adapt_dialog, "training_available", lambda: False)
    w = window
    clip_id = import_and_open(qtbot, w, clip)
    w.controller.push(SetMarks(clip_id, 10, 20))
    w.add_edit()
    w.inspector.adapt_button.click()  # the inspector's button, as Edit ▸ Adapt does
    dialog = w.adapt.dialog
    assert isinstance(dialog, AdaptDialog) and dialog.isVisible()
    assert dialog.error.text() == EXTRAS_MESSAGE
    assert not dialog.start_button.isEnabled()
    assert "(25 frames)" in dialog.usable.text()  # 40 frames less 10:20 and its sound margin
    dialog.accept()  # refused: stays open, nothing queued
    assert dialog.isVisible() and not w.jobs.records()
    dialog.reject()


def test_without_an_open_clip(qtbot, window):
    window.acts.adapt_actor.trigger()
    assert window.adapt.dialog is None
    assert "open a clip" in window.statusBar().currentMessage()
