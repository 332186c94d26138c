"""Measure what an adaptation costs on this machine: the rows of ``COSTS`` in
``swaptalk_desktop/engine/adapt_plan.py`` (preparation frames/s, decoder and sync steps/s,
encoding frames/s, the fixed start-up + export time). Two clips of different sizes give the
table's per-frame and per-megapixel preparation costs.

Usage: .venv/bin/python scripts/measure_adapt.py CLIP [--base-set ID] [--steps N]
       [--minutes M] [--threads T] [--work DIR]

Runs ``swaptalk adapt --json-progress`` once in a fresh work folder and times each phase from
its progress events' timestamps (so the phases' own counts, not their start-up, give the
speeds); everything else (imports, loading the base weights, the ONNX export and its parity
check, installing) is the fixed time. The adapted set it installs is removed afterwards. Any
clip of a person speaking will do (nothing of it is kept); the speeds depend on the footage's
resolution (decoding and face tracking) and on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = {"train vqgan": "decoder_steps_per_s", "encode": "encode_fps",
          "train sync": "sync_steps_per_s"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip", type=Path)
    p.add_argument("--base-set", default=None)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--minutes", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="measure-adapt-"))
    set_id = "measure-adapt"
    cmd = [sys.executable, "-m", "swaptalk_desktop", "adapt", "--video", str(args.clip),
           "--steps", str(args.steps), "--minutes", str(args.minutes), "--threads",
           str(args.threads), "--set-id", set_id, "--work", str(work), "--json-progress"]
    if args.base_set:
        cmd += ["--base-set", args.base_set]
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    events = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    if out.returncode != 0 or not events or events[-1]["event"] != "done":
        print(out.stderr[-2000:], events[-3:], file=sys.stderr)
        return 1
    done = events[-1]
    spans: dict[str, list[dict]] = {}
    for e in events:
        if e["event"] == "progress":
            key = e["stage"] if e["stage"] in PHASES or e["stage"] == "export" else "prepare"
            spans.setdefault(key, []).append(e)
    row: dict[str, float] = {}
    timed = 0.0
    prep = spans.get("prepare", [])
    prep_frames = max((e["total"] for e in prep if e["stage"] != "dataset"), default=0)
    # prepare: from the first tracking event to the dataset's completion (tracking, aligning,
    # encoding the crops, the mel)
    prep_s = prep[-1]["time"] - prep[0]["time"] if len(prep) > 1 else 0.0
    row["prepare_fps"] = prep_frames / prep_s if prep_s > 0 else 0.0
    timed += prep_s
    for stage, key in PHASES.items():
        evs = spans.get(stage, [])
        if len(evs) < 2:
            row[key] = 0.0
            continue
        seconds = evs[-1]["time"] - evs[0]["time"]
        row[key] = (evs[-1]["done"] - evs[0]["done"]) / seconds if seconds > 0 else 0.0
        # the first event comes after the stage's set-up; count the set-up as fixed time
        timed += seconds
    row["fixed_s"] = wall - timed
    # steady speeds from the runs' own logs (every quarter of --steps; the first interval
    # also reads every crop once into the decoder's cache, which is per-frame work)
    for stage, key in (("vqgan", "decoder_steps_per_s"), ("sync", "sync_steps_per_s")):
        rates = [json.loads(x).get("steps_per_s") for x in
                 (work / stage / "log.jsonl").read_text().splitlines()]
        rates = [r for r in rates if r]
        if len(rates) > 1:
            steady = sorted(rates[1:])[len(rates[1:]) // 2]
            evs = spans["train vqgan" if stage == "vqgan" else "train sync"]
            extra = (evs[-1]["time"] - evs[0]["time"]) - (evs[-1]["done"] - evs[0]["done"]) / steady
            row[key] = steady
            if stage == "vqgan":
                row["crop_load_fps"] = done["frames"] / extra if extra > 0 else 0.0
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    from swaptalk_desktop.media import probe_video
    info = probe_video(args.clip)
    row["source_megapixels"] = info.width * info.height / 1e6
    print(json.dumps({"config": done.get("config"), "clip": args.clip.name,
                      "prepared_frames": prep_frames, "steps": done.get("steps"),
                      "threads": args.threads, "cpus": os.cpu_count(),
                      "load_average": [round(x, 2) for x in load], "wall_s": round(wall, 1),
                      "row": {k: round(v, 2) for k, v in row.items()}}, indent=1))
    shutil.rmtree(Path(done["out"]), ignore_errors=True)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
