"""The lips stage: audio (a mel window) -> how the lips move away from the closed mouth.

Why a lip *shape* and not pixels: on the 2-core budget the latent sync module never learnt to
follow the sound on people it had not seen (docs/training.md), while a shape is
speaker-independent and cheap to learn across every speaker there is. The sync-only path then
shows the actor's own mouth with that shape (faces/mouth_library.py).

Targets are the 40 MediaPipe lip points (crop pixels, mean-centred) minus those of the clip's
most closed-mouth frame, the same reference the engine uses; so a wide or narrow mouth adds
its own resting shape back at run time. Silence is taught explicitly (a closed mouth), since the
clips are speech almost throughout. Early stopping watches *training* speakers kept out of the
fit (``dev``), so the held-out identities that the model card reports stay unseen.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..engine.frames import reference_frame
from ..faces.mouth_library import lip_shape
from ..media import mel_windows
from ..media.dataset_layout import DatasetLayout, load_index, read_landmarks, read_mel
from ..media.mel import SILENCE_DB_VALUE

WINDOW = 32
"""Mel frames per video frame (0.4 s at 80 Hz, centred): a syllable either side."""


@dataclass
class LipsConfig:
    window: int = WINDOW
    channels: int = 128
    hidden: int = 256
    dropout: float = 0.5
    steps: int = 1500
    batch: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.1
    silence_share: float = 0.1
    band_mask: float = 0.15
    loudness: float = 1.0
    dev_share: float = 0.15
    eval_every: int = 100
    seed: int = 0


class LipsNet(nn.Module):
    """[B, 1, 80, T] mel -> [B, 1, 40, 2] lip-point offsets (crop px) from the closed mouth."""

    def __init__(self, cfg: LipsConfig):
        super().__init__()
        c = cfg.channels
        layers: list[nn.Module] = [nn.Conv1d(80, c, 3, padding=1), nn.GELU()]
        t = cfg.window
        while t > 4:
            layers += [nn.Conv1d(c, c, 3, padding=1, stride=2), nn.GELU()]
            t = (t + 1) // 2
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * t, cfg.hidden),
                                  nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, 80))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.body(mel[:, 0]).reshape(-1, 1, 40, 2)

    def features(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, F]: the last hidden layer, which the last Linear maps to the shape."""
        return self.body[:-1](mel[:, 0])


class LipsGraph(nn.Module):
    """The exported graph: the shape and the features the engine refits per actor."""

    def __init__(self, net: LipsNet):
        super().__init__()
        self.net = net

    def forward(self, mel: torch.Tensor):
        f = self.net.features(mel)
        return self.net.body[-1](f).reshape(-1, 1, 40, 2), f[:, None, None, :]


@dataclass
class LipsData:
    mel: np.ndarray        # float16 [N, 80, T]
    delta: np.ndarray      # float32 [N, 40, 2]
    shape: np.ndarray      # float32 [N, 40, 2] the real lips, mean-centred
    reference: np.ndarray  # float32 [N, 40, 2] the clip's closed-mouth lips
    clip: np.ndarray       # str [N]
    identity: np.ndarray   # str [N]

    def __len__(self) -> int:
        return len(self.delta)

    def take(self, rows: np.ndarray) -> LipsData:
        return LipsData(*(getattr(self, k)[rows] for k in
                          ("mel", "delta", "shape", "reference", "clip", "identity")))


def _dev(identity: str, share: float) -> bool:
    h = int.from_bytes(hashlib.sha256(identity.encode()).digest()[:4], "big")
    return h / 2**32 < share


def load_lips_data(data: Path | str, split: str, window: int = WINDOW) -> LipsData:
    """Every frame of ``split``'s speech clips with landmarks: its mel window and lip targets."""
    index, layout = load_index(data), DatasetLayout(data)
    parts: dict[str, list] = {k: [] for k in ("mel", "delta", "shape", "reference", "clip",
                                               "identity")}
    for rec in index.select(split, kind="video"):
        if not rec.has_audio or rec.audio_silent:
            continue
        mel = read_mel(layout, rec)
        if mel is None:
            continue
        a, b = rec.train_range if split == "train" else rec.val_range
        if b - a < 5:
            continue
        lm = read_landmarks(layout, rec)
        marks = lm["landmarks"][a:b].astype(np.float32)
        present = lm["present"][a:b].astype(bool) if "present" in lm else np.ones(b - a, bool)
        ref = reference_frame(marks, present, 0)
        if ref is None:
            continue
        rows = np.flatnonzero(present)
        shape = lip_shape(marks[rows])
        reference = np.repeat(lip_shape(marks[ref])[None], len(rows), 0)
        parts["mel"].append(mel_windows(mel, lm["times"][a:b][rows], window).astype(np.float16))
        parts["shape"].append(shape)
        parts["reference"].append(reference)
        parts["delta"].append(shape - reference)
        parts["clip"].append(np.full(len(rows), rec.id))
        parts["identity"].append(np.full(len(rows), rec.identity))
    if not parts["mel"]:
        raise ValueError(f"no speech clips with landmarks in the {split} split of {data}")
    return LipsData(*(np.concatenate(parts[k]) for k in
                      ("mel", "delta", "shape", "reference", "clip", "identity")))


def predict(net: LipsNet, mel: np.ndarray, batch: int = 2048) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        out = [net(torch.from_numpy(np.asarray(mel[i:i + batch], np.float32))[:, None])
               for i in range(0, len(mel), batch)]
    return torch.cat(out).numpy()[:, 0]


def smooth(shapes: np.ndarray, clips: np.ndarray | None = None) -> np.ndarray:
    """A [1, 2, 1] / 4 filter along time (within each clip): per-frame predictions jitter."""
    out = shapes.copy()
    groups = [np.arange(len(shapes))] if clips is None else \
        [np.flatnonzero(clips == c) for c in dict.fromkeys(clips)]
    for rows in groups:
        if len(rows) > 2:
            out[rows[1:-1]] = 0.25 * shapes[rows[:-2]] + 0.5 * shapes[rows[1:-1]] \
                + 0.25 * shapes[rows[2:]]
    return out


def lmd_scores(pred_delta: np.ndarray, data: LipsData) -> dict:
    """Lip-shape error (LMD, crop px) of the prediction, of the closed mouth held, of the mean
    opening, and of the prediction for silence, against the real lips."""
    err = lambda s: float(np.linalg.norm(s - data.shape, axis=-1).mean())  # noqa: E731
    pred = smooth(data.reference + pred_delta, data.clip)
    return {"frames": len(data), "clips": int(len(set(data.clip))),
            "identities": int(len(set(data.identity))), "lmd": err(pred),
            "lmd_closed_mouth": err(data.reference),
            "ratio_to_closed_mouth": err(pred) / max(err(data.reference), 1e-9)}


def train_lips(data: Path | str, run: Path | str, cfg: LipsConfig | None = None,
               log=print) -> dict:
    """Fit the lips stage; write ``run``/lips.pt (best dev weights) and ``run``/lips.json."""
    cfg = cfg or LipsConfig()
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    full = load_lips_data(data, "train", cfg.window)
    dev_mask = np.array([_dev(i, cfg.dev_share) for i in full.identity])
    if dev_mask.all() or not dev_mask.any():
        dev_mask = np.zeros(len(full), bool)
        dev_mask[rng.permutation(len(full))[:max(1, len(full) // 7)]] = True
    fit, dev = full.take(np.flatnonzero(~dev_mask)), full.take(np.flatnonzero(dev_mask))
    unseen = _maybe(lambda: load_lips_data(data, "val_unseen", cfg.window))
    log(f"lips: {len(fit)} frames of {len(set(fit.identity))} speakers to fit, "
        f"{len(dev)} of {len(set(dev.identity))} for early stopping")
    net = LipsNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    mel, target = torch.from_numpy(fit.mel), torch.from_numpy(fit.delta)
    best, best_step, history = float("inf"), 0, []
    started = time.monotonic()
    for step in range(1, cfg.steps + 1):
        net.train()
        rows = torch.from_numpy(rng.integers(0, len(fit), cfg.batch))
        x, y = mel[rows].float(), target[rows].clone()
        x = x + (torch.rand(len(x), 1, 1) - 0.5) * cfg.loudness
        x = x.masked_fill(torch.rand(len(x), 80, 1) < cfg.band_mask, SILENCE_DB_VALUE)
        quiet = torch.rand(len(x)) < cfg.silence_share
        x[quiet] = SILENCE_DB_VALUE + 0.05 * torch.randn_like(x[quiet])
        y[quiet] = 0.0
        loss = ((net(x[:, None])[:, 0] - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % cfg.eval_every == 0 or step == cfg.steps:
            score = lmd_scores(predict(net, dev.mel), dev)["lmd"]
            history.append({"step": step, "loss": loss.item(), "dev_lmd": score})
            if score < best:
                best, best_step = score, step
                torch.save(net.state_dict(), run / "lips.pt")
            log(f"lips step {step}/{cfg.steps}: loss {loss.item():.4f}, dev LMD {score:.4f} "
                f"(best {best:.4f} at {best_step}), {time.monotonic() - started:.0f} s")
    net.load_state_dict(torch.load(run / "lips.pt", weights_only=True))
    report = {"config": asdict(cfg), "best_step": best_step, "dev": lmd_scores(
        predict(net, dev.mel), dev), "history": history,
        "fit_frames": len(fit), "fit_identities": int(len(set(fit.identity))),
        "dev_identities": sorted(set(dev.identity))}
    if unseen is not None:
        pred = predict(net, unseen.mel)
        report["val_unseen"] = lmd_scores(pred, unseen)
        report["val_unseen_silence"] = lmd_scores(
            predict(net, np.full_like(unseen.mel, SILENCE_DB_VALUE)), unseen)
    (run / "lips.json").write_text(json.dumps(report, indent=1))
    return report


def _maybe(fn):
    try:
        return fn()
    except ValueError:
        return None


def load_lips(run: Path | str) -> tuple[LipsNet, LipsConfig]:
    run = Path(run)
    cfg = LipsConfig(**json.loads((run / "lips.json").read_text())["config"])
    net = LipsNet(cfg)
    net.load_state_dict(torch.load(run / "lips.pt", weights_only=True))
    return net.eval(), cfg


def export_lips(run: Path | str, out_dir: Path | str, set_id: str, base_set, *,
                license: str, training_data: str, card: Path | str | None = None,
                make_default: bool = False, description: str = "") -> dict:
    """Write ``<set_id>-lips.onnx`` and a set = ``base_set``'s stages + this lips stage.

    The graph is checked against torch on random and silent windows before it is entered in
    ``out_dir``/manifest.json (sha256-hashed, like every model file)."""
    from ..inference.manifest_write import add_model_set

    net, cfg = load_lips(run)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = json.loads((Path(run) / "lips.json").read_text())
    entry = install_lips_model(net, cfg, out_dir, f"{set_id}-lips", license=license,
                               training_data=training_data, card=card,
                               description=description, report=report)
    stages = {stage: [e.id for e in entries] for stage, entries in base_set.stages.items()
              if stage != "lips"}
    stages["lips"] = [entry.id]
    add_model_set(out_dir / "manifest.json", id=set_id, stages=stages,
                  crop_size=base_set.crop_size, mel_window=base_set.mel_window,
                  description=f"{base_set.id} with the lips stage: sync-only edits show the "
                              "actor's own mouth, picked by the lip shape the audio asks for",
                  make_default=make_default, replace=True)
    return {"set_id": set_id, "model": entry.id, "file": str(entry.path),
            "parity_max_abs": entry.metadata["parity_max_abs"], "stages": sorted(stages)}


def install_lips_model(net: LipsNet, cfg: LipsConfig, out_dir: Path, model_id: str, *,
                       license: str, training_data: str, card=None, description: str = "",
                       report: dict | None = None):
    """Export ``net`` as ``out_dir``/``model_id``.onnx, check it against torch, and enter it
    in ``out_dir``/manifest.json (hashed); returns the manifest entry."""
    import warnings

    import onnxruntime as ort

    from ..core.atomic import atomic_path
    from ..inference.manifest import LIP_POINT_COUNT, MEL_BINS, TensorSpec
    from ..inference.manifest_write import add_model

    report = report or {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{model_id}.onnx"
    example = torch.zeros(2, 1, MEL_BINS, cfg.window)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's notices are not actionable
        torch.onnx.export(LipsGraph(net).eval(), (example,), str(tmp), dynamo=False,
                          opset_version=17, input_names=["mel"],
                          output_names=["shape", "features"],
                          dynamic_axes={"mel": {0: "B"}, "shape": {0: "B"},
                                        "features": {0: "B"}})
    rng = np.random.default_rng(0)
    probe = np.concatenate([rng.uniform(-4, 4, (6, 1, MEL_BINS, cfg.window)),
                            np.full((2, 1, MEL_BINS, cfg.window), SILENCE_DB_VALUE)]
                           ).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["shape"], {"mel": probe})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(probe)).numpy()
    err = float(np.abs(got - want).max())
    if err > 1e-3:
        path.unlink()
        raise RuntimeError(f"lips ONNX graph differs from torch by {err:.3g} px; not installed")
    return add_model(
        out_dir / "manifest.json", id=model_id, stage="lips", file=path.name,
        inputs={"mel": TensorSpec("mel", ("B", 1, MEL_BINS, cfg.window))},
        outputs={"shape": TensorSpec("shape", ("B", 1, LIP_POINT_COUNT, 2)),
                 "features": TensorSpec("features", ("B", 1, 1, cfg.hidden))},
        license=license, training_data=training_data, replace=True,
        description=description or "lip shape from audio (mel window) for the sync-only path",
        card=card, metadata={"exported_by": "swaptalk_desktop.training.lips", "opset": 17,
                             "torch": torch.__version__, "parity_max_abs": err,
                             **{k: report[k] for k in ("best_step", "val_unseen",
                                                       "held_back_before", "held_back_after")
                                if k in report}})


def lips_from_onnx(path: Path | str) -> tuple[LipsNet, LipsConfig]:
    """The torch module of an exported lips graph, from its initializers (no pickle: the
    weights are read as tensors by name; the caller has checked the file's sha256)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    weights = {i.name.removeprefix("net."): numpy_helper.to_array(i)
               for i in model.graph.initializer}
    window = model.graph.input[0].type.tensor_type.shape.dim[3].dim_value
    cfg = LipsConfig(window=int(window), channels=int(weights["body.0.weight"].shape[0]))
    net = LipsNet(cfg)
    linear = [k for k in net.state_dict() if k.endswith(".weight")][-2]
    cfg.hidden = int(weights[linear].shape[0])
    net = LipsNet(cfg)
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return net.eval(), cfg


def finetune_lips(net: LipsNet, cfg: LipsConfig, data: Path | str, run: Path | str, *,
                  steps: int = 300, lr: float = 3e-4, log=print) -> dict:
    """Fine-tune the lips stage on one actor's prepared footage (its train seconds) and keep
    the result only if it beats the start on the held-back seconds (``val_seen``).

    Writes ``run``/lips.pt and ``run``/lips.json like :func:`train_lips`; returns the before and
    after lip-shape errors on the held-back seconds."""
    import copy

    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    fit = load_lips_data(data, "train", cfg.window)
    held = _maybe(lambda: load_lips_data(data, "val_seen", cfg.window))
    torch.manual_seed(cfg.seed)
    tuned = copy.deepcopy(net)
    opt = torch.optim.Adam(tuned.parameters(), lr)
    mel, target = torch.from_numpy(fit.mel), torch.from_numpy(fit.delta)
    rng = np.random.default_rng(cfg.seed)
    for step in range(1, steps + 1):
        tuned.train()
        rows = torch.from_numpy(rng.integers(0, len(fit), min(64, len(fit))))
        loss = ((tuned(mel[rows].float()[:, None])[:, 0] - target[rows]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps:
            log(f"lips fine-tune step {step}/{steps}: loss {loss.item():.4f}")
    report = {"config": asdict(cfg), "best_step": steps, "fit_frames": len(fit),
              "steps": steps}
    kept = tuned
    if held is not None:
        before = lmd_scores(predict(net, held.mel), held)
        after = lmd_scores(predict(tuned, held.mel), held)
        report.update(held_back_before=before, held_back_after=after,
                      kept=after["lmd"] < before["lmd"])
        if not report["kept"]:
            kept = net
        log(f"lips on the held-back seconds: LMD {before['lmd']:.3f} -> {after['lmd']:.3f} "
            f"(closed mouth {before['lmd_closed_mouth']:.3f}); "
            + ("kept" if report["kept"] else "not better, the base stage is kept"))
    torch.save(kept.state_dict(), run / "lips.pt")
    (run / "lips.json").write_text(json.dumps(report, indent=1))
    return report
