"""How the timeline handles an hour of audio: time to a drawn waveform, zoom/pan redraws
(``swaptalk bench timeline``). The material and the report are made here; the widget is driven
by the caller's ``measure`` (ui/bench_timeline.py), so this module stays Qt-free.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..media.waveform import load_or_build_waveform
from .bench_waveform import write_long_track

Measure = Callable[[Path, Path, int, int], tuple[float, list[dict]]]
"""(audio, peaks folder, frames, fps) -> (seconds until shown, one row per step)."""


def run(out_json: Path, measure: Measure, minutes: float = 60.0, fps: int = 25) -> dict:
    with tempfile.TemporaryDirectory(prefix="swaptalk-bench-tl-") as tmp:
        audio = Path(tmp) / "long.flac"
        write_long_track(audio, minutes * 60, 48_000)
        load_or_build_waveform(audio, cache_dir=Path(tmp) / "peaks")  # the first import
        shown_s, rows = measure(audio, Path(tmp) / "peaks", int(minutes * 60 * fps), fps)
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
