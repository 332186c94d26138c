"""Throughput of the range renderer on CPU: a 720p clip through tiny test graphs, then
through the shipped default model set.

The test graphs cost almost nothing, so their rows measure the engine itself (decode,
tracking, alignment, paste-back, encode); the shipped set's row adds the real models' cost.
Variants run in one process, one after the other, and are reported as ratios to the first,
because this machine is shared and noisy.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

SHIPPED = "shipped"  # stands for the default set of models/ (the shipped weights)


def run(out_json: Path, frames: int = 75, width: int = 1280, height: int = 720,
        variants: tuple[tuple[str, dict], ...] | None = None) -> dict:
    from ..engine import EngineContext, RangeJob, RunOptions, render_range
    from ..inference import ModelRegistry
    from ..media import EncodeSettings
    from .synthetic_clip import public_domain_face, write_moving_face_clip
    from .synthetic_models import build_synthetic_set

    variants = variants or (
        ("batch 8, crf 18 medium", {"batch": 8, "preset": "medium"}),
        ("batch 1, crf 18 medium", {"batch": 1, "preset": "medium"}),
        ("batch 8, crf 18 veryfast", {"batch": 8, "preset": "veryfast"}),
        ("shipped set, batch 8, crf 18 medium", {"batch": 8, "preset": "medium",
                                                 "model_set": SHIPPED}),
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="swaptalk-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["SWAPTALK_CACHE_DIR"] = str(tmp / "cache")
        clip = write_moving_face_clip(tmp / "clip720.mp4", n=frames, width=width, height=height)
        build_synthetic_set(tmp / "models", swap_mode="source", sync_mode="mel")
        import cv2
        face = tmp / "face.png"
        cv2.imwrite(str(face), cv2.flip(public_domain_face()[..., ::-1], 1))
        registry = ModelRegistry(extra_dirs=[tmp / "models"], include_user=False)
        shipped = ModelRegistry(include_user=False).default_set_id()
        sets = {"synthetic": "synthetic", SHIPPED: shipped}
        variants = tuple((n, v) for n, v in variants
                         if sets.get(v.get("model_set", "synthetic")) is not None)
        ctx = EngineContext(registry)
        audio = tmp / "dialogue.wav"
        _write_dialogue(audio, seconds=frames / 25)
        # Warm-up (model sessions, face detector graphs, x264 start) is not part of throughput.
        logging.getLogger("swaptalk_desktop").disabled = True
        try:
            for model_set in sorted({sets[v.get("model_set", "synthetic")] for _, v in variants}):
                render_range(RangeJob(video=clip, start=0, stop=min(frames, 10), face=face,
                                      audio=audio, run=RunOptions(model_set=model_set)),
                             tmp / "warmup.mp4", ctx=ctx, overwrite=True,
                             encode=EncodeSettings(preset="ultrafast"))
        finally:
            logging.getLogger("swaptalk_desktop").disabled = False
        for name, v in variants:
            job = RangeJob(video=clip, start=0, stop=frames, face=face, audio=audio,
                           run=RunOptions(batch_size=v["batch"],
                                          model_set=sets[v.get("model_set", "synthetic")]))
            out = tmp / f"out_{len(rows)}.mp4"
            t0 = time.perf_counter()
            res = render_range(job, out, ctx=ctx,
                               encode=EncodeSettings(crf=18, preset=v["preset"]))
            wall = time.perf_counter() - t0
            stages = res.stage_seconds
            rows.append({"variant": name, "model_set": job.run.model_set, "frames": frames,
                         "wall_s": round(wall, 2), "fps": round(frames / wall, 2),
                         **{f"{k}_fps": round(frames / s, 1) if s > 0 else None
                            for k, s in stages.items() if k != "prepare"},
                         "prepare_s": stages.get("prepare")})
            import shutil
            shutil.rmtree(tmp / "cache", ignore_errors=True)
    base = rows[0]["wall_s"]
    for r in rows:
        r["time_ratio_vs_first"] = round(r["wall_s"] / base, 3)
    result = {"benchmark": "range renderer, CPU, test graphs and the shipped set",
              "clip": f"{width}x{height}, {frames} frames, 25 fps, H.264 source",
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "rows": rows}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2))
    return result


def _write_dialogue(path: Path, seconds: float) -> None:
    import numpy as np
    import soundfile as sf
    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    envelope = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)  # syllable-like bursts
    sf.write(path, 0.3 * envelope * np.sin(2 * np.pi * 180 * t), rate)


def table(result: dict) -> str:
    cols = ["variant", "wall_s", "fps", "track_fps", "render_fps", "write_fps",
            "time_ratio_vs_first"]
    lines = [" | ".join(cols), " | ".join("---" for _ in cols)]
    for r in result["rows"]:
        lines.append(" | ".join(str(r.get(c)) for c in cols))
    return "\n".join(lines)
