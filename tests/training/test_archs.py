"""The SwapTalk networks: shapes, the split-halves guarantee, sync's inputs, code restarts."""

from __future__ import annotations

import dataclasses
import inspect
import time

import pytest
import torch
from training_helpers import face_like_images

from swaptalk_desktop.training.archs import (
    VQGAN,
    IdentityEncoder,
    LatentSyncExpert,
    SwapTransformer,
    SyncModule,
    VectorQuantizer,
    build_module,
    count_parameters,
)
from swaptalk_desktop.training.configs import (
    CONFIG_NAMES,
    VQGANConfig,
    config_from_dict,
    config_to_dict,
    model_config,
)


def latents(vq: VQGAN, n: int, seed: int = 0) -> torch.Tensor:
    g = vq.cfg.grid
    codes = torch.randint(0, vq.cfg.codebook_size, (n, g, g),
                          generator=torch.Generator().manual_seed(seed))
    return vq.codes_to_latent(codes).detach()


def test_sizes_build_and_round_trip_through_json():
    for name in CONFIG_NAMES:
        cfg = model_config(name)
        assert cfg.latent_shape[1] == cfg.vqgan.crop_size // 16
        assert cfg.swap.grid == cfg.sync.grid == cfg.expert.grid == cfg.vqgan.grid
        assert cfg.expert.latent_dim == cfg.vqgan.embed_dim
        assert config_from_dict(config_to_dict(cfg)) == cfg
    assert model_config("small").vqgan.codebook_size == 512
    assert model_config("base").vqgan.codebook_size == 1024
    with pytest.raises(ValueError, match="unknown model size"):
        model_config("huge")
    with pytest.raises(ValueError, match="16x"):
        VQGANConfig(stem_patch=2, channel_mults=(1, 2, 2))


def test_tiny_shapes(tiny, modules):
    s, (c, h, w) = tiny.vqgan.crop_size, tiny.latent_shape
    x = face_like_images(3, s)
    vq = modules["vqgan"]
    x_hat, out = vq(x)
    assert x_hat.shape == x.shape
    assert out.latent.shape == (3, c, h, w) and out.codes.shape == (3, h, w)
    assert out.codes.dtype == torch.long and out.loss.ndim == 0
    assert set(out.perplexity) == {"upper", "lower"}
    vq.eval()
    # Quantized means: every latent vector is a row of its half's codebook.
    assert torch.equal(vq.encode(x).latent, vq.codes_to_latent(vq.encode(x).codes))

    emb = modules["identity"](x)
    assert emb.shape == (3, 128)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))

    z = out.latent.detach()
    swap = modules["swap"]
    assert swap(z, z[:1]).shape == (3, c, h, w)  # one source for the batch, as exported
    assert torch.equal(swap(z, z), z)  # zero-initialised residual: starts as the identity

    sync = modules["sync"]
    mel = torch.rand(3, 1, 80, tiny.mel_window) * 8 - 4
    logits = sync(z[:, :, :h // 2], z, mel)
    assert logits.shape == (3, tiny.vqgan.codebook_size, h // 2, w)
    soft, hard = sync.predict_latent(z[:, :, :h // 2], z, mel, vq.quant_lower.codebook)
    assert soft.shape == hard.shape == (3, c, h // 2, w)
    codes = logits.argmax(dim=1)
    assert torch.equal(hard, vq.quant_lower.lookup(codes))

    expert = modules["expert"]
    lower = torch.stack([z[:, :, h // 2:]] * tiny.sync_frames, dim=1)
    video, audio = expert(lower, mel)
    assert video.shape == audio.shape == (3, tiny.expert.embed_dim)
    score = expert.score(lower, mel)
    assert score.shape == (3,) and bool((score.abs() <= 1 + 1e-5).all())


def test_halves_are_encoded_separately(tiny, modules):
    vq = modules["vqgan"].eval()
    s, half_rows = tiny.vqgan.crop_size, tiny.vqgan.grid // 2
    x = face_like_images(2, s)
    changed_lower = x.clone()
    changed_lower[:, :, s // 2:] = torch.rand_like(changed_lower[:, :, s // 2:]) * 2 - 1
    changed_upper = x.clone()
    changed_upper[:, :, :s // 2] = -x[:, :, :s // 2]
    with torch.no_grad():
        z, z_lo, z_up = (vq.encode_continuous(t) for t in (x, changed_lower, changed_upper))
        codes, codes_lo = vq.encode(x).codes, vq.encode(changed_lower).codes
    # Not "close": identical. The lip shape must not reach the upper tokens at all.
    assert torch.equal(z[:, :, :half_rows], z_lo[:, :, :half_rows])
    assert torch.equal(codes[:, :half_rows], codes_lo[:, :half_rows])
    assert not torch.equal(z[:, :, half_rows:], z_lo[:, :, half_rows:])
    assert torch.equal(z[:, :, half_rows:], z_up[:, :, half_rows:])
    # ...and the two halves really use their own codebooks.
    assert not torch.equal(vq.quant_upper.codebook, vq.quant_lower.codebook)


def test_sync_never_takes_the_target_lower_half():
    for fn in (SyncModule.forward, SyncModule.features, SyncModule.predict_latent):
        params = list(inspect.signature(fn).parameters)
        assert params[:4] == ["self", "upper", "reference", "mel"], fn
        assert not any("lower" in p or "target" in p for p in params)


def test_sync_output_depends_on_audio_and_reference(tiny, modules):
    sync = modules["sync"].eval()
    vq = modules["vqgan"]
    h = tiny.vqgan.grid
    z = latents(vq, 2)
    mel = torch.rand(2, 1, 80, tiny.mel_window) * 8 - 4
    with torch.no_grad():
        sync.set_codebook(vq.quant_lower.codebook)
        base = sync(z[:, :, :h // 2], z, mel)
        assert not torch.allclose(base, sync(z[:, :, :h // 2], z, -mel))
        assert not torch.allclose(base, sync(z[:, :, :h // 2], latents(vq, 2, seed=5), mel))


def test_straight_through_reaches_the_encoder(tiny, modules):
    vq = modules["vqgan"]
    x = face_like_images(2, tiny.vqgan.crop_size)
    x_hat, out = vq(x)
    (x_hat - x).abs().mean().backward(retain_graph=True)
    assert vq.encoder.stem.weight.grad is not None
    assert vq.encoder.stem.weight.grad.abs().sum() > 0
    out.loss.backward()
    assert vq.quant_upper.codebook.grad.abs().sum() > 0


def test_dead_code_restart_revives_unused_codes(seed):
    q = VectorQuantizer(num_codes=16, dim=4, dead_threshold=3).train()
    # Data on 2 clusters far from the codebook's init near the origin.
    centres = torch.tensor([[2.0, 0, 0, 0], [0, -2.0, 0, 0]])
    data = (centres[torch.arange(64) % 2] + 0.3 * torch.randn(64, 4)).T.reshape(1, 4, 8, 8)
    for _ in range(3):
        q(data)
    dead = q.dead_codes()
    assert 0 < dead.numel() < 16
    error_before = (q(data)[0] - data).pow(2).mean()
    restarted = q.restart_dead_codes(data, generator=torch.Generator().manual_seed(0))
    assert restarted == dead.numel()
    assert int(q.steps_since_used[dead].max()) == 0
    chosen = set(q.nearest(data).unique().tolist())
    assert chosen & set(dead.tolist())  # revived codes now win vectors
    assert (q(data)[0] - data).pow(2).mean() < 0.5 * error_before
    assert q.restart_dead_codes(data) == 0  # nothing is dead right after a restart


def test_vqgan_restart_covers_both_books(tiny, modules):
    vq = modules["vqgan"].train()
    vq.quant_upper.steps_since_used.fill_(tiny.vqgan.dead_code_threshold)
    with torch.no_grad():
        z = vq.encode_continuous(face_like_images(2, tiny.vqgan.crop_size))
    counts = vq.restart_dead_codes(z)
    assert counts == {"upper": tiny.vqgan.codebook_size, "lower": 0}


def test_tiny_forward_backward_is_fast(tiny, modules):
    vq = modules["vqgan"]
    x = face_like_images(4, tiny.vqgan.crop_size)
    best = float("inf")
    for _ in range(4):
        start = time.perf_counter()
        x_hat, out = vq(x)
        ((x_hat - x).abs().mean() + out.loss).backward()
        best = min(best, time.perf_counter() - start)
    assert best < 0.2


def test_parameter_counts_are_ordered():
    counts = {name: {m: count_parameters(build_module(m, model_config(name)))
                     for m in ("vqgan", "swap", "sync", "expert", "identity")}
              for name in ("tiny", "small")}
    assert all(v < 100_000 for v in counts["tiny"].values())
    assert 400_000 < counts["small"]["vqgan"] < 1_500_000  # the CPU-trainable size


def test_build_module_rejects_unknown_names(tiny):
    with pytest.raises(ValueError, match="unknown network"):
        build_module("vocoder", tiny)
    assert isinstance(build_module("identity", tiny), IdentityEncoder)
    assert isinstance(build_module("swap", tiny), SwapTransformer)
    assert isinstance(build_module("expert", tiny), LatentSyncExpert)
    assert isinstance(build_module("discriminator", tiny)(torch.zeros(1, 3, 64, 64)),
                      torch.Tensor)


def test_identity_encoder_resizes_any_crop(tiny):
    enc = IdentityEncoder(dataclasses.replace(tiny.identity, input_size=32)).eval()
    a = enc(face_like_images(2, 64))
    b = enc(face_like_images(2, 96))
    assert a.shape == b.shape == (2, 128)


def test_sync_reference_prior_keeps_the_reference_codes(tiny, modules):
    """With the prior on and a head that says nothing, the predicted lower codes are the
    reference's own: a face the module never saw starts from its own mouth."""
    import copy

    vq = modules["vqgan"]
    sync = copy.deepcopy(modules["sync"])
    assert tiny.sync.reference_prior
    h = tiny.vqgan.grid
    z = latents(vq, 3, seed=9)
    reference = vq.quantize(z)
    mel = torch.rand(3, 1, 80, tiny.mel_window) * 8 - 4
    with torch.no_grad():
        sync.head.weight.zero_()
        sync.head.bias.zero_()
        sync.set_codebook(vq.quant_lower.codebook)
        codes = sync(z[:, :, :h // 2], reference.latent, mel).argmax(dim=1)
    assert torch.equal(codes, reference.codes[:, h // 2:])


def test_untrained_residual_sync_keeps_the_reference_codes(tiny, modules):
    """The experimental residual mode: untrained, it gives back the reference's own lower codes,
    and its closed-form audio path moves them only once fitted."""
    vq = modules["vqgan"]
    cfg = dataclasses.replace(tiny.sync, residual=True, reference_prior=False, audio_rank=4)
    sync = SyncModule(cfg, tiny.vqgan.embed_dim, tiny.vqgan.codebook_size)
    h = tiny.vqgan.grid
    z = latents(vq, 3, seed=9)
    reference = vq.quantize(z)
    mel = torch.rand(3, 1, 80, tiny.mel_window) * 8 - 4
    with torch.no_grad():
        sync.set_codebook(vq.quant_lower.codebook)
        codes = sync(z[:, :, :h // 2], reference.latent, mel).argmax(dim=1)
        assert torch.equal(codes, reference.codes[:, h // 2:])
        sync.audio_mean.normal_(std=3.0)
        assert not torch.equal(sync(z[:, :, :h // 2], reference.latent, mel).argmax(dim=1),
                               codes)
