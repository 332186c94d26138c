"""The generic training loop: one implementation of seeding, devices, mixed precision,
distributed data parallelism, gradient accumulation, checkpoints and resume, logging,
progress, validation and best-checkpoint tracking, for every stage recipe."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from ...core.errors import Cancelled, InputError
from ...core.progress import StageMeter
from ..configs import config_to_dict
from ..stages.base import Recipe, StageContext
from . import checkpointing as ckpt
from .distributed import average_gradients, barrier, broadcast_module, seed_everything
from .ema import EMA
from .prefetch import Prefetcher
from .runlog import Averages, RunLog


@dataclass
class TrainResult:
    step: int
    best: dict[str, Any] | None
    last_validation: dict[str, float]
    steps_per_s: float
    samples_per_s: float


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    m, sec = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def lr_factor(step: int, total: int, warmup: int, min_ratio: float) -> float:
    warmup = min(warmup, max(total // 10, 1))
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


class Trainer:
    def __init__(self, recipe_cls: type[Recipe], ctx: StageContext) -> None:
        s = ctx.settings
        if s.threads:
            torch.set_num_threads(s.threads)
        seed_everything(s.seed)
        self.ctx, self.s, self.info = ctx, s, ctx.dist
        self.run_dir = s.run_dir
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.recipe = recipe_cls(ctx)
        r = self.recipe
        device = ctx.device
        for m in r.modules.values():
            m.to(device)
            broadcast_module(m, self.info)
        self.optimizers = {
            name: torch.optim.AdamW(params, lr=s.lr * r.lr_scale.get(name, 1.0), betas=r.betas,
                                    weight_decay=r.weight_decay)
            for name, params in r.param_groups.items()}
        self.base_lrs = {n: [g["lr"] for g in o.param_groups] for n, o in self.optimizers.items()}
        amp = s.amp if s.amp is not None else device.type == "cuda"
        if amp and device.type != "cuda":
            ctx.message("mixed precision needs CUDA; training in float32")
            amp = False
        self.amp_dtype = None
        if amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        fp16 = self.amp_dtype == torch.float16
        self.scalers = {n: torch.amp.GradScaler("cuda", enabled=fp16) for n in self.optimizers}
        self.emas = {n: EMA(r.modules[n], s.ema_decay) for n in r.ema_modules} \
            if s.ema_decay > 0 else {}
        self.log = RunLog(self.run_dir / "log.jsonl", enabled=self.info.main)
        self.start_step = 0
        self.best: dict[str, Any] | None = None
        self._resume_or_start()
        # Building frozen networks draws from the global RNG; keep that out of the training
        # stream so a resumed run continues the exact sequence of an uninterrupted one.
        with torch.random.fork_rng(devices=[]):
            r.prepare()

    # -- run folder ----------------------------------------------------------------------
    def _state(self, step: int) -> dict[str, Any]:
        return {"stage": self.recipe.name, "step": step, "config_name": self.ctx.config.name,
                "config": config_to_dict(self.ctx.config), "settings": self.s.to_json(),
                "seed": self.s.seed, "world_size": self.info.world, "best": self.best,
                "data": str(self.ctx.data) if self.ctx.data else None,
                "inputs": self.recipe.meta()}

    def _resume_or_start(self) -> None:
        state = ckpt.read_state(self.run_dir)
        has_ckpt = (self.run_dir / ckpt.CHECKPOINT).is_file()
        if not has_ckpt:
            return
        step = state.get("step", 0) if state else 0
        if not self.s.resume:
            raise InputError(f"{self.run_dir} already holds a {self.recipe.name} run at step "
                             f"{step}; resume it (leave out --no-resume) or pick a new --run")
        if state and state.get("stage") != self.recipe.name:
            raise InputError(f"{self.run_dir} holds a {state.get('stage')} run, not "
                             f"{self.recipe.name}; pick a new --run folder")
        if state and state.get("config_name") != self.ctx.config.name:
            raise InputError(f"{self.run_dir} was trained with --config "
                             f"{state.get('config_name')}; use it or pick a new --run folder")
        meta = ckpt.load_training_checkpoint(self.run_dir, self.recipe.modules,
                                             self.optimizers,
                                             {k: e.shadow for k, e in self.emas.items()})
        for name, scaler_state in meta.get("scalers", {}).items():
            if name in self.scalers and self.scalers[name].is_enabled():
                self.scalers[name].load_state_dict(scaler_state)
        self.start_step = int(meta.get("step", step))
        self.best = (state or {}).get("best")
        self.log.truncate_after(self.start_step)
        self.ctx.message(f"resuming {self.recipe.name} from step {self.start_step} "
                         f"({self.run_dir / ckpt.CHECKPOINT})")

    def _save(self, step: int) -> None:
        if self.info.main:
            scalers = {n: sc.state_dict() for n, sc in self.scalers.items() if sc.is_enabled()}
            ckpt.save_training_checkpoint(
                self.run_dir, step, self.recipe.modules, self.optimizers,
                {k: e.shadow for k, e in self.emas.items()},
                {"stage": self.recipe.name, "config_name": self.ctx.config.name,
                 "scalers": scalers, "inputs": self.recipe.meta()}, self.s.keep_checkpoints)
            ckpt.write_state(self.run_dir, self._state(step))
        barrier(self.info)

    # -- validation ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _evaluated_weights(self):
        """Validation (and best.safetensors) use the EMA weights where EMA is on."""
        r = self.recipe
        stash = {n: {k: v.detach().clone() for k, v in r.modules[n].state_dict().items()}
                 for n in self.emas}
        for n, e in self.emas.items():
            r.modules[n].load_state_dict(e.shadow.state_dict())
        r.train_mode(False)
        try:
            yield
        finally:
            for n, sd in stash.items():
                r.modules[n].load_state_dict(sd)
            r.train_mode(True)

    def _validate(self, step: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        if self.info.main:
            with self._evaluated_weights():
                metrics = {k: round(float(v), 6) for k, v in self.recipe.validate(step).items()}
                r = self.recipe
                key = r.best_metric
                if key in metrics and math.isfinite(metrics[key]):
                    better = (self.best is None or
                              (metrics[key] > self.best["value"] if r.best_mode == "max"
                               else metrics[key] < self.best["value"]))
                    if better:
                        self.best = {"metric": key, "value": metrics[key], "step": step}
                        ckpt.save_best(self.run_dir, r.modules,
                                       {"stage": r.name, "config_name": self.ctx.config.name,
                                        "step": step, "metric": key, "value": metrics[key],
                                        "inputs": r.meta()})
            self.log.write({"step": step, "val": metrics})
            text = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            self.ctx.message(f"step {step}: validation {text}")
        barrier(self.info)
        return metrics

    # -- the loop ------------------------------------------------------------------------
    def _set_lr(self, step: int) -> None:
        f = lr_factor(step, self.s.steps, self.s.warmup_steps, self.s.min_lr_ratio)
        for name, opt in self.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lrs[name], strict=True):
                group["lr"] = base * f

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.amp_dtype)

    def _one_step(self, step: int, batches: list[Any], averages: Averages) -> None:
        r, s = self.recipe, self.s
        for phase in r.phases(step):
            opt, scaler = self.optimizers[phase], self.scalers[phase]
            opt.zero_grad(set_to_none=True)
            for micro, batch in enumerate(batches):
                with self._autocast():
                    loss, terms = r.loss(phase, batch, step, micro)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"{r.name} {phase} loss is {loss.item()} at step "
                                             f"{step}; lower --lr or turn off --amp")
                scaler.scale(loss / len(batches)).backward()
                averages.add({f"{phase}_loss" if phase != "main" else "loss": loss.item(),
                              **terms})
            params = r.param_groups[phase]
            average_gradients(params, self.info)
            scaler.unscale_(opt)
            if s.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, s.grad_clip)
            scaler.step(opt)
            scaler.update()
        for name, e in self.emas.items():
            e.update(r.modules[name], step)
        r.after_step(step)

    def _cancel_requested(self) -> bool:
        """Every rank must stop at the same step (each saves and waits at a barrier)."""
        flag = self.ctx.cancel.cancelled
        if not self.info.distributed:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.ctx.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item() > 0)

    def run(self) -> TrainResult:
        r, s, info = self.recipe, self.s, self.info
        end = s.steps if s.stop_after is None else min(s.steps, self.start_step + s.stop_after)
        meter = StageMeter(f"train {r.name}", s.steps, self.ctx.progress)
        meter.skip_to(self.start_step)
        if self.start_step == 0 and info.main:
            ckpt.write_state(self.run_dir, self._state(0))
            self.log.write({"step": 0, "event": "start", "stage": r.name,
                            "config": self.ctx.config.name, "world_size": info.world,
                            "device": str(self.ctx.device), "batch": s.batch,
                            "accumulate": s.accumulate})
        if self.start_step >= end:
            self.ctx.message(f"{r.name} is already at step {self.start_step} of {s.steps}; "
                             "raise --steps to train further")
            return TrainResult(self.start_step, self.best, {}, 0.0, 0.0)
        keys = ((st, m) for st in range(self.start_step, end) for m in range(s.accumulate))
        prefetch = Prefetcher(lambda k: r.make_batch(k[0], k[1], info.rank), keys,
                              depth=max(4, 2 * s.accumulate))
        averages = Averages()
        samples_per_step = s.batch * s.accumulate * info.world
        t_log, step_log, t_start = time.monotonic(), self.start_step, time.monotonic()
        last_val: dict[str, float] = {}
        rate = 0.0
        r.train_mode(True)
        step = self.start_step
        try:
            for step in range(self.start_step, end):
                if self._cancel_requested():
                    self._save(step)
                    raise Cancelled(f"training stopped at step {step}; the checkpoint is saved "
                                    "and the same command resumes from it")
                self._set_lr(step)
                batches = [r.to_device(prefetch.next()[1]) for _ in range(s.accumulate)]
                self._one_step(step, batches, averages)
                done = step + 1
                meter.update(done)
                if done % s.log_every == 0 or done == end:
                    now = time.monotonic()
                    rate = (done - step_log) / max(now - t_log, 1e-9)
                    t_log, step_log = now, done
                    values = averages.pop()
                    lr = self.optimizers["main"].param_groups[0]["lr"] \
                        if "main" in self.optimizers else None
                    self.log.write({"step": done, **values, "lr": lr,
                                    "steps_per_s": round(rate, 4),
                                    "samples_per_s": round(rate * samples_per_step, 2)})
                    if info.main:
                        loss_text = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
                        eta = (s.steps - done) / rate if rate > 0 else None
                        self.ctx.message(f"{r.name} step {done}/{s.steps}: {loss_text}  "
                                         f"({rate:.2f} steps/s, "
                                         f"{rate * samples_per_step:.1f} samples/s, "
                                         f"ETA {_clock(eta)})")
                if done % s.validate_every == 0 or done == s.steps:
                    last_val = self._validate(done)
                if done % s.checkpoint_every == 0 or done == end:
                    self._save(done)
            step = end
        finally:
            prefetch.close()
        elapsed = time.monotonic() - t_start
        overall = (end - self.start_step) / max(elapsed, 1e-9)
        return TrainResult(step, self.best, last_val, overall, overall * samples_per_step)


def train_stage(stage: str, ctx: StageContext) -> TrainResult:
    """Build the stage's recipe and train it to ``ctx.settings.steps`` (resuming if the run
    folder holds a checkpoint)."""
    from ..stages import recipe_for
    return Trainer(recipe_for(stage), ctx).run()
