"""``swaptalk bench``: speed measurements that print a table and save JSON (never tests)."""

from __future__ import annotations

from pathlib import Path


def add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure throughput (prints a table, saves JSON)")
    p.add_argument("what", choices=["render", "waveform", "timeline"],
                   help="render: the range renderer on a 720p clip; waveform: peak pyramid "
                   "build, cached load and zoom/pan redraws of a long 48 kHz track; timeline: "
                   "the editor's timeline drawing that track (offscreen Qt)")
    p.add_argument("--frames", type=int, default=75,
                   help="render: frames in the clip (default 75)")
    p.add_argument("--minutes", type=float, default=60.0,
                   help="waveform: length of the generated track (default 60)")
    p.add_argument("--format", choices=["flac", "wav"], default="flac",
                   help="waveform: file format of the generated track (default flac)")
    p.add_argument("--json", type=Path, default=None,
                   help="where to save the results (default ./bench_<what>.json)")
    p.set_defaults(run=run_bench)


def run_bench(args, display) -> int:
    out = args.json or Path(f"bench_{args.what}.json")
    if args.what == "timeline":
        from ..ui import bench_timeline
        display.message(f"benchmark: timeline with a {args.minutes:g}-minute 48 kHz track...")
        result = bench_timeline.run(out, minutes=args.minutes)
        print(bench_timeline.table(result))
    elif args.what == "waveform":
        from ..eval import bench_waveform
        display.message(f"benchmark: waveform of a {args.minutes:g}-minute 48 kHz stereo "
                        f"{args.format.upper()} file (generating it first)...")
        result = bench_waveform.run(out, minutes=args.minutes, fmt=args.format)
        print(bench_waveform.table(result))
    else:
        from ..eval import bench_render
        display.message(f"benchmark: range renderer on a 1280x720 clip of {args.frames} "
                        "frames...")
        result = bench_render.run(out, frames=args.frames)
        print(bench_render.table(result))
    display.message(f"saved {out}")
    return 0
