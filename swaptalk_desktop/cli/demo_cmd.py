"""``swaptalk demo``: build a sample clip, photo and dialogue, then dub a range of the clip.

Everything is generated from material installed packages ship (public-domain stills in
scikit-image and matplotlib), so it runs on a fresh machine without any user media.
"""

from __future__ import annotations

from pathlib import Path


def add_demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="make sample inputs and render a face swap + new dialogue")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("swaptalk-demo"),
                   help="folder for the sample inputs and the result (default ./swaptalk-demo)")
    p.add_argument("--model-set", default=None, help="model set id (default: the default set)")
    p.add_argument("--provider", default="auto", choices=["auto", "cuda", "cpu"])
    p.add_argument("--json-progress", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=run_demo)


def run_demo(args, display) -> int:
    from ..engine import EngineContext, RangeJob, RunOptions, render_range
    from ..eval.demo_assets import make_demo_inputs
    folder = args.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    display.message(f"making sample inputs in {folder}/ ...")
    inputs = make_demo_inputs(folder)
    ctx = EngineContext()
    chosen = ctx.registry.get_set(args.model_set)
    display.message(f"model set: {chosen.id} ({chosen.description})")
    job = RangeJob(video=inputs.clip, start=inputs.start, stop=inputs.stop, face=inputs.photo,
                   audio=inputs.dialogue,
                   run=RunOptions(model_set=chosen.id, provider=args.provider))
    out = folder / "demo_result.mp4"
    result = render_range(job, out, ctx=ctx, overwrite=True, progress=display.progress)
    display.done({"output": str(out), "sidecar": str(result.sidecar),
                  "model_set": chosen.id, "provider": result.provider,
                  "seconds": result.seconds},
                 f"wrote {out}: frames {job.start}-{job.stop - 1} of {inputs.clip.name} now show "
                 f"{inputs.photo.name} saying {inputs.dialogue.name} (model set {chosen.id}, "
                 f"{result.provider}, {result.seconds:.1f} s)")
    return 0
