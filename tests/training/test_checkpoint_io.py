"""safetensors checkpoints: bit-exact round trips, resumable optimizers, atomic writes, fp16."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from training_helpers import face_like_images

from swaptalk_desktop.core.errors import ModelError, OutputError
from swaptalk_desktop.training import checkpoint_io
from swaptalk_desktop.training.archs import build_module
from swaptalk_desktop.training.checkpoint_io import (
    load_checkpoint,
    load_weights,
    read_checkpoint,
    save_checkpoint,
)


def train_steps(vq, opt, x, steps: int) -> None:
    for _ in range(steps):
        x_hat, out = vq(x)
        loss = (x_hat - x).abs().mean() + out.loss
        opt.zero_grad()
        loss.backward()
        opt.step()


def fresh(tiny, seed: int):
    torch.manual_seed(seed)
    vq, swap = build_module("vqgan", tiny), build_module("swap", tiny)
    opt = torch.optim.AdamW(list(vq.parameters()) + list(swap.parameters()), lr=1e-3,
                            betas=(0.5, 0.9), weight_decay=0.01)
    return vq, swap, opt


def test_round_trip_is_bit_exact_and_resumes_identically(tiny, tmp_path):
    x = face_like_images(2, tiny.vqgan.crop_size)
    vq, swap, opt = fresh(tiny, 0)
    train_steps(vq, opt, x, 2)
    ema = {"vqgan.decoder.conv_out.weight": vq.decoder.conv_out.weight.detach() * 0.5}
    path = save_checkpoint(tmp_path / "checkpoint.safetensors", {"vqgan": vq, "swap": swap},
                           {"main": opt}, extra=ema,
                           meta={"step": 2, "config": "tiny", "best": [1.5, None]})

    vq2, swap2, opt2 = fresh(tiny, 1)
    ckpt = load_checkpoint(path, {"vqgan": vq2, "swap": swap2}, {"main": opt2})
    for a, b in ((vq, vq2), (swap, swap2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)
    assert ckpt.meta == {"step": 2, "config": "tiny", "best": [1.5, None]}
    assert torch.equal(ckpt.extra["vqgan.decoder.conv_out.weight"],
                       ema["vqgan.decoder.conv_out.weight"])
    assert sorted(ckpt.module_names) == ["swap", "vqgan"]
    assert opt2.param_groups[0]["betas"][0] == 0.5
    # The proof that optimizer state came back whole: training continues bit for bit.
    train_steps(vq, opt, x, 1)
    train_steps(vq2, opt2, x, 1)
    assert all(torch.equal(p, q) for p, q in zip(vq.parameters(), vq2.parameters(),
                                                 strict=True))


def test_files_are_safetensors_not_pickle(tiny, tmp_path):
    vq, _, _ = fresh(tiny, 0)
    path = save_checkpoint(tmp_path / "c.safetensors", {"vqgan": vq})
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert raw[8:9] == b"{" and b"swaptalk-checkpoint" in raw[8:8 + header_len]
    assert b"\x80\x04" not in raw[:2]  # no pickle protocol header


def test_fp16_checkpoints_halve_weights_but_keep_counters(tiny, tmp_path):
    vq, _, opt = fresh(tiny, 0)
    vq.quant_upper.steps_since_used.fill_(7)
    full = save_checkpoint(tmp_path / "full.safetensors", {"vqgan": vq})
    half = save_checkpoint(tmp_path / "half.safetensors", {"vqgan": vq}, fp16=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    ckpt = read_checkpoint(half)
    assert ckpt.precision == "fp16"
    state = ckpt.module_state("vqgan")
    assert state["decoder.conv_in.weight"].dtype == torch.float16
    assert state["quant_upper.steps_since_used"].dtype == torch.long
    target = build_module("vqgan", tiny)
    load_weights(half, "vqgan", target)
    assert target.decoder.conv_in.weight.dtype == torch.float32
    assert torch.equal(target.decoder.conv_in.weight, vq.decoder.conv_in.weight.half().float())
    assert int(target.quant_upper.steps_since_used[0]) == 7
    with pytest.raises(ValueError, match="fp16"):
        save_checkpoint(tmp_path / "x.safetensors", {"vqgan": vq}, {"main": opt}, fp16=True)


def test_failed_save_keeps_the_previous_checkpoint(tiny, tmp_path, monkeypatch):
    vq, _, _ = fresh(tiny, 0)
    path = save_checkpoint(tmp_path / "checkpoint.safetensors", {"vqgan": vq}, meta={"step": 1})

    def crash(tensors, filename, metadata=None):
        save_file(dict(list(tensors.items())[:3]), filename, metadata)
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_io, "save_file", crash)
    with pytest.raises(OutputError, match="disk full"):
        save_checkpoint(path, {"vqgan": vq}, meta={"step": 2})
    assert read_checkpoint(path).meta == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.safetensors"]


def test_wrong_files_and_modules_give_actionable_errors(tiny, tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.safetensors")
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(ModelError, match="not a SwapTalk checkpoint"):
        read_checkpoint(other)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ModelError, match="not a readable"):
        read_checkpoint(broken)
    vq, _, _ = fresh(tiny, 0)
    path = save_checkpoint(tmp_path / "c.safetensors", {"vqgan": vq})
    with pytest.raises(ModelError, match="no module 'sync'"):
        load_weights(path, "sync", build_module("sync", tiny))
    with pytest.raises(ModelError, match="another --config size"):
        load_weights(path, "vqgan", build_module("swap", tiny))
    with pytest.raises(ModelError, match="without optimizer state"):
        load_checkpoint(path, optimizers={"main": torch.optim.SGD(vq.parameters(), lr=0.1)})
