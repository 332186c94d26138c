"""How the timeline handles an hour of audio: time to a drawn waveform, zoom/pan redraws.

Measured on the real TimelineWidget (offscreen): from asking for the cached peaks to the
waveform lane holding its envelope; then for every zoom and pan step, the GUI thread's own
cost (the range change + one paint of the widget) and the time until the fetched envelope is
on screen, while a 5 ms timer records the longest stall of the event loop.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ZOOMS = (2.0, 2.0, 4.0, 4.0, 8.0, 8.0, 0.5, 0.25, 0.125, 0.0625)


def run(out_json: Path, minutes: float = 60.0, fps: int = 25) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from ..eval.bench_waveform import write_long_track
    from ..media.waveform import load_or_build_waveform
    from .timeline import TimelineWidget

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="swaptalk-bench-tl-") as tmp:
        audio = Path(tmp) / "long.flac"
        write_long_track(audio, minutes * 60, 48_000)
        load_or_build_waveform(audio, cache_dir=Path(tmp) / "peaks")  # the first import

        widget = TimelineWidget()
        widget.resize(1600, 360)
        widget.show()
        frames = int(minutes * 60 * fps)
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
        pyramid = load_or_build_waveform(audio, cache_dir=Path(tmp) / "peaks")
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
    gui = [r["gui_ms"] for r in rows]
    env = [r["envelope_ms"] for r in rows if r["envelope_ms"] is not None]
    result = {"benchmark": "timeline waveform, 60-minute 48 kHz track (offscreen Qt)",
              "minutes": minutes, "waveform_shown_s": round(shown_s, 3),
              "gui_ms_median": round(statistics.median(gui), 1), "gui_ms_max": max(gui),
              "envelope_ms_median": round(statistics.median(env), 1) if env else None,
              "max_stall_ms": max(r["max_stall_ms"] for r in rows),
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
              "steps": rows}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2))
    return result


def table(result: dict) -> str:
    lines = ["action | step | visible s | GUI ms (change + paint) | envelope on screen ms | "
             "longest event-loop stall ms", "--- | --- | --- | --- | --- | ---"]
    for r in result["steps"]:
        lines.append(f"{r['action']} | {r['step']} | {r['visible_s']} | {r['gui_ms']} | "
                     f"{r['envelope_ms']} | {r['max_stall_ms']}")
    lines.append(f"\nwaveform shown {result['waveform_shown_s']} s after asking for the cached "
                 f"peaks; GUI median {result['gui_ms_median']} ms, max {result['gui_ms_max']} "
                 f"ms; longest stall {result['max_stall_ms']} ms")
    return "\n".join(lines)
