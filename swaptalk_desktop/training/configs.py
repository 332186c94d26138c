"""Model sizes for the SwapTalk networks: ``tiny`` (tests), ``small`` (2-core CPU), ``base`` (GPU).

Pure dataclasses without torch, so the CLI and run folders (``state.json``) can name and record a
configuration without importing the training stack. Every size keeps the engine contract: a 16x
spatially compressed latent ``[C, S/16, S/16]`` whose upper rows come from the upper codebook and
lower rows from the lower codebook, and a sync window of 16 mel frames (0.2 s at 80 frames/s).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

COMPRESSION = 16  # spatial downsampling of the VQGAN; the paper found 16x beats 8x
MEL_BINS = 80
CONFIG_NAMES = ("tiny", "small", "base")


@dataclass(frozen=True)
class VQGANConfig:
    """Face VQGAN with one shared encoder and separate upper/lower codebooks.

    ``stem_patch`` x 2**(len(channel_mults) - 1) must equal 16: a patchify stem (a stride-``p``
    ``p``x``p`` convolution) does the first downsampling cheaply, which is what lets the small
    model train at 256^2 on a CPU; the remaining stages halve the resolution each.
    """

    crop_size: int = 256
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    res_blocks: int = 1
    embed_dim: int = 64
    codebook_size: int = 512
    beta: float = 0.25
    dead_code_threshold: int = 200
    stem_patch: int = 4
    attention: bool = False  # self-attention at the latent resolution (base only: GPU cost)
    decoder_res_blocks: int | None = None  # None = res_blocks; the decoder may be heavier
    use_gan: bool = False
    disc_channels: int = 64
    disc_layers: int = 3

    def __post_init__(self) -> None:
        factor = self.stem_patch * 2 ** (len(self.channel_mults) - 1)
        if factor != COMPRESSION:
            raise ValueError(f"stem_patch {self.stem_patch} and {len(self.channel_mults)} stages "
                             f"downsample {factor}x; the engine contract needs {COMPRESSION}x")
        if self.crop_size % (2 * COMPRESSION):
            raise ValueError(f"crop_size must be a multiple of {2 * COMPRESSION} so the latent "
                             f"splits into two halves, got {self.crop_size}")

    @property
    def grid(self) -> int:
        """h = w of the latent."""
        return self.crop_size // COMPRESSION

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.base_channels * m for m in self.channel_mults)


@dataclass(frozen=True)
class IdentityConfig:
    """Student of dlib's 128-D face descriptor, differentiable so it can be an identity loss.

    The crop is resized to ``input_size`` first: identity needs no more than ~128 px, and the
    loss runs on every decoded training face.
    """

    input_size: int = 128
    width: int = 32
    stages: int = 4
    blocks_per_stage: int = 1
    embed_dim: int = 128


@dataclass(frozen=True)
class SwapConfig:
    """Transformer over the h*w target tokens with cross-attention to the source's tokens."""

    dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 2.0
    grid: int = 16  # latent h = w; sizes the learned position embedding


@dataclass(frozen=True)
class SyncConfig:
    """Lower-half code predictor: conv encoder-decoder over the latent grid + audio attention."""

    width: int = 96
    depth: int = 1  # residual blocks per U-Net level
    heads: int = 4
    mel_window: int = 16
    grid: int = 16
    # logits start from "keep the reference's lower codes", so on a face it never saw the module
    # only has to learn what the audio changes (off for sets made before it existed)
    reference_prior: bool = False
    # predict the lower latent as the reference's plus a regressed change (nearest code at the
    # output) instead of classifying codes. Experimental, off in every preset: on the shared
    # speakers it did not use the audio either (docs/training.md, "What the 2026-12-03 runs
    # showed")
    residual: bool = False
    audio_rank: int = 32  # residual mode: rank of the closed-form audio path


@dataclass(frozen=True)
class ExpertConfig:
    """Lip-sync expert on latents: F lower-half latents vs the mel window covering them."""

    width: int = 64
    frames: int = 5
    embed_dim: int = 128
    latent_dim: int = 64
    grid: int = 16
    mel_window: int = 16


@dataclass(frozen=True)
class ModelConfig:
    name: str
    vqgan: VQGANConfig
    identity: IdentityConfig
    swap: SwapConfig
    sync: SyncConfig
    expert: ExpertConfig
    mel_window: int = 16
    sync_frames: int = 5

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(C, h, w) of the engine's latent."""
        g = self.vqgan.grid
        return (self.vqgan.embed_dim, g, g)


def _assemble(name: str, vqgan: VQGANConfig, identity: IdentityConfig, swap: dict[str, Any],
              sync: dict[str, Any], expert: dict[str, Any]) -> ModelConfig:
    # The latent geometry is owned by the VQGAN; the other networks are sized from it here so a
    # size can never pair a swap or sync module with the wrong grid.
    g, c = vqgan.grid, vqgan.embed_dim
    return ModelConfig(name=name, vqgan=vqgan, identity=identity,
                       swap=SwapConfig(grid=g, **swap),
                       sync=SyncConfig(grid=g, mel_window=16, **sync),
                       expert=ExpertConfig(grid=g, latent_dim=c, mel_window=16, frames=5,
                                           **expert))


def model_config(name: str) -> ModelConfig:
    """The named size: "tiny" (tests, 64 px), "small" (CPU, 256 px), "base" (GPU, 256 px)."""
    if name == "tiny":
        return _assemble(
            "tiny",
            VQGANConfig(crop_size=64, base_channels=8, channel_mults=(1, 2, 2), res_blocks=1,
                        embed_dim=16, codebook_size=32, dead_code_threshold=20, stem_patch=4,
                        disc_channels=8, disc_layers=2),
            IdentityConfig(input_size=32, width=8, stages=3, embed_dim=128),
            dict(dim=32, depth=1, heads=2, mlp_ratio=2.0),
            dict(width=16, depth=1, heads=2, reference_prior=True),
            dict(width=16, embed_dim=32))
    if name == "small":
        return _assemble(
            "small",
            VQGANConfig(crop_size=256, base_channels=32, channel_mults=(1, 2, 2), res_blocks=1,
                        decoder_res_blocks=1, embed_dim=64, codebook_size=512,
                        dead_code_threshold=200, stem_patch=4),
            IdentityConfig(input_size=112, width=24, stages=4, embed_dim=128),
            dict(dim=128, depth=4, heads=4, mlp_ratio=2.0),
            dict(width=96, depth=1, heads=4, reference_prior=True),
            dict(width=64, embed_dim=128))
    if name == "base":
        return _assemble(
            "base",
            VQGANConfig(crop_size=256, base_channels=64, channel_mults=(1, 2, 2, 4),
                        res_blocks=2, decoder_res_blocks=3, embed_dim=256, codebook_size=1024,
                        dead_code_threshold=500, stem_patch=2, attention=True, use_gan=True,
                        disc_channels=64, disc_layers=3),
            IdentityConfig(input_size=128, width=64, stages=4, blocks_per_stage=2,
                           embed_dim=128),
            dict(dim=512, depth=8, heads=8, mlp_ratio=4.0),
            dict(width=256, depth=2, heads=8, reference_prior=True),
            dict(width=256, embed_dim=512))
    raise ValueError(f"unknown model size '{name}'; choose one of {', '.join(CONFIG_NAMES)}")


def config_to_dict(cfg: ModelConfig) -> dict[str, Any]:
    """JSON-ready form for state.json and checkpoint metadata."""
    return dataclasses.asdict(cfg)


def config_from_dict(data: dict[str, Any]) -> ModelConfig:
    """Inverse of :func:`config_to_dict`; JSON turns tuples into lists, which are restored."""
    vq = dict(data["vqgan"])
    vq["channel_mults"] = tuple(vq["channel_mults"])
    return ModelConfig(name=data["name"], vqgan=VQGANConfig(**vq),
                       identity=IdentityConfig(**data["identity"]),
                       swap=SwapConfig(**data["swap"]), sync=SyncConfig(**data["sync"]),
                       expert=ExpertConfig(**data["expert"]),
                       mel_window=data.get("mel_window", 16),
                       sync_frames=data.get("sync_frames", 5))
