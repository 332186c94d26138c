"""``swaptalk bench``: speed measurements that print a table and save JSON (never tests)."""

from __future__ import annotations

from pathlib import Path


def add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure throughput (prints a table, saves JSON)")
    p.add_argument("what", choices=["render", "waveform", "timeline", "export", "scrub"],
                   help="render: where an export's seconds go, stage by stage, sync only and "
                   "swap + sync with the shipped set at 720p and 1080p (--variants: the "
                   "engine's own cost through test graphs); waveform: peak pyramid "
                   "build, cached load and zoom/pan redraws of a long 48 kHz track; timeline: "
                   "the editor's timeline drawing that track (offscreen Qt); export: smart "
                   "render vs full encode of a long 1080p take with one 3 s edit, and the "
                   "3 s rendered alone; scrub: playhead move to that frame's picture in the "
                   "editor's viewer, inside a processed edit, edits not processed yet and "
                   "outside them (offscreen Qt)")
    p.add_argument("--frames", type=int, default=75,
                   help="render: frames in the edit (with --variants: in the clip; "
                   "default 75)")
    p.add_argument("--clip-seconds", type=int, default=10,
                   help="render: length of the generated take around the edit; scrub: "
                   "length of the generated take (default 10)")
    p.add_argument("--moves", type=int, default=40,
                   help="scrub: playhead moves per case (default 40)")
    p.add_argument("--seed", type=int, default=0,
                   help="scrub: seed of the frames the playhead visits (default 0)")
    p.add_argument("--gop", type=int, default=50,
                   help="scrub: frames per closed GOP of the generated take (default 50, "
                   "2 s; 250 or more: the whole take one GOP)")
    p.add_argument("--variants", action="store_true",
                   help="render: compare batch sizes and x264 presets through test graphs "
                   "and the shipped set, whole clip re-rendered")
    p.add_argument("--minutes", type=float, default=None,
                   help="waveform: length of the generated track (default 60); export: "
                   "length of the generated take (default 10)")
    p.add_argument("--preset", default="medium",
                   help="export: x264 preset of the exports (default medium)")
    p.add_argument("--no-full", action="store_true",
                   help="export: leave out the full encode of the long take (the long row)")
    p.add_argument("--height", type=int, default=None,
                   help="render, export, scrub: picture height of the generated clip, 16:9 "
                   "(default 720 and 1080 for render, 720 with --variants and for scrub, "
                   "1080 for export)")
    p.add_argument("--format", choices=["flac", "wav"], default="flac",
                   help="waveform: file format of the generated track (default flac)")
    p.add_argument("--json", type=Path, default=None,
                   help="where to save the results (default ./bench_<what>.json)")
    p.set_defaults(run=run_bench)


def run_bench(args, display) -> int:
    out = args.json or Path(f"bench_{args.what}.json")
    if args.what == "export":
        from ..eval import bench_export
        minutes = 10.0 if args.minutes is None else args.minutes
        height = args.height or 1080
        width = height * 16 // 9 // 2 * 2
        display.message(f"benchmark: export of a {minutes:g}-minute {width}x{height} "
                        "take with one 3 s edit, smart render vs full encode (generating it "
                        "first; the full encode takes a while)...")
        result = bench_export.run(out, minutes=minutes, width=width, height=height,
                                  preset=args.preset, full=not args.no_full)
        print(bench_export.table(result))
        display.message(f"saved {out}")
        return 0
    if args.what == "scrub":
        from ..eval import bench_scrub
        from ..ui.bench_scrub import measure  # drives the editor window, like timeline
        height = args.height or 720
        display.message(f"benchmark: scrubbing a {args.clip_seconds} s {height}p take in the "
                        f"editor, {args.moves} moves per case (processing its edit first)...")
        result = bench_scrub.run(out, measure, seconds=args.clip_seconds, height=height,
                                 moves=args.moves, seed=args.seed, gop=args.gop)
        print(bench_scrub.table(result))
        display.message(f"saved {out}")
        return 0
    args.minutes = 60.0 if args.minutes is None else args.minutes
    if args.what == "timeline":
        from ..eval import bench_timeline
        from ..ui.bench_timeline import measure  # drives a widget (so does scrub)
        display.message(f"benchmark: timeline with a {args.minutes:g}-minute 48 kHz track...")
        result = bench_timeline.run(out, measure, minutes=args.minutes)
        print(bench_timeline.table(result))
    elif args.what == "waveform":
        from ..eval import bench_waveform
        display.message(f"benchmark: waveform of a {args.minutes:g}-minute 48 kHz stereo "
                        f"{args.format.upper()} file (generating it first)...")
        result = bench_waveform.run(out, minutes=args.minutes, fmt=args.format)
        print(bench_waveform.table(result))
    elif not args.variants:
        from ..eval import bench_stages
        heights = (args.height,) if args.height else (720, 1080)
        display.message(f"benchmark: export stages at {', '.join(f'{h}p' for h in heights)}, "
                        f"a {args.frames}-frame edit in a {args.clip_seconds} s take, sync "
                        "only and swap + sync with the shipped set...")
        result = bench_stages.run(out, heights=heights, clip_s=args.clip_seconds,
                                  edit_frames=args.frames)
        print(bench_stages.table(result))
    else:
        from ..eval import bench_render
        height = args.height or 720
        width = height * 16 // 9 // 2 * 2
        display.message(f"benchmark: range renderer on a {width}x{height} clip of "
                        f"{args.frames} frames...")
        result = bench_render.run(out, frames=args.frames, width=width, height=height)
        print(bench_render.table(result))
    display.message(f"saved {out}")
    return 0
