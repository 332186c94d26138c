"""Closed-form fit of the residual sync module's audio path (ridge regression, low rank).

The change from a reference frame's lower latent to another frame's is mostly the mouth, and
the mouth is mostly the sound. Before any gradient step, the principal directions of that
change (over thousands of training windows of many speakers) are regressed on the mel window
alone. The map never sees a face, so what it learns holds for people it never saw; the
U-Net part of the module then only has to learn what the face and pose add.
"""

from __future__ import annotations

import torch

from .archs.sync import SyncModule
from .data.windows import WindowBatches

RIDGES = (0.1, 1.0, 10.0, 100.0, 1000.0)


def _samples(windows: WindowBatches, count: int, lookup, half: int, seed_salt: int = 0):
    b = windows.sync_fixed(count)
    codes = torch.as_tensor(b["codes"]).long()                      # [W, F, h, w]
    target = lookup.lower(codes[..., half:, :]).flatten(0, 1)        # [N, C, h/2, w]
    ref = lookup.lower(torch.as_tensor(b["reference"]).long()[:, half:])  # [W, C, h/2, w]
    ref = ref[:, None].expand(-1, codes.shape[1], *ref.shape[1:]).flatten(0, 1)
    mel = torch.from_numpy(b["mel"]).flatten(0, 1)                   # [N, 1, 80, T]
    x = (mel.flatten(1) + 4.0) * 0.125
    x = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
    return x, (target - ref).flatten(1), mel


def _mse(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float(((pred - y) ** 2).mean())


@torch.no_grad()
def fit_audio_path(sync: SyncModule, lookup, train: WindowBatches, val: WindowBatches,
                   unseen: WindowBatches | None = None, windows: int = 3000) -> dict:
    """Fit ``sync.audio_*`` in place; returns the validation errors of the latent change."""
    half = sync.cfg.grid // 2
    x, y, _ = _samples(train, windows, lookup, half)
    mean = y.mean(dim=0)
    yc = y - mean
    rank = sync.cfg.audio_rank
    _, _, v = torch.svd_lowrank(yc, q=min(rank + 8, min(yc.shape)), niter=3)
    basis = v[:, :rank]
    t = yc @ basis
    gram, cross = x.t() @ x, x.t() @ t
    eye = torch.eye(gram.shape[0])
    xv, yv, mel_v = _samples(val, max(windows // 4, 64), lookup, half)

    def predict(w: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        return mean + (feats @ w) @ basis.t()

    best = None
    for lam in RIDGES:
        w = torch.linalg.solve(gram + lam * len(x) * 1e-3 * eye, cross)
        err = _mse(predict(w, xv), yv)
        if best is None or err < best[0]:
            best = (err, lam, w)
    err, lam, w = best
    sync.audio_coef.copy_(w.t())
    sync.audio_basis.copy_(basis)
    sync.audio_mean.copy_(mean)
    silent = torch.cat([torch.zeros_like(xv[:, :-1]), xv[:, -1:]], dim=1)
    report = {"ridge": lam, "windows": windows, "samples": len(x),
              "val_mse_audio": round(err, 5),
              "val_mse_silence": round(_mse(predict(w, silent), yv), 5),
              "val_mse_copy_reference": round(_mse(torch.zeros_like(yv), yv), 5),
              "val_mse_mean_change": round(_mse(mean.expand_as(yv), yv), 5)}
    if unseen is not None:
        xu, yu, _ = _samples(unseen, max(windows // 4, 64), lookup, half)
        silent_u = torch.cat([torch.zeros_like(xu[:, :-1]), xu[:, -1:]], dim=1)
        report.update({"unseen_mse_audio": round(_mse(predict(w, xu), yu), 5),
                       "unseen_mse_silence": round(_mse(predict(w, silent_u), yu), 5),
                       "unseen_mse_copy_reference": round(_mse(torch.zeros_like(yu), yu), 5)})
    return report
