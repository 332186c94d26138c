"""Scrub latency in the real editor (``swaptalk bench scrub``): how long after the playhead
moves the viewer shows that frame's picture, inside a processed edit (the chunks cached), inside
edits not processed yet, and outside any edit. The material, the plan of moves and the report
are made here; the window is driven by the caller's ``measure`` (ui/bench_scrub.py), so this
module stays Qt-free.

The take is a generated talking head (10 s, 1280x720 by default) with three edits:

- ``processed``: face swap with a photo + lip sync to a new line, processed before scrubbing;
- ``not processed, swap + sync``: the same settings, never processed: with a lips stage the
  mouth is picked for the whole range at once, so the viewer shows the source picture with a
  "Process Range to see this frame" note (no live preview of one frame);
- ``not processed, swap only``: photo only, never processed: the viewer computes the frame live
  (tracking that frame, generating the face, pasting it back);
- ``outside``: frames in no edit, where the viewer shows the source.

The playhead visits ``moves`` frames of each case, chosen at random (seeded) and interleaved
the way a user jumps about; one move per case first warms up and is not counted.
"""

from __future__ import annotations

import json
import os
import platform
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from .synthetic_clip import public_domain_face, write_moving_face_clip

Measure = Callable[..., dict]
"""(clip, photo, dialogue, edits, moves, *, model_set, models_dirs, cache_dir, warmup,
timeout_s) -> {"setup": {...}, "moves": [one row per move]} (ui/bench_scrub.py)."""

FPS = 25
CASES = ("processed", "not processed, swap + sync", "not processed, swap only", "outside")
# each edit's span as fractions of the take; "outside" is every frame in none of them
SPANS = {"processed": (0.06, 0.36, True, True, True),
         "not processed, swap + sync": (0.42, 0.72, True, True, False),
         "not processed, swap only": (0.78, 0.96, True, False, False)}
"""case: (start, stop, photo, dialogue, process)."""


def plan(frames: int, moves: int, seed: int = 0) -> tuple[list[dict], list, list]:
    """(the edits, the counted moves in visiting order, one warm-up move per case)."""
    edits = []
    for case, (a, b, photo, line, process) in SPANS.items():
        edits.append({"case": case, "start": int(a * frames), "stop": int(b * frames),
                      "photo": photo, "dialogue": line, "process": process})
    inside = {f for e in edits for f in range(e["start"], e["stop"])}
    pools = {e["case"]: list(range(e["start"], e["stop"])) for e in edits}
    pools["outside"] = [f for f in range(frames) if f not in inside]
    rng = random.Random(seed)
    warmup, counted = [], []
    for case in CASES:
        picks = rng.sample(pools[case], min(len(pools[case]), moves + 1))
        warmup.append((case, picks[0]))
        counted += [(case, f) for f in picks[1:]]
    rng.shuffle(counted)
    return edits, counted, warmup


def with_gops(src: Path, dst: Path, gop: int) -> Path:
    """``src`` with its picture re-encoded in closed GOPs of ``gop`` frames (x264 veryfast,
    CRF 18, the colour tags kept) and its sound copied. A generated take is otherwise one GOP
    (x264's keyint 250), and a frame there decodes from frame 0, which camera files never ask."""
    import av
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        ain = inp.streams.audio[0] if inp.streams.audio else None
        vout = out.add_stream("libx264", rate=vin.average_rate)
        c, cin = vout.codec_context, vin.codec_context
        c.width, c.height, c.pix_fmt = cin.width, cin.height, "yuv420p"
        c.time_base = vout.time_base = vin.time_base
        c.color_range, c.colorspace = cin.color_range, cin.colorspace
        c.color_primaries, c.color_trc = cin.color_primaries, cin.color_trc
        c.options = {"preset": "veryfast", "crf": "18",
                     "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"}
        aout = out.add_stream_from_template(ain) if ain is not None else None
        streams = [vin] + ([ain] if ain is not None else [])
        for packet in inp.demux(*streams):
            if packet.stream is vin:
                for frame in packet.decode():
                    out.mux(vout.encode(frame))
            elif packet.dts is not None:
                packet.stream = aout
                out.mux(packet)
        out.mux(vout.encode(None))
    return dst


def _write_dialogue(path: Path, seconds: float) -> None:
    import numpy as np
    import soundfile as sf
    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    envelope = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)
    sf.write(path, 0.3 * envelope * np.sin(2 * np.pi * 180 * t), rate)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)  # linear between the two nearest ranks
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 1)


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    for case in CASES:
        mine = [r for r in rows if r["case"] == case]
        if not mine:
            continue
        shown = [r["shown_ms"] for r in mine if r["shown_ms"] is not None]
        painted = [r["painted_ms"] for r in mine if r["painted_ms"] is not None]
        source = [r["source_ms"] for r in mine if r["source_ms"] is not None]
        notes = sorted({r["note"] for r in mine if r["note"]})
        changed = [r["picture_changed"] for r in mine if r["picture_changed"] is not None]
        out.append({"case": case, "moves": len(mine),
                    "shown": sum(1 for r in mine if r["shown"]),
                    "shown_ms_p50": _pct(shown, 0.5), "shown_ms_p95": _pct(shown, 0.95),
                    "shown_ms_max": max(shown, default=None),
                    "painted_ms_p50": _pct(painted, 0.5), "painted_ms_p95": _pct(painted, 0.95),
                    "painted_ms_max": max(painted, default=None),
                    "source_ms_p50": _pct(source, 0.5),
                    "max_stall_ms": max(r["max_stall_ms"] for r in mine),
                    "picture_changed": (f"{sum(changed)}/{len(changed)}" if changed
                                        else None),
                    "user_sees": notes})
    return out


def run(out_json: Path, measure: Measure, *, seconds: float = 10.0, height: int = 720,
        moves: int = 40, seed: int = 0, gop: int = 2 * FPS, model_set: str | None = None,
        models_dirs: tuple[Path, ...] = ()) -> dict:
    width = height * 16 // 9 // 2 * 2
    frames = int(round(seconds * FPS))
    edits, counted, warmup = plan(frames, moves, seed)
    with tempfile.TemporaryDirectory(prefix="swaptalk-bench-scrub-") as tmp:
        tmp = Path(tmp)
        import cv2
        one_gop = write_moving_face_clip(tmp / "one_gop.mp4", n=frames, width=width,
                                         height=height, fps=FPS, talking=True, tone=False)
        clip = one_gop if gop >= frames else with_gops(one_gop, tmp / "take.mp4", gop)
        photo = tmp / "face.png"
        cv2.imwrite(str(photo), cv2.flip(public_domain_face()[..., ::-1], 1))
        dialogue = tmp / "line.wav"
        shortest = min(e["stop"] - e["start"] for e in edits if e["dialogue"])
        _write_dialogue(dialogue, shortest / FPS)  # fits each range it is given to
        saved = {k: os.environ.get(k) for k in ("SWAPTALK_CACHE_DIR",)}
        os.environ["SWAPTALK_CACHE_DIR"] = str(tmp / "cache")  # the job host's too
        try:
            measured = measure(clip, photo, dialogue, edits, counted, model_set=model_set,
                               models_dirs=tuple(models_dirs), cache_dir=tmp / "cache",
                               warmup=warmup, timeout_s=60.0)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    rows = measured["moves"]
    setup = measured["setup"]
    result = {"benchmark": "scrub latency in the editor window (offscreen Qt): playhead "
                           "moved as a timeline drag moves it -> that frame's picture shown",
              "clip": f"{seconds:g} s {width}x{height} H.264 talking head, {FPS} fps, "
                      f"{frames} frames, closed GOPs of {min(gop, frames)} frames",
              "edits": edits, "moves_per_case": moves, "seed": seed,
              "setup": {k: round(v, 2) if isinstance(v, float) else v
                        for k, v in setup.items()},
              "cases": summarise(rows),
              "max_stall_ms": max((r["max_stall_ms"] for r in rows), default=0.0),
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version(),
                          "load_average": _load()},
              "moves": rows}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2))
    return result


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def table(result: dict) -> str:
    cols = ["case", "moves", "shown", "shown_ms_p50", "shown_ms_p95", "shown_ms_max",
            "painted_ms_p50", "painted_ms_p95", "painted_ms_max", "source_ms_p50",
            "max_stall_ms", "picture_changed"]
    lines = [" | ".join(cols), " | ".join("---" for _ in cols)]
    for c in result["cases"]:
        lines.append(" | ".join(str(c.get(k)) for k in cols))
    lines.append("")
    for c in result["cases"]:
        lines.append(f"{c['case']}: the viewer says " +
                     "; ".join(f'"{n}"' for n in c["user_sees"]))
    s = result["setup"]
    lines.append(f"\nclip {result['clip']}; opened in {s.get('open_s')} s, the processed "
                 f"edit processed in {s.get('process_s')} s ({s.get('model_set')}, "
                 f"{s.get('provider')}); the GUI thread's longest stall "
                 f"{result['max_stall_ms']} ms; ms from the playhead move (shown: the viewer "
                 "handed the picture; painted: its canvas painted it)")
    return "\n".join(lines)
