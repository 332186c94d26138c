"""Helpers shared by the timeline tests (this module holds no tests): a recording stand-in for
media.waveform.WaveformPyramid, a timeline fixture and precise mouse input."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from swaptalk_desktop.ui.timeline import TimelineWidget

FPS = 25
FRAMES = 1000


class FakePyramid:
    """``duration_s`` and ``window()`` like WaveformPyramid; loud (0.9) between ``loud`` seconds,
    quiet (0.1) elsewhere; every call is recorded with the thread that made it."""

    def __init__(self, duration_s: float, loud: tuple[float, float] = (10.0, 11.0)):
        self.duration_s = duration_s
        self.loud = loud
        self.calls: list[tuple[float, float, int, int]] = []
        self._lock = threading.Lock()

    def window(self, t0: float, t1: float, pixels: int):
        with self._lock:
            self.calls.append((t0, t1, pixels, threading.get_ident()))
        t0, t1 = max(0.0, t0), min(self.duration_s, t1)
        n = max(1, min(2 * pixels, int((t1 - t0) * 2000)))
        times = np.linspace(t0, t1, n, endpoint=False)
        amp = np.where((times >= self.loud[0]) & (times < self.loud[1]), 0.9, 0.1)
        return times, -amp.astype(np.float32), amp.astype(np.float32)

    def last_call(self):
        with self._lock:
            return self.calls[-1] if self.calls else None


@pytest.fixture
def timeline(qtbot):
    widget = TimelineWidget()
    widget.resize(1100, 300)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_clip(FRAMES, FPS, None, None, None)
    yield widget
    widget.shutdown()


def show(widget: TimelineWidget, first: float, last: float) -> None:
    widget._show_range(first, last)
    assert widget.visible_range() == pytest.approx((first, last))


def ppf(widget: TimelineWidget) -> float:
    """Pixels per frame at the current zoom, measured through the widget's own mapping."""
    return widget.point_at(1.0, "audio").x() - widget.point_at(0.0, "audio").x()


_TYPES = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
          "release": QEvent.Type.MouseButtonRelease}


def mouse(widget: TimelineWidget, kind: str, pos: QPointF,
          button: Qt.MouseButton = Qt.MouseButton.LeftButton,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Send a mouse event at a sub-pixel position to the timeline's viewport."""
    viewport = widget.viewport()
    held = button if kind in ("press", "move") else Qt.MouseButton.NoButton
    event = QMouseEvent(_TYPES[kind], QPointF(pos), viewport.mapToGlobal(QPointF(pos)),
                        Qt.MouseButton.NoButton if kind == "move" else button, held, modifiers)
    QApplication.sendEvent(viewport, event)


def drag(widget: TimelineWidget, start: QPointF, end: QPointF, steps: int = 6,
         modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
         button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    mouse(widget, "press", start, button, modifiers)
    for i in range(1, steps + 1):
        mouse(widget, "move", start + (end - start) * (i / steps), button, modifiers)
    mouse(widget, "release", end, button, modifiers)


def wheel(widget: TimelineWidget, pos: QPointF, dy: int = 0, dx: int = 0,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    viewport = widget.viewport()
    event = QWheelEvent(QPointF(pos), viewport.mapToGlobal(QPointF(pos)), QPointF(0, 0).toPoint(),
                        QPointF(dx, dy).toPoint(), Qt.MouseButton.NoButton, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def pixel(widget: TimelineWidget, pos: QPointF):
    """The colour drawn at a viewport position, from a grab of the whole widget."""
    image = widget.grab().toImage()
    at = widget.viewport().mapTo(widget, pos.toPoint())
    scale = image.devicePixelRatio()
    return image.pixelColor(int(at.x() * scale), int(at.y() * scale))
