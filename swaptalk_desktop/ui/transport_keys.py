"""J/K/L as an editor's hand uses them: K held down changes what J and L do.

- J / L alone shuttle backward / forward (1×, 2×, 4× on repeated presses); K stops.
- Holding K and tapping J / L steps one frame back / forward (frame crawl).
- Holding K and holding J / L plays at ½× in that direction until J / L is let go.

QActions fire on key presses only, so this object watches the application's key releases
(never consuming them) to know which of J, K and L are still down. Auto-repeated presses and
releases are ignored; leaving the application forgets everything held.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

HOLD_MS = 300  # J/L held this long with K down: slow play instead of one frame

_KEYS = {Qt.Key.Key_J: "J", Qt.Key.Key_K: "K", Qt.Key.Key_L: "L"}


class TransportKeys(QObject):
    def __init__(self, playback, step: Callable[[int], None], parent: QObject | None = None):
        super().__init__(parent)
        self.playback = playback
        self.step = step
        self.held: set[str] = set()
        self._slow: int = 0  # direction of a ½× play started by a K+J/L hold, else 0
        self._hold = QTimer(self, singleShot=True, interval=HOLD_MS)
        self._hold.timeout.connect(self._held_long)
        self._hold_direction = 0
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # --- the actions' slots (key presses) ---------------------------------------------------
    def press_k(self) -> None:
        self.held.add("K")
        self.playback.stop()

    def press_shuttle(self, direction: int) -> None:
        """J (direction -1) or L (+1) was pressed."""
        self.held.add("L" if direction > 0 else "J")
        if "K" in self.held:
            self.step(direction)  # stops playback first
            self._hold_direction = direction
            self._hold.start()
        elif direction > 0:
            self.playback.shuttle_forward()
        else:
            self.playback.shuttle_backward()

    # --- releases ---------------------------------------------------------------------------
    def _held_long(self) -> None:
        key = "L" if self._hold_direction > 0 else "J"
        if "K" in self.held and key in self.held:
            self._slow = self._hold_direction
            self.playback.shuttle_slow(self._hold_direction)

    def release(self, key: str) -> None:
        self.held.discard(key)
        if key in ("J", "L"):
            direction = 1 if key == "L" else -1
            if self._hold_direction == direction:
                self._hold.stop()
                self._hold_direction = 0
            if self._slow == direction:
                self._slow = 0
                self.playback.stop()

    def forget(self) -> None:
        for key in list(self.held):
            self.release(key)
        self._hold.stop()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        kind = ev.type()
        if kind == QEvent.Type.KeyRelease and not ev.isAutoRepeat():
            key = _KEYS.get(ev.key())
            if key is not None and key in self.held:
                self.release(key)
        elif kind == QEvent.Type.ApplicationDeactivate and self.held:
            self.forget()
        return False

    def close(self) -> None:
        self._hold.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
