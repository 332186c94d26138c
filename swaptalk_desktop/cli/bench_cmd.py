"""``swaptalk bench``: speed measurements that print a table and save JSON (never tests)."""

from __future__ import annotations

from pathlib import Path


def add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure throughput (prints a table, saves JSON)")
    p.add_argument("what", choices=["render"], help="render: the range renderer on a 720p clip")
    p.add_argument("--frames", type=int, default=75, help="frames in the clip (default 75)")
    p.add_argument("--json", type=Path, default=Path("bench_render.json"),
                   help="where to save the results (default ./bench_render.json)")
    p.set_defaults(run=run_bench)


def run_bench(args, display) -> int:
    from ..eval import bench_render
    display.message(f"benchmark: range renderer on a 1280x720 clip of {args.frames} frames...")
    result = bench_render.run(args.json, frames=args.frames)
    print(bench_render.table(result))
    display.message(f"saved {args.json}")
    return 0
