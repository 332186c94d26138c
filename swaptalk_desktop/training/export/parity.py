"""Parity check: the trained torch modules vs the exported graphs under ONNX Runtime.

Bounds (``Bounds``), and why:
- Continuous values (decoded images, pre-quantization latents, sync logits): max abs error
  <= ``fp32`` x max(1, max |reference|) (1e-3: images live in [-1, 1], so that is an eighth of
  a uint8 level; latents and logits are judged relative to their own scale).
- Codes (quantized outputs): comparing final outputs element-wise would fail on legitimate
  argmin/argmax tie flips, where two codes are equally near and summation order decides. A
  mismatch is accepted only when the continuous error explains it: for the nearest-code search,
  torch's distance gap between the two codes must be <= 2 |z - z'| |e_a - e_b| (the most a
  perturbation z -> z' can move the gap), for sync's argmax the logit gap must be <= twice the
  largest logit error at that position. Any unexplained mismatch fails, and so does a mismatch
  rate above ``max_mismatch_fraction`` (a systematic difference, not ties).
- fp16 graphs get the looser ``fp16`` bound (5e-2) and a rate limit of
  ``fp16_mismatch_fraction``: half precision moves continuous values by ~1e-3 relative, which
  flips every near-tie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Bounds:
    fp32: float = 1e-3
    fp16: float = 5e-2
    max_mismatch_fraction: float = 0.01
    fp16_mismatch_fraction: float = 0.25


@dataclass(frozen=True)
class ParityRow:
    stage: str
    precision: str  # "fp32" | "fp16"
    inputs: str  # "random" | "real"
    provider: str  # "CPU" | "CUDA"
    compared: str  # what the max/mean error is measured on
    max_abs: float
    mean_abs: float
    bound: float
    codes: int = 0  # code positions compared (quantized stages)
    mismatches: int = 0
    unexplained: int = 0
    ok: bool = True
    note: str = ""


@dataclass
class ParityReport:
    set_id: str
    rows: list[ParityRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    def failures(self) -> list[ParityRow]:
        return [r for r in self.rows if not r.ok]

    def max_abs(self, stage: str, precision: str = "fp32") -> float:
        values = [r.max_abs for r in self.rows if r.stage == stage and r.precision == precision]
        return max(values) if values else float("nan")

    def mismatch_rate(self, stage: str, precision: str = "fp32") -> float:
        rows = [r for r in self.rows if r.stage == stage and r.precision == precision]
        codes = sum(r.codes for r in rows)
        return sum(r.mismatches for r in rows) / codes if codes else 0.0

    def table(self) -> str:
        head = ("stage", "prec", "inputs", "EP", "compared", "max abs", "mean abs", "bound",
                "code mismatch", "ok")
        lines = [head]
        for r in self.rows:
            codes = f"{r.mismatches}/{r.codes} ({r.unexplained} unexpl.)" if r.codes else "-"
            lines.append((r.stage, r.precision, r.inputs, r.provider, r.compared,
                          f"{r.max_abs:.2e}", f"{r.mean_abs:.2e}", f"{r.bound:.1e}", codes,
                          "yes" if r.ok else "NO"))
        widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
        text = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                for row in lines]
        text.insert(1, "  ".join("-" * w for w in widths))
        text += [f"note: {n}" for n in self.notes]
        text.append(f"parity {'PASSED' if self.ok else 'FAILED'} for set '{self.set_id}'")
        return "\n".join(text)

    def to_json(self) -> dict[str, Any]:
        return {"set_id": self.set_id, "ok": self.ok, "rows": [asdict(r) for r in self.rows],
                "notes": list(self.notes)}


class OnnxRunner:
    """ORT sessions for the parity check, one per (file, provider), each with exactly one
    provider so a result is never silently computed somewhere else."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], Any] = {}

    def session(self, path: Path | str, provider: str = "CPU") -> Any:
        import onnxruntime as ort

        key = (str(path), provider)
        if key not in self._sessions:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            ep = "CUDAExecutionProvider" if provider == "CUDA" else "CPUExecutionProvider"
            session = ort.InferenceSession(str(path), options, providers=[ep])
            if ep not in session.get_providers():
                raise RuntimeError(f"onnxruntime could not use {provider} for {path}")
            self._sessions[key] = session
        return self._sessions[key]

    def run(self, path: Path | str, feeds: Mapping[str, np.ndarray], provider: str = "CPU"
            ) -> np.ndarray:
        """The graph's single output."""
        arrays = {k: np.ascontiguousarray(v, np.float32) for k, v in feeds.items()}
        return self.session(path, provider).run(None, arrays)[0]


def nearest_codes(vectors: np.ndarray, book: np.ndarray) -> np.ndarray:
    """Index of the codebook row nearest to each channel vector of [B, C, H, W] (float64)."""
    flat = vectors.transpose(0, 2, 3, 1).astype(np.float64)
    b64 = book.astype(np.float64)
    d = (b64 * b64).sum(1) - 2.0 * flat @ b64.T
    return d.argmin(-1)


def _unexplained_vq(z: np.ndarray, z_onnx: np.ndarray, book: np.ndarray,
                    torch_codes: np.ndarray, onnx_codes: np.ndarray) -> tuple[int, int]:
    """(mismatches, unexplained) for one half quantized with ``book``."""
    diff = np.argwhere(torch_codes != onnx_codes)
    unexplained = 0
    b64 = book.astype(np.float64)
    for bi, y, x in diff:
        v = z[bi, :, y, x].astype(np.float64)
        a, b = b64[onnx_codes[bi, y, x]], b64[torch_codes[bi, y, x]]
        gap = (a @ a - 2 * v @ a) - (b @ b - 2 * v @ b)
        delta = np.linalg.norm(v - z_onnx[bi, :, y, x].astype(np.float64))
        allowed = 2.0 * delta * np.linalg.norm(a - b) + 1e-6 * (1.0 + abs(a @ a) + abs(b @ b))
        unexplained += int(gap > allowed)
    return len(diff), unexplained


def _unexplained_argmax(logits: np.ndarray, logits_onnx: np.ndarray, torch_codes: np.ndarray,
                        onnx_codes: np.ndarray) -> tuple[int, int]:
    diff = np.argwhere(torch_codes != onnx_codes)
    unexplained = 0
    for bi, y, x in diff:
        ref = logits[bi, :, y, x].astype(np.float64)
        err = np.abs(ref - logits_onnx[bi, :, y, x]).max()
        gap = ref[torch_codes[bi, y, x]] - ref[onnx_codes[bi, y, x]]
        unexplained += int(gap > 2.0 * err + 1e-6 * (1.0 + np.abs(ref).max()))
    return len(diff), unexplained


def compare_continuous(reference: np.ndarray, onnx_out: np.ndarray, bound: float
                       ) -> tuple[float, float, float, bool]:
    """(max abs, mean abs, scaled bound, within bound)."""
    err = np.abs(reference.astype(np.float64) - onnx_out.astype(np.float64))
    scaled = bound * max(1.0, float(np.abs(reference).max()))
    max_abs = float(err.max()) if err.size else 0.0
    return max_abs, float(err.mean()) if err.size else 0.0, scaled, bool(max_abs <= scaled)


def check_quantized(stage: str, precision: str, inputs: str, provider: str,
                    continuous: np.ndarray, continuous_onnx: np.ndarray,
                    final_onnx: np.ndarray, books: tuple[np.ndarray, ...],
                    torch_codes: np.ndarray, bounds: Bounds) -> ParityRow:
    """A row for encode/swap (``books`` = upper, lower: rows split in half) or sync
    (``books`` = (lower,), ``continuous`` = logits, codes = argmax)."""
    bound = bounds.fp16 if precision == "fp16" else bounds.fp32
    rate = bounds.fp16_mismatch_fraction if precision == "fp16" else bounds.max_mismatch_fraction
    max_abs, mean_abs, scaled, cont_ok = compare_continuous(continuous, continuous_onnx, bound)
    if stage == "sync":
        onnx_codes = nearest_codes(final_onnx, books[0])
        mism, unexp = _unexplained_argmax(continuous, continuous_onnx, torch_codes, onnx_codes)
        compared = "logits"
        snap = float(np.abs(final_onnx - _lookup(books[0], onnx_codes)).max())
    else:
        h = torch_codes.shape[1] // 2
        mism = unexp = 0
        snap = 0.0
        for rows, book in ((slice(0, h), books[0]), (slice(h, None), books[1])):
            onnx_codes = nearest_codes(final_onnx[:, :, rows], book)
            m, u = _unexplained_vq(continuous[:, :, rows], continuous_onnx[:, :, rows], book,
                                   torch_codes[:, rows], onnx_codes)
            mism, unexp = mism + m, unexp + u
            snap = max(snap, float(np.abs(final_onnx[:, :, rows] - _lookup(book, onnx_codes))
                                   .max()))
        compared = "pre-quant latent"
    total = int(torch_codes.size)
    # The output must be exact codebook rows: anything else means the graph did not quantize.
    exact = snap <= 1e-6 * max(1.0, float(np.abs(final_onnx).max()))
    ok = cont_ok and unexp == 0 and mism <= rate * total and exact
    note = "" if exact else f"output is not a codebook row (off by {snap:.2e})"
    return ParityRow(stage, precision, inputs, provider, compared, max_abs, mean_abs, scaled,
                     total, mism, unexp, ok, note)


def check_image(precision: str, inputs: str, provider: str, reference: np.ndarray,
                onnx_out: np.ndarray, bounds: Bounds) -> ParityRow:
    bound = bounds.fp16 if precision == "fp16" else bounds.fp32
    max_abs, mean_abs, scaled, ok = compare_continuous(reference, onnx_out, bound)
    return ParityRow("decode", precision, inputs, provider, "image", max_abs, mean_abs, scaled,
                     ok=ok)


def _lookup(book: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return book[codes].transpose(0, 3, 1, 2)
