"""``swaptalk adapt``: fine-tune a model set on one actor's clip, outside the edited ranges.

``--estimate`` says how long it would take on this machine without training, and works
without the training extras (it reads the base set's configuration from its weights' header).
SIGINT and SIGTERM stop after the current step with the checkpoint saved (exit code 130); the
same command then resumes. The editor runs this command in a child process of its processing
host (``engine/adapt_job.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from ..core.cancel import CancelToken
from ..core.errors import InputError
from ..engine.adapt_plan import (
    DEFAULT_STEPS,
    MEASURED_ON,
    PHASE_TEXT,
    PHASES,
    clock,
    estimate,
    footage_clock,
    plan_footage,
    train_weights_file,
    weights_config_name,
)
from ..training.options import AdaptOptions
from .render_cmd import POSITION_HELP
from .train_cmd import _common_output, _progress, require_training_extras

STOP_WITH_PARENT_ENV = "SWAPTALK_STOP_WITH_PARENT"
"""Set by the editor's processing host: stop (as on SIGTERM) when the host dies."""


def add_adapt_parser(sub) -> None:
    p = sub.add_parser("adapt", help="fine-tune a model set on one actor's clip (per-actor "
                       "adaptation)",
                       description="Fine-tune the decoder and the lip sync of a model set on a "
                       "clip of one actor, leaving out the --exclude ranges (the edits being "
                       "replaced), and install the result as a new set. Rerunning the same "
                       "command resumes from the checkpoints in its work folder.")
    p.add_argument("--video", type=Path, required=True, help="a clip of the actor speaking")
    p.add_argument("--exclude", action="append", default=[], metavar="START:END",
                   help="frames [START, END) never to train on, e.g. an edit's range "
                   f"(repeatable); START and END: {POSITION_HELP}; use START..END for "
                   "timecodes")
    p.add_argument("--minutes", type=float, default=3.0,
                   help="use this many minutes of footage outside the excluded ranges, from the "
                   "start of the clip (0 = all of it; default 3)")
    p.add_argument("--steps", type=int, help="steps of each fine-tune (decoder, sync); default "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items()))
    p.add_argument("--base-set", help="model set to adapt (default: the default set)")
    p.add_argument("--set-id", help="id of the adapted set (default: BASE-CLIPNAME)")
    p.add_argument("--runs", type=Path, help="adapt training runs instead of an installed set")
    p.add_argument("--work", type=Path, help="folder for the prepared clip and the runs "
                   "(default: the user cache)")
    p.add_argument("--estimate", action="store_true",
                   help="print the expected time on this machine and stop (no training)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--batch", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--fp16", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--models-dir", type=Path, action="append", default=[],
                   help="extra folder with a models manifest.json (repeatable)")
    _common_output(p)
    p.set_defaults(run=run_adapt)


@contextlib.contextmanager
def _stop_on_signals(display) -> Iterator[CancelToken]:
    """Ctrl-C (SIGINT) and SIGTERM (the editor's Cancel, a parent that died) stop after the
    current step; a second Ctrl-C stops at once. SIGTERM never does: the editor's host may send
    one on cancel and the kernel another when the host dies, and the checkpoint must be saved."""
    cancel = CancelToken()

    def on_signal(signum, frame):
        if cancel.cancelled:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        cancel.cancel()
        display.message("stopping after the current step; the checkpoint is kept and the "
                        "same command resumes from it")

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    except ValueError:  # not the main thread (embedded use): no handlers
        pass
    try:
        yield cancel
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_with_parent() -> None:
    """Linux: get SIGTERM when the processing host dies (it is SIGKILLed with the editor), so a
    crash of the editor leaves a checkpoint to resume rather than an orphan that trains on."""
    parent = int(os.environ.get(STOP_WITH_PARENT_ENV, "0") or 0)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the host died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _base_config(args) -> tuple[str, str]:
    """(base id, config name) without torch."""
    if args.runs:
        import json
        state = Path(args.runs) / "vqgan" / "state.json"
        try:
            name = json.loads(state.read_text("utf-8")).get("config_name")
        except (OSError, ValueError):
            name = None
        if not name:
            raise InputError(f"{args.runs} has no vqgan run (RUNS/vqgan/state.json)")
        return Path(args.runs).name, name
    from ..inference import ModelRegistry
    model_set = ModelRegistry(extra_dirs=args.models_dir).get_set(args.base_set)
    weights = train_weights_file(model_set)
    name = weights_config_name(weights) if weights.is_file() else None
    if name is None:
        raise InputError(f"model set '{model_set.id}' has no training weights ({weights.name} "
                         "beside its manifest); adapt a set made by `swaptalk train export`, "
                         "or pass --runs RUNS")
    return model_set.id, name


def estimate_payload(args) -> tuple[dict, str]:
    """The --estimate result as JSON and as the lines a person reads."""
    from ..engine.adapt_plan import parse_range
    from ..media import probe_video
    clip = Path(args.video)
    if not clip.is_file():
        raise InputError(f"{clip} does not exist; give a clip of the actor speaking")
    base_id, config = _base_config(args)
    info = probe_video(clip)
    exclude = [parse_range(t, info.nominal_fps, info.frame_times) for t in args.exclude]
    footage = plan_footage(info.frame_times, info.duration_s, float(info.fps), exclude,
                           args.minutes)
    plan = estimate(config, footage, args.steps, info.width * info.height / 1e6)
    payload = {"video": str(clip), "base_set": base_id, "config": config,
               "frames": footage.frame_count, "usable_frames": footage.usable,
               "usable_s": round(footage.usable_s, 2), "cutoff": footage.cutoff,
               "excluded": [list(r) for r in footage.excluded], "left_out": footage.left_out,
               "steps": args.steps or DEFAULT_STEPS.get(config, 1500),
               "estimate": plan.to_json() if plan else None}
    lines = [f"{clip.name}: {footage_clock(footage.usable_s)} of footage usable "
             f"({footage.usable} frames"
             + (f"; {footage.left_out} frames in or beside {len(footage.excluded)} excluded "
                "range(s) left out" if footage.excluded else "") + ")",
             f"base set {base_id} ({config}), {payload['steps']} steps per fine-tune"]
    if plan is None:
        lines.append(f"no measured speeds for the '{config}' configuration; no estimate")
        return payload, "\n".join(lines)
    lines.append(f"expected time on {MEASURED_ON} (measured speeds): about "
                 f"{clock(plan.total_s)}")
    for phase in PHASES:
        lines.append(f"  {PHASE_TEXT[phase]:<34} {clock(plan.seconds[phase]):>12}   "
                     f"{plan.detail[phase]}")
    per_minute = plan.per_footage_minute_s(float(info.fps))
    fixed = plan.total_s - per_minute * footage.usable_s / 60
    lines.append(f"each minute of footage costs {clock(per_minute)} (preparing, reading and "
                 f"encoding it); the rest, {clock(fixed)}, is the same whatever the length")
    payload["per_footage_minute_s"] = round(per_minute, 1)
    return payload, "\n".join(lines)


def adapt_options(args) -> AdaptOptions:
    return AdaptOptions(video=args.video, exclude=tuple(args.exclude or ()),
                        minutes=args.minutes, steps=args.steps, base_set=args.base_set,
                        set_id=args.set_id, runs=args.runs, work=args.work, device=args.device,
                        batch=args.batch, threads=args.threads, fp16=args.fp16,
                        models_dirs=tuple(args.models_dir or ()))


def run_adapt(args, display) -> int:
    if args.estimate:
        payload, text = estimate_payload(args)
        display.done(payload, text)
        return 0
    require_training_extras()
    _stop_with_parent()
    from ..training.adapt import run_adapt as adapt
    with _stop_on_signals(display) as cancel:
        payload = adapt(adapt_options(args), display.message,
                        _progress(display, args.json_progress), cancel)
    reused = payload["stages_reused"]
    origin = (f"{'/'.join(reused)} reused from {payload['base_set']}" if reused else
              f"other stages exported from {payload['base_set']}")
    lips = payload.get("lips")
    tuned = "decode, sync and lips" if lips else "decode and sync"
    lips_text = ""
    if lips and lips.get("held_back_before"):
        lips_text = (f"; lip-shape error on the held-back seconds "
                     f"{lips['held_back_before']['lmd']:.2f} -> "
                     f"{lips['held_back_after']['lmd']:.2f} px"
                     + ("" if lips.get("kept") else " (not better: the base lips stage kept)"))
    display.done(payload, f"adapted set {payload['set_id']} installed in {payload['out']} "
                 f"({tuned} fine-tuned on {payload['frames']} frames of "
                 f"{Path(args.video).name}; {origin}{lips_text})")
    return 0
