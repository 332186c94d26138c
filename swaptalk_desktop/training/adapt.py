"""``swaptalk adapt``: per-actor adaptation of an installed model set.

A clip of the actor is prepared like any dataset, leaving out the ``--exclude`` ranges (the
edits being replaced: the model must learn the actor, not memorise the lines it will have to
change); the VQGAN decoder (encoder and codebooks frozen, so the base set's exported encoder
still produces the latents it decodes) and the sync module are fine-tuned on it,
self-supervised (the clip's own frames and audio); the result is installed as a new set in the
user model folder whose decode and sync are new and whose encode and swap are the base set's
models, referenced by id.

The work folder makes it resumable: the prepared clip, and the two fine-tunes' checkpoints.
Running the same command again continues where a crash, a kill or a cancel stopped it; a
changed command (other clip, ranges, base, steps) starts the fine-tunes over. ``plan.json``
records which command the folder's runs belong to, ``adapt.lock`` which process uses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.atomic import write_text_atomic
from ..core.cachedir import cache_root
from ..core.cancel import CancelToken
from ..core.errors import InputError, ModelError
from ..core.progress import ProgressEvent
from ..core.recovery import pid_alive, process_start
from ..engine.adapt_plan import (
    DEFAULT_STEPS,
    AdaptProgress,
    Footage,
    estimate,
    parse_range,
    plan_footage,
)
from ..inference import ModelRegistry, user_model_dir
from ..inference.manifest import train_weights_file
from ..media import VideoInfo, probe_video
from .archs import build_module
from .checkpoint_io import read_checkpoint, save_checkpoint
from .configs import config_from_dict, config_to_dict
from .data.clip_prep import PrepareOptions
from .data.prepare import prepare_dataset
from .options import AdaptOptions, Message
from .stages import StageContext
from .trainer import checkpointing as ckpt
from .trainer.distributed import setup
from .trainer.export_cmd import load_runs, parity_crops, train_weights_path
from .trainer.loop import train_stage
from .trainer.settings import TrainSettings

LR = {"vqgan": 1e-4, "sync": 1e-4}
TINY_LR = {"vqgan": 1e-3, "sync": 1e-3}
LOCK_WAIT_S = 20.0
"""How long a rerun waits for the process it replaces (a cancelled run saving its checkpoint)."""


def _base_from_set(registry: ModelRegistry, set_id: str | None):
    model_set = registry.get_set(set_id)
    weights = train_weights_file(model_set)
    if not weights.is_file():
        raise InputError(f"model set '{model_set.id}' has no training weights ({weights.name} "
                         "beside its manifest); adapt a set made by `swaptalk train export`, "
                         "or pass --runs RUNS")
    ckpt_file = read_checkpoint(weights)
    cfg = config_from_dict(ckpt_file.meta["config"])
    if cfg.vqgan.crop_size != model_set.crop_size:
        raise InputError(f"{weights} does not match set '{model_set.id}' (crop size "
                         f"{cfg.vqgan.crop_size} vs {model_set.crop_size}); export it again")
    for need in ("vqgan", "sync"):
        if need not in ckpt_file.module_names:
            raise InputError(f"model set '{model_set.id}' has no trained {need} in {weights}; "
                             "adaptation fine-tunes the decoder and the sync module")
    return model_set, weights, cfg, ckpt_file.module_names


def _base_from_runs(runs: Path, work: Path):
    cfg, modules, _ = load_runs(runs)
    if "sync" not in modules:
        raise InputError(f"{runs} has no sync run; adaptation fine-tunes the sync module")
    weights = work / "base.train.safetensors"
    save_checkpoint(weights, modules, meta={"config": config_to_dict(cfg)})
    return weights, cfg, sorted(modules)


def _default_set_id(base: str, clip: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", clip.stem).strip("._") or "clip"
    return f"{base}-{stem}"


def _settings(run_dir: Path, stage: str, cfg, opts: AdaptOptions, steps: int) -> TrainSettings:
    tiny = cfg.name == "tiny"
    batch = opts.batch or (16 if stage == "sync" and not tiny else 8)
    every = max(steps // 4, 1)
    return TrainSettings(run_dir=run_dir, steps=steps, batch=batch,
                         lr=(TINY_LR if tiny else LR)[stage], seed=0, device=opts.device,
                         checkpoint_every=every, validate_every=steps, log_every=max(every, 1),
                         warmup_steps=max(steps // 10, 1), threads=opts.threads,
                         val_samples=16 if tiny else 64)


def footage_of(opts: AdaptOptions, info: VideoInfo) -> Footage:
    exclude = [parse_range(text, info.nominal_fps, info.frame_times)
               for text in opts.exclude]
    footage = plan_footage(info.frame_times, info.duration_s, float(info.fps), exclude,
                           opts.minutes)
    if footage.usable == 0:
        raise InputError(f"{Path(opts.video).name} has no footage outside the excluded ranges; "
                         "adaptation needs frames of the actor that are not being replaced")
    return footage


@contextlib.contextmanager
def _work_lock(work: Path) -> Iterator[None]:
    """One adaptation per work folder; waits a little for a stopping one (a cancelled run
    saves its checkpoint before it exits) so that an immediate retry does not fail."""
    lock = work / "adapt.lock"
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            holder = json.loads(lock.read_text("utf-8"))
        except (OSError, ValueError):
            holder = None
        pid = holder.get("pid") if isinstance(holder, dict) else None
        running = isinstance(pid, int) and pid != os.getpid() and pid_alive(pid) and \
            holder.get("start") in (None, process_start(pid))
        if not running:
            break
        if time.monotonic() > deadline:
            raise InputError(f"another adaptation (process {pid}) is using {work}; wait for it "
                             "to finish or cancel it")
        time.sleep(0.25)
    write_text_atomic(lock, json.dumps({"pid": os.getpid(), "start": process_start(os.getpid())}))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _start_over_if_changed(work: Path, plan: dict, say) -> None:
    """The runs in ``work`` continue only for the command that made them."""
    path = work / "plan.json"
    try:
        old = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        old = None
    runs = [work / stage for stage in ("vqgan", "sync") if (work / stage).exists()]
    if old != plan and runs:
        say(f"the clip, ranges, base set or steps changed since the runs in {work} were made; "
            "starting the fine-tunes over")
        for run in runs:
            shutil.rmtree(run)
    write_text_atomic(path, json.dumps(plan, indent=1) + "\n")


def _base_key(opts: AdaptOptions, weights: Path) -> list:
    """What identifies the base weights: the set's file, or the runs' steps (the copy of the
    runs in the work folder is rewritten on every start)."""
    if not opts.runs:
        st = weights.stat()
        return [str(weights), st.st_size, st.st_mtime_ns]
    return [[stage, (ckpt.read_state(Path(opts.runs) / stage) or {}).get("step")]
            for stage in ("vqgan", "sync", "swap", "expert")]


def _plan(clip: Path, footage: Footage, base_id: str, base_key: list, cfg, steps: int,
          opts: AdaptOptions) -> dict:
    st = clip.stat()
    return {"video": str(clip.resolve()), "video_size": st.st_size,
            "video_mtime_ns": st.st_mtime_ns, "exclude": [list(r) for r in footage.excluded],
            "cutoff": footage.cutoff, "base": base_id, "base_weights": base_key,
            "config": cfg.name, "steps": steps, "batch": opts.batch}


def run_adapt(opts: AdaptOptions, message: Message, progress,
              cancel: CancelToken) -> dict[str, Any]:
    clip = Path(opts.video)
    if not clip.is_file():
        raise InputError(f"{clip} does not exist; give a clip of the actor speaking")
    registry = ModelRegistry(extra_dirs=opts.models_dirs)
    if opts.runs:
        base_set, base_id = None, Path(opts.runs).name
    else:
        base_set, weights, cfg, names = _base_from_set(registry, opts.base_set)
        base_id = base_set.id
    set_id = opts.set_id or _default_set_id(base_id, clip)
    work = Path(opts.work) if opts.work else cache_root() / "adapt" / set_id
    work.mkdir(parents=True, exist_ok=True)
    info = probe_video(clip)
    footage = footage_of(opts, info)
    with _work_lock(work):
        if base_set is None:
            weights, cfg, names = _base_from_runs(Path(opts.runs), work)
        return _adapt_in(work, opts, message, progress, cancel, clip, info, footage, base_set,
                         base_id, set_id, (weights, cfg, names))


def _adapt_in(work: Path, opts: AdaptOptions, message: Message, progress,
              cancel: CancelToken, clip: Path,
              info: VideoInfo, footage: Footage, base_set, base_id: str, set_id: str,
              base: tuple) -> dict[str, Any]:
    weights, cfg, names = base
    steps = opts.steps or DEFAULT_STEPS.get(cfg.name, 1500)
    _start_over_if_changed(work, _plan(clip, footage, base_id, _base_key(opts, weights), cfg,
                                       steps, opts), message)
    left_out = (f"; {footage.left_out} frames in or beside {len(footage.excluded)} excluded "
                "range(s) left out" if footage.excluded else "")
    message(f"adapting '{base_id}' ({cfg.name}) to {clip.name}: {footage.usable} "
            f"frames ({footage.usable_s:.1f} s){left_out}; work folder {work}")
    overall = AdaptProgress(estimate(cfg.name, footage, steps, info.width * info.height / 1e6),
                            progress)

    # 1. the actor's clip as a one-clip dataset, without the excluded ranges
    prep = PrepareOptions(crop_size=cfg.vqgan.crop_size, val_fraction=0.1, holdout_fraction=0,
                          max_seconds=footage.max_seconds(info.frame_times),
                          exclude=tuple(footage.excluded))
    report = prepare_dataset([clip], work / "data", options=prep, progress=overall,
                             cancel=cancel, message=message)
    rec = report.index.clips[0]
    if not rec.has_audio or rec.audio_silent:
        raise InputError(f"{clip.name} has no audible sound; adaptation learns the actor's "
                         "lips from their own speech, so the clip needs its audio")

    # 2. decoder, then 3. sync, each resumable in its own run folder
    dist = setup(opts.device)
    runs: dict[str, Path] = {"vqgan": weights}
    if "expert" in names:
        runs["expert"] = weights
    for stage, options in (("vqgan", {"init": weights, "decoder_only": True}),
                           ("sync", {"init": weights})):
        ctx = StageContext(config=cfg, settings=_settings(work / stage, stage, cfg, opts, steps),
                           dist=dist, data=work / "data", runs=runs, message=message,
                           progress=overall, cancel=cancel, options=options)
        train_stage(stage, ctx)
    cancel.raise_if_cancelled()
    overall(ProgressEvent("export", 0, 1, 0.0, None))

    # 4. export decode + sync, reuse the base set's encode (+ swap)
    vqgan, sync = build_module("vqgan", cfg), build_module("sync", cfg)
    ckpt.load_run_module(work / "vqgan", "vqgan", vqgan)
    ckpt.load_run_module(work / "sync", "sync", sync)
    out = user_model_dir() / set_id
    reuse: dict[str, list[str]] = {}
    stages = ["decode", "sync"]
    swap = None
    if base_set is not None:
        reuse = {st: [e.id for e in base_set.stages[st]] for st in ("encode", "swap", "lips")
                 if base_set.stages.get(st)}
        entry = base_set.stages["decode"][0]
        license, base_data = entry.license, entry.training_data
    else:
        stages = ["encode", "decode", "sync"] + (["swap"] if "swap" in names else [])
        if "swap" in names:
            swap = build_module("swap", cfg)
            ckpt.load_run_module(weights, "swap", swap)
        license, base_data = "research use only", f"training runs in {opts.runs}"
    from .export.model_set import export_model_set
    minutes = f"{footage.usable_s / 60:.1f} min of " if opts.minutes else ""
    if footage.excluded:
        minutes += f"(outside {len(footage.excluded)} edited range(s)) "
    lips = None
    if base_set is not None and base_set.stages.get("lips"):
        lips = _adapt_lips(base_set, work, out, set_id, license=license,
                           training_data=f"{base_data}; fine-tuned on {minutes}{clip.name}",
                           say=message, cancel=cancel)
        reuse["lips"] = [lips["model"]]
    export_model_set(vqgan, swap, sync, out, set_id, stages=stages, reuse=reuse,
                     description=f"{base_id} adapted to {clip.name}", license=license,
                     training_data=f"{base_data}; fine-tuned on {minutes}{clip.name}",
                     fp16=opts.fp16, parity_inputs=parity_crops(work / "data"), verbose=False)
    kept = {"vqgan": vqgan, "sync": sync}
    base_modules = read_checkpoint(weights)
    for name in ("swap", "expert", "identity"):
        if name in names:
            module = build_module(name, cfg)
            module.load_state_dict(base_modules.module_state(name))
            kept[name] = module
    save_checkpoint(train_weights_path(out, set_id), kept,
                    meta={"config": config_to_dict(cfg), "set_id": set_id, "base": base_id,
                          "clip": str(clip)})
    overall(ProgressEvent("export", 1, 1, 0.0, 0.0))
    return {"set_id": set_id, "out": str(out), "base_set": base_id, "frames": rec.frames,
            "work": str(work),
            "stages_new": stages + (["lips"] if lips else []),
            "stages_reused": sorted(st for st in reuse if not (lips and st == "lips")),
            "excluded": [list(r) for r in footage.excluded], "usable_frames": footage.usable,
            "config": cfg.name, "steps": steps, "lips": lips}


LIPS_STEPS = 300
"""Fine-tune steps of the lips stage (about 20 s on 2 cores)."""


def _adapt_lips(base_set, work: Path, out: Path, set_id: str, *, license: str,
                training_data: str, say, cancel: CancelToken) -> dict:
    """The base set's lips stage fine-tuned on the actor's footage (kept only when it does
    better on the held-back seconds), installed as ``<set_id>-lips`` in ``out``."""
    from ..core.hashing import file_sha256
    from .lips import finetune_lips, install_lips_model, lips_from_onnx, load_lips

    entry = base_set.stages["lips"][0]
    if file_sha256(entry.path) != entry.sha256:
        raise ModelError(f"{entry.path} does not match the sha256 in its manifest; reinstall "
                         f"model set '{base_set.id}'")
    net, cfg = lips_from_onnx(entry.path)
    cancel.raise_if_cancelled()
    say(f"lips: fine-tuning {entry.id} on the actor's own speech ({LIPS_STEPS} steps)")
    report = finetune_lips(net, cfg, work / "data", work / "lips", steps=LIPS_STEPS, log=say)
    tuned, _ = load_lips(work / "lips")
    model = install_lips_model(tuned, cfg, out, f"{set_id}-lips", license=license,
                               training_data=training_data, report=report,
                               description=f"{entry.id} fine-tuned on the actor's footage")
    return {"model": model.id, "kept": report.get("kept"),
            "held_back_before": report.get("held_back_before"),
            "held_back_after": report.get("held_back_after")}

