"""``swaptalk train prepare|encode|vqgan|identity|expert|sync|swap|export`` (``swaptalk
adapt`` is in adapt_cmd.py).

This module imports nothing from training at import time: the app and its other commands work
without torch, and training commands say how to install it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
from collections.abc import Iterator
from pathlib import Path

from ..core.cancel import CancelToken
from ..core.errors import SwapTalkError
from ..training.options import EncodeOptions, ExportOptions, StageOptions

STAGES = ("vqgan", "identity", "expert", "sync", "swap")
EXTRAS_MESSAGE = "training needs the training extras: bash scripts/setup.sh --dev"


class TrainingExtrasMissing(SwapTalkError):
    """torch / safetensors are not installed (the app alone does not need them)."""


def require_training_extras() -> None:
    # import_module, not an import statement: the layer rule (only training/ imports torch)
    # is checked on import statements, and this is only a presence check
    try:
        for name in ("torch", "safetensors"):
            importlib.import_module(name)
    except ImportError:
        raise TrainingExtrasMissing(EXTRAS_MESSAGE) from None


def _common_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json-progress", action="store_true",
                   help="one JSON object per line on stdout (progress, info, done, error)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _training_options(p: argparse.ArgumentParser, stage: str) -> None:
    p.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    p.add_argument("--run", dest="run_dir", type=Path, required=True,
                   help="run folder (checkpoints, state.json, log.jsonl), e.g. RUNS/" + stage)
    p.add_argument("--config", choices=["tiny", "small", "base"], default=None,
                   help="model size (default: the run's own, else the --vqgan run's, else small)")
    p.add_argument("--steps", type=int, help="total optimizer steps of the run")
    p.add_argument("--batch", type=int, help="samples per process per micro-batch")
    p.add_argument("--accumulate", type=int, default=1,
                   help="micro-batches per optimizer step (gradient accumulation)")
    p.add_argument("--lr", type=float, help="peak learning rate (warm-up, then cosine decay)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed precision (default: on for CUDA, off on CPU)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue from RUN/checkpoint.safetensors when it exists (default)")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints")
    p.add_argument("--validate-every", type=int, help="steps between validations")
    p.add_argument("--log-every", type=int, help="steps between log.jsonl lines")
    p.add_argument("--ema", type=float, default=0.0,
                   help="EMA decay of the weights used for validation and export (0 = off)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--cache-gb", type=float, default=4.0,
                   help="RAM for decoded crops (more than the dataset = decode once)")
    p.add_argument("--stop-after", type=int, help=argparse.SUPPRESS)
    if stage in ("expert", "sync", "swap"):
        p.add_argument("--vqgan", type=Path, required=True, help="the trained VQGAN run")
    if stage in ("swap", "vqgan"):
        p.add_argument("--identity", type=Path,
                       help="the trained identity run (the encoder distilled from dlib)" +
                       (" for an identity loss" if stage == "vqgan" else
                        " instead of the MobileFaceNet teacher"))
        p.add_argument("--identity-teacher", nargs="?", const="", default=None,
                       metavar="PATH",
                       help="MobileFaceNet identity network (mobilefacenet_128d.onnx) for the "
                       "identity loss; without PATH it is found through "
                       "$SWAPTALK_IDENTITY_WEIGHTS or beside the repository" +
                       (" (swap: the default when found and no --identity is given)"
                        if stage == "swap" else ""))
    if stage == "sync":
        p.add_argument("--expert", type=Path, help="the trained expert run (sync loss + score)")
    if stage in ("vqgan", "sync"):
        p.add_argument("--init", type=Path, help="start from these weights: a run folder or an "
                       "exported set's .train.safetensors (fine-tuning; the run's own "
                       "checkpoint still wins when resuming)")
    if stage == "vqgan":
        p.add_argument("--gan", action=argparse.BooleanOptionalAction, default=None,
                       help="patch-GAN loss (default: on for base, off otherwise)")
        p.add_argument("--low-res-weight", type=float, default=0.0,
                       help="chance of a low-resolution photo being drawn, relative to a "
                       "full-resolution frame (default 0: they are not reconstruction targets)")
    _common_output(p)


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="prepare data, train the SwapTalk stages, export a model set")
    tsub = p.add_subparsers(dest="train_command", metavar="STEP", required=True)

    q = tsub.add_parser("prepare", help="a folder of talking-head videos -> a training dataset")
    q.add_argument("--videos", type=Path, action="append", default=[],
                   help="folder of videos (searched recursively) or one video; repeatable")
    q.add_argument("--out", type=Path, required=True, help="dataset folder (created/resumed)")
    q.add_argument("--crop-size", type=int, default=256)
    q.add_argument("--val-fraction", type=float, default=0.25,
                   help="last fraction of every training clip held out for validation")
    q.add_argument("--holdout-identities", type=lambda s: [x for x in s.split(",") if x],
                   default=None, help="identities used only for validation (comma separated)")
    q.add_argument("--holdout-fraction", type=float, default=0.1,
                   help="without --holdout-identities: share of identities held out (>= 5 "
                   "identities)")
    q.add_argument("--identity-map", type=Path, help="CSV of file,identity rows")
    q.add_argument("--identity-regex", help="identity = this regex's first group on the file "
                   "stem, e.g. '^(.*)_[0-9]+$' for HDTF's WDA_Name_000")
    q.add_argument("--stills", type=Path, action="append", default=[],
                   help="folder of portrait photos added as single-frame items")
    q.add_argument("--images", action="append", default=[], metavar="[NAME=]DIR",
                   help="photo collection: identity NAME:<sub-folder> (LFW layout) or "
                   "NAME:<file stem> for photos lying directly in DIR (UTKFace layout); "
                   "NAME defaults to the folder's name; repeatable")
    q.add_argument("--max-images-per-identity", type=int,
                   help="--images: at most N photos of one identity (chosen by name hash)")
    q.add_argument("--max-images", type=int,
                   help="--images: at most N photos from each folder (whole identities, "
                   "chosen by name hash)")
    q.add_argument("--low-res-eye-px", type=float, default=60.0,
                   help="a face with its eye centres fewer source pixels apart is low "
                   "resolution: a photo like that is identity/swap material, not a VQGAN "
                   "target")
    q.add_argument("--min-face-fraction", type=float, default=0.5,
                   help="skip a clip whose face is found in fewer of its frames")
    q.add_argument("--max-seconds", type=float, help="use only the first S seconds of each clip")
    q.add_argument("--crf", type=int, default=12, help="H.264 quality of the stored crops")
    q.add_argument("--workers", type=int, default=1, help="clips prepared in parallel")
    _common_output(q)
    q.set_defaults(run=run_prepare)

    e = tsub.add_parser("encode", aliases=["encode-dataset"],
                        help="encode a dataset with a trained VQGAN (latent cache)")
    e.add_argument("--data", type=Path, required=True)
    e.add_argument("--vqgan", type=Path, required=True)
    e.add_argument("--config", choices=["tiny", "small", "base"], default=None)
    e.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    e.add_argument("--batch", type=int, default=64)
    e.add_argument("--threads", type=int, help="CPU threads for torch")
    e.add_argument("--pack", type=Path, help="also write a data pack here: codes, mel and "
                   "audio times for the expert, sync and swap stages, without pixels (to carry "
                   "to a GPU machine; scripts/gpu_train.sh)")
    _common_output(e)
    e.set_defaults(run=run_encode)

    for stage in STAGES:
        s = tsub.add_parser(stage, help=f"train the {stage} stage")
        _training_options(s, stage)
        s.set_defaults(run=run_train, stage=stage)

    lp = tsub.add_parser("lips", help="train the lips stage (audio -> lip shape) and install a "
                         "set = a base set + it")
    lp.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    lp.add_argument("--run", dest="run_dir", type=Path, required=True,
                    help="run folder (lips.pt, lips.json)")
    lp.add_argument("--steps", type=int, default=1200)
    lp.add_argument("--set-id", help="also export and install this set")
    lp.add_argument("--base-set", default="swaptalk-small-v1",
                    help="the set whose encode/swap/sync/decode the new set uses")
    lp.add_argument("--out", type=Path,
                    help="model folder (default: the user model folder / SET_ID)")
    lp.add_argument("--training-data", default="")
    lp.add_argument("--license", default="research use only (trained on clips without "
                    "consent for redistribution)")
    lp.add_argument("--default", action="store_true", help="make it the default set")
    _common_output(lp)
    lp.set_defaults(run=run_lips)

    x = tsub.add_parser("export", help="export trained runs as an installed model set")
    x.add_argument("--runs", type=Path, required=True,
                   help="folder holding the stage runs (vqgan/, swap/, sync/, ...)")
    x.add_argument("--set-id", required=True)
    x.add_argument("--out", type=Path,
                   help="model folder (default: the user model folder / SET_ID)")
    x.add_argument("--data", type=Path, help="dataset for the parity check on real crops")
    x.add_argument("--fp16", action=argparse.BooleanOptionalAction, default=True,
                   help="also export fp16 variants for CUDA (default)")
    x.add_argument("--description", default="")
    x.add_argument("--license", default="research use only (trained on clips without consent "
                   "for redistribution)")
    x.add_argument("--training-data", default="")
    x.add_argument("--card", type=Path, help="model card (Markdown)")
    x.add_argument("--default", action="store_true", help="make it the default set")
    _common_output(x)
    x.set_defaults(run=run_export)


@contextlib.contextmanager
def _cancel_on_ctrl_c(display) -> Iterator[CancelToken]:
    cancel = CancelToken()

    def on_sigint(signum, frame):
        if cancel.cancelled:  # a second Ctrl-C means "now"
            raise KeyboardInterrupt
        cancel.cancel()
        display.message("stopping after the current step; the checkpoint is kept... "
                        "(Ctrl-C again to abort at once)")

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread (embedded use): no handler
        yield cancel
        return
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def _progress(display, json_mode: bool):
    """Data stages count frames, which the human display shows as a bar; training steps are
    reported by the loop's own lines (steps/s, ETA) instead of a frames-per-second bar."""
    if json_mode:
        return display.progress
    return lambda ev: None if ev.stage.startswith("train ") else display.progress(ev)


def run_prepare(args, display) -> int:
    from ..training.data.clip_prep import PrepareOptions
    from ..training.data.prepare import prepare_dataset
    opts = PrepareOptions(crop_size=args.crop_size, val_fraction=args.val_fraction,
                          holdout_identities=tuple(args.holdout_identities or ()),
                          holdout_fraction=args.holdout_fraction,
                          min_face_fraction=args.min_face_fraction, max_seconds=args.max_seconds,
                          crf=args.crf, workers=max(1, args.workers),
                          low_res_eye_px=args.low_res_eye_px,
                          max_images_per_identity=args.max_images_per_identity,
                          max_images=args.max_images)
    if not (args.videos or args.stills or args.images):
        from ..core.errors import InputError
        raise InputError("nothing to prepare: give --videos, --stills or --images folders")
    with _cancel_on_ctrl_c(display) as cancel:
        report = prepare_dataset(args.videos, args.out, stills=args.stills,
                                 images=args.images, identity_map=args.identity_map,
                                 identity_regex=args.identity_regex, options=opts,
                                 progress=_progress(display, args.json_progress),
                                 cancel=cancel, message=display.message)
    index = report.index
    frames = sum(c.frames for c in index.clips)
    size_mb = sum(f.stat().st_size for sub in ("crops", "mel", "landmarks")
                  for f in (args.out / sub).glob("*") if f.is_file()) / 1e6
    payload = {"dataset": str(args.out), "clips": len(index.clips),
               "identities": len(index.identities), "frames": frames,
               "holdout_identities": index.holdout_identities,
               "prepared": len(report.prepared), "reused": len(report.reused),
               "skipped": [{"id": i, "reason": r} for i, r in report.skipped],
               "frames_per_s": round(report.frames_per_s, 2), "size_mb": round(size_mb, 1),
               "splits": index.split_summary(),
               "low_res": sum(c.low_res for c in index.clips)}
    held = index.holdout_identities
    shown = ", ".join(held[:12]) + (f" and {len(held) - 12} more" if len(held) > 12 else "")
    display.done(payload, f"dataset {args.out}: {len(index.clips)} clips, {frames} frames, "
                 f"{size_mb:.1f} MB, "
                 f"{len(index.identities)} identities (held out: "
                 f"{shown or 'none'}); this run prepared "
                 f"{len(report.prepared)}, reused {len(report.reused)}, skipped "
                 f"{len(report.skipped)} ({report.frames_per_s:.1f} frames/s)")
    return 0


def run_encode(args, display) -> int:
    require_training_extras()
    from ..training.trainer.commands import run_encode as encode
    opts = EncodeOptions(data=args.data, vqgan=args.vqgan, config=args.config, device=args.device,
                         batch=args.batch, threads=args.threads, pack=args.pack)
    with _cancel_on_ctrl_c(display) as cancel:
        payload = encode(opts, display.message, _progress(display, args.json_progress), cancel)
    display.done(payload, f"latents of {payload['clips']} clips in {payload['latents']}")
    return 0


def stage_options(args) -> StageOptions:
    """The stage's options from its arguments (the frozen runs and the vqgan/sync/swap extras
    exist only on the stages that take them)."""
    extra = {k: getattr(args, k) for k in ("vqgan", "identity", "expert", "identity_teacher",
                                           "init", "gan", "low_res_weight") if hasattr(args, k)}
    return StageOptions(data=args.data, run_dir=args.run_dir, config=args.config,
                        steps=args.steps, batch=args.batch, lr=args.lr,
                        accumulate=args.accumulate, seed=args.seed, device=args.device,
                        amp=args.amp, resume=args.resume, checkpoint_every=args.checkpoint_every,
                        validate_every=args.validate_every, log_every=args.log_every,
                        ema=args.ema, threads=args.threads, cache_gb=args.cache_gb,
                        stop_after=args.stop_after, **extra)


def run_train(args, display) -> int:
    require_training_extras()
    from ..training.trainer.commands import run_stage
    with _cancel_on_ctrl_c(display) as cancel:
        payload = run_stage(args.stage, stage_options(args), display.message,
                            _progress(display, args.json_progress), cancel)
    if payload["rank"] != 0:  # under torchrun only rank 0 reports
        return 0
    best = payload["best"]
    best_text = f"; best {best['metric']} {best['value']:.4g} at step {best['step']}" \
        if best else ""
    display.done(payload, f"{args.stage}: {payload['run']} at step {payload['step']}"
                 f"{best_text} ({payload['steps_per_s']:.2f} steps/s, "
                 f"{payload['samples_per_s']:.1f} samples/s)")
    return 0


def run_lips(args, display) -> int:
    require_training_extras()
    from ..inference import ModelRegistry
    from ..inference.registry import user_model_dir
    from ..training.lips import LipsConfig, export_lips, train_lips

    report = train_lips(args.data, args.run_dir, LipsConfig(steps=args.steps),
                        log=display.message)
    payload = {"run": str(args.run_dir), "best_step": report["best_step"],
               "dev": report["dev"], "val_unseen": report.get("val_unseen")}
    text = f"lips: best at step {report['best_step']}, dev LMD {report['dev']['lmd']:.3f}"
    if report.get("val_unseen"):
        u = report["val_unseen"]
        text += (f"; held-out LMD {u['lmd']:.3f} vs closed mouth {u['lmd_closed_mouth']:.3f}")
    if args.set_id:
        base = ModelRegistry().get_set(args.base_set)
        out = args.out or user_model_dir() / args.set_id
        payload["export"] = export_lips(args.run_dir, out, args.set_id, base,
                                        license=args.license,
                                        training_data=args.training_data or str(args.data),
                                        make_default=args.default)
        text += f"; set {args.set_id} installed in {out}"
    display.done(payload, text)
    return 0


def run_export(args, display) -> int:
    require_training_extras()
    from ..training.trainer.export_cmd import run_export as export
    opts = ExportOptions(runs=args.runs, set_id=args.set_id, out=args.out, data=args.data,
                         fp16=args.fp16, description=args.description, license=args.license,
                         training_data=args.training_data, card=args.card, default=args.default)
    payload = export(opts, display.message)
    display.done(payload, f"model set {payload['set_id']} ({', '.join(payload['stages'])}) "
                 f"installed in {payload['out']}")
    return 0
