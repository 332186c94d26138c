"""The Qt half of ``swaptalk bench timeline`` (the rest, Qt-free, is eval/bench_timeline.py):
the real TimelineWidget, offscreen, from asking for the cached peaks to the waveform lane
holding its envelope; then for every zoom and pan step, the GUI thread's own cost (the range
change + one paint of the widget) and the time until the fetched envelope is on screen, while
a 5 ms timer records the longest stall of the event loop.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ZOOMS = (2.0, 2.0, 4.0, 4.0, 8.0, 8.0, 0.5, 0.25, 0.125, 0.0625)


def measure(audio: Path, peaks_dir: Path, frames: int, fps: int) -> tuple[float, list[dict]]:
    """(seconds until the waveform was shown, one row per zoom or pan step)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from ..media.waveform import load_or_build_waveform
    from .timeline import TimelineWidget

    app = QApplication.instance() or QApplication([])
    widget = TimelineWidget()
    widget.resize(1600, 360)
    widget.show()
    widget.set_clip(frames, fps, None, None, None)
    arrived: list[float] = []
    item = widget._audio_item
    original = item.set_envelope

    def record(envelope):
        original(envelope)
        arrived.append(time.perf_counter())
    item.set_envelope = record

    stalls: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        stalls.append(now - last[0] - 5)
        last[0] = now
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()

    def wait_envelope(count: int, limit_s: float = 10.0) -> None:
        end = time.perf_counter() + limit_s
        while len(arrived) < count and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    t0 = time.perf_counter()
    pyramid = load_or_build_waveform(audio, cache_dir=peaks_dir)
    widget.set_waveform(pyramid)
    wait_envelope(1)
    shown_s = arrived[-1] - t0 if arrived else float("nan")

    rows = []
    for kind, steps in (("zoom", ZOOMS), ("pan", (0.3,) * 10)):
        for step in steps:
            before = len(arrived)
            stalls.clear()
            t0 = time.perf_counter()
            if kind == "zoom":
                widget.zoom_by(step)
            else:
                x0, x1 = widget.visible_range()
                widget._show_range(x0 + step * (x1 - x0), x1 + step * (x1 - x0))
            widget.grab()  # one full paint of the widget, on the GUI thread
            gui_s = time.perf_counter() - t0
            wait_envelope(before + 1)
            x0, x1 = widget.visible_range()
            rows.append({"action": kind, "step": step, "visible_s": round((x1 - x0) / fps, 2),
                         "gui_ms": round(gui_s * 1000, 1),
                         "envelope_ms": round((arrived[-1] - t0) * 1000, 1)
                         if len(arrived) > before else None,
                         "max_stall_ms": round(max(stalls, default=0.0), 1)})
    timer.stop()
    widget.shutdown()
    widget.close()
    return shown_s, rows
