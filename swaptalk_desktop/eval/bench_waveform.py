"""Waveform pyramid speed on a long track: first build, cached load, and window() redraws.

The acceptance target: a 60-minute 48 kHz file shows its whole waveform within 2 s of being
imported again (cached load + one full-width window), and zoom/pan redraws never block the GUI
thread (window() in well under a frame's time at every zoom).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ZOOM_SPANS_S = (None, 600.0, 60.0, 10.0, 1.0)
"""Visible spans measured: the whole track, 10 min, 1 min, 10 s, 1 s."""


def run(out_json: Path, minutes: float = 60.0, rate: int = 48_000, fmt: str = "flac",
        pixels: int = 1500, pans: int = 200) -> dict:
    from ..media.waveform import load_or_build_waveform

    with tempfile.TemporaryDirectory(prefix="swaptalk-bench-wf-") as tmp:
        tmp = Path(tmp)
        audio = tmp / f"long.{fmt}"
        t0 = time.perf_counter()
        seconds = write_long_track(audio, minutes * 60, rate)
        generate_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        pyramid = load_or_build_waveform(audio, cache_dir=tmp / "peaks")
        first_build_s = time.perf_counter() - t0

        loads, shown = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            cached = load_or_build_waveform(audio, cache_dir=tmp / "peaks")
            loads.append(time.perf_counter() - t0)
            cached.window(0.0, cached.duration_s, pixels)
            shown.append(time.perf_counter() - t0)
        cache_mb = sum(f.stat().st_size for f in (tmp / "peaks").iterdir()) / 2**20

        # Memory is measured on a second, separate build: tracing slows allocation a little.
        tracemalloc.start()
        load_or_build_waveform(audio, cache_dir=tmp / "peaks-traced")
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        file_mb = audio.stat().st_size / 2**20

    rng = np.random.default_rng(0)
    rows = []
    for span in ZOOM_SPANS_S:
        span = pyramid.duration_s if span is None else min(span, pyramid.duration_s)
        starts = rng.uniform(0.0, max(pyramid.duration_s - span, 0.0), pans)
        times_ms, count = [], 0
        for start in starts:
            t0 = time.perf_counter()
            t, _, _ = pyramid.window(start, start + span, pixels)
            times_ms.append((time.perf_counter() - t0) * 1000)
            count = max(count, len(t))
        level = pyramid.level_for(0.0, span, pixels)
        rows.append({"span_s": round(span, 3), "pixels": pixels, "level": level,
                     "samples_per_peak": pyramid.samples_per_peak(level), "peaks": count,
                     "median_ms": round(statistics.median(times_ms), 4),
                     "max_ms": round(max(times_ms), 4)})
    result = {
        "benchmark": "waveform peak pyramid",
        "audio": {"seconds": round(seconds, 3), "rate": rate, "channels": 2, "format": fmt,
                  "file_mb": round(file_mb, 1)},
        "generate_s": round(generate_s, 2),
        "first_build_s": round(first_build_s, 3),
        "first_build_peak_traced_mb": round(peak_mb, 1),
        "cached_load_s": round(statistics.median(loads), 4),
        "cached_load_max_s": round(max(loads), 4),
        "cached_load_plus_full_window_s": round(statistics.median(shown), 4),
        "cache_mb": round(cache_mb, 2),
        "levels": pyramid.levels,
        "window": rows,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
    }
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2))
    return result


def write_long_track(path: Path, seconds: float, rate: int) -> float:
    """Speech-like stereo (noise bursts with a slow swell), written a minute at a time."""
    import soundfile as sf
    n = int(round(seconds * rate))
    block = 60 * rate
    rng = np.random.default_rng(0)
    fmt = "FLAC" if path.suffix.lower() == ".flac" else "WAV"
    with sf.SoundFile(str(path), "w", rate, 2, subtype="PCM_16", format=fmt) as fh:
        for start in range(0, n, block):
            t = np.arange(start, min(start + block, n)) / rate
            envelope = (np.sin(2 * np.pi * 3 * t) > 0) * (0.5 + 0.4 * np.sin(2 * np.pi * t / 97))
            left = (0.3 * envelope * rng.standard_normal(len(t))).astype(np.float32)
            fh.write(np.stack([left, 0.7 * left], axis=1))
    return n / rate


def table(result: dict) -> str:
    audio = result["audio"]
    lines = [
        f"audio: {audio['seconds'] / 60:.1f} min, {audio['rate']} Hz stereo {audio['format']} "
        f"({audio['file_mb']} MiB)",
        "step | seconds",
        "--- | ---",
        f"first build (decode + peaks + cache write) | {result['first_build_s']}",
        f"cached load | {result['cached_load_s']}",
        f"cached load + full-width window | {result['cached_load_plus_full_window_s']}",
        "",
        "visible span s | pixels | samples/peak | peaks returned | median ms | max ms",
        "--- | --- | --- | --- | --- | ---",
    ]
    for r in result["window"]:
        lines.append(f"{r['span_s']} | {r['pixels']} | {r['samples_per_peak']} | {r['peaks']} | "
                     f"{r['median_ms']} | {r['max_ms']}")
    return "\n".join(lines)
