"""Where an export's seconds go, stage by stage: sync only and swap + sync with the shipped
model set, on a 10-second H.264 take (2-second closed GOPs, AAC) with one 3-second edit.

Each case exports from an empty render cache (smart render, CRF 18 preset medium, the export
defaults) after a warm-up that is not counted. Stage times come from the engine's own progress
events and its result; paste-back is timed by wrapping the one function that does it. The
mouth library (sync with the shipped lips stage) tracks the footage around the range once per
edit, the range's own track included; tracking is cached, so a second render of the same edit
(a new line, other settings) costs what the other rows add up to ("fps once tracked").
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CLIP_S = 10
EDIT_START = 100  # frames: the edit covers 4.0-7.0 s, inside GOPs 2-3
EDIT_FRAMES = 75
CASES = (("sync only", False), ("swap + sync", True))


def run(out_json: Path, heights: tuple[int, ...] = (720, 1080),
        clip_s: int = CLIP_S, edit_frames: int = EDIT_FRAMES) -> dict:
    from ..engine import EngineContext, RangeJob, render_range
    from ..inference import ModelRegistry
    from .bench_export import FPS, _repeat, _write_dialogue, _write_loop
    from .synthetic_clip import public_domain_face

    total = clip_s * FPS
    start = min(EDIT_START, max(0, total - edit_frames))
    rows = []
    with tempfile.TemporaryDirectory(prefix="swaptalk-bench-stages-") as tmp:
        tmp = Path(tmp)
        os.environ["SWAPTALK_CACHE_DIR"] = str(tmp / "cache")
        import cv2
        face = tmp / "face.png"
        cv2.imwrite(str(face), cv2.flip(public_domain_face()[..., ::-1], 1))
        dialogue = tmp / "dialogue.wav"
        _write_dialogue(dialogue, seconds=edit_frames / FPS)
        warm_line = tmp / "warmup.wav"
        _write_dialogue(warm_line, seconds=12 / FPS)
        registry = ModelRegistry(include_user=False)
        model_set = registry.default_set_id()
        ctx = EngineContext(registry)
        for height in heights:
            width = height * 16 // 9 // 2 * 2
            loop = _write_loop(tmp / f"loop{height}.mp4", total, width, height)
            clip = tmp / f"take{height}.mp4"
            _repeat(loop, clip, total)
            warm = RangeJob(video=clip, start=0, stop=12, face=face, audio=warm_line)
            _quiet(lambda job=warm: render_range(  # model sessions, detector graphs, x264
                job, tmp / "warmup.mp4", ctx=ctx, overwrite=True))
            for name, swap in CASES:
                shutil.rmtree(tmp / "cache", ignore_errors=True)
                job = RangeJob(video=clip, start=start, stop=start + edit_frames,
                               face=face if swap else None, audio=dialogue)
                rows.append(_measure(job, tmp / f"out_{len(rows)}.mp4", ctx, render_range,
                                     name=name, width=width, height=height,
                                     model_set=model_set))
    result = {"benchmark": "export stages, CPU, the shipped model set",
              "clip": f"{clip_s} s H.264 take, 25 fps, 2 s closed GOPs, AAC; edit frames "
                      f"{start}-{start + edit_frames - 1} (3 s), new dialogue",
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "rows": rows}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2))
    return result


def _measure(job, out: Path, ctx, render_range: Callable, *, name: str, width: int,
             height: int, model_set: str) -> dict:
    from ..engine import render as render_module
    stages: dict[str, list[float]] = {}

    def progress(ev) -> None:
        now = time.perf_counter()
        span = stages.setdefault(ev.stage, [now, now])
        span[1] = now

    pasted = [0.0]
    compose = render_module.compose

    def timed_compose(*args, **kwargs):
        t = time.perf_counter()
        try:
            return compose(*args, **kwargs)
        finally:
            pasted[0] += time.perf_counter() - t

    render_module.compose = timed_compose
    try:
        t0 = time.perf_counter()
        res = _quiet(lambda: render_range(job, out, ctx=ctx, progress=progress))
        wall = time.perf_counter() - t0
    finally:
        render_module.compose = compose
    n = job.stop - job.start
    seconds = dict(res.stage_seconds)
    library = _span(stages.get("track library"))
    parts = {
        "prepare (probe, hashes, models)": seconds.get("prepare", 0.0),
        # the library's pass runs inside the engine's "track" clock and holds the range's
        "track the range": max(0.0, seconds.get("track", 0.0) - library),
        "track the range and the footage around it (mouth library)": library,
        "generate the faces (stages)": seconds.get("render", 0.0),
        "paste back (mask, warp, blend)": pasted[0],
        "decode, convert, encode the edited GOPs, mux": max(
            0.0, seconds.get("write", 0.0) - pasted[0]),
    }
    accounted = sum(parts.values())
    parts["other"] = max(0.0, wall - accounted)
    steady = wall - seconds.get("track", 0.0)
    return {"case": name, "size": f"{width}x{height}", "model_set": model_set,
            "frames": n, "wall_s": round(wall, 2), "fps": round(n / wall, 1),
            "fps_once_tracked": round(n / steady, 1) if steady > 0 else None,
            "frames_reencoded": res.write.get("frames_reencoded"),
            "write_mode": res.write.get("mode"),
            "stages": [{"stage": k, "seconds": round(v, 3), "ms_per_frame": round(1000 * v / n, 1),
                        "share": round(v / wall, 3)} for k, v in parts.items()]}


def _span(span: list[float] | None) -> float:
    return 0.0 if span is None else span[1] - span[0]


def _quiet(fn: Callable):
    logger = logging.getLogger("swaptalk_desktop")
    was = logger.disabled
    logger.disabled = True
    try:
        return fn()
    finally:
        logger.disabled = was


def table(result: dict) -> str:
    lines = []
    for r in result["rows"]:
        lines.append(f"{r['case']}, {r['size']}, {r['frames']} frames: {r['wall_s']} s, "
                     f"{r['fps']} fps ({r['fps_once_tracked']} fps once tracked), "
                     f"{r['write_mode']} write, {r['frames_reencoded']} frames re-encoded")
        lines.append("stage | seconds | ms per frame | share")
        lines.append("--- | --- | --- | ---")
        lines += [f"{s['stage']} | {s['seconds']} | {s['ms_per_frame']} | "
                  f"{100 * s['share']:.0f} %" for s in r["stages"]]
        lines.append("")
    return "\n".join(lines)
