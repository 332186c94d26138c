"""SwapTalk networks as pure ``nn.Module``s: no training logic, nothing imported from trainers."""

from __future__ import annotations

from torch import nn

from ..configs import ModelConfig
from .blocks import count_parameters
from .discriminator import PatchDiscriminator
from .expert import LatentSyncExpert
from .identity import IdentityEncoder
from .quantizer import VectorQuantizer
from .swap import SwapTransformer
from .sync import SyncModule
from .vqgan import VQGAN, VQOut

MODULE_NAMES = ("vqgan", "identity", "swap", "sync", "expert")


def build_module(name: str, cfg: ModelConfig) -> nn.Module:
    """One network of a size by name ("vqgan", "identity", "swap", "sync", "expert",
    "discriminator"), wired to the VQGAN's latent geometry."""
    c, k = cfg.vqgan.embed_dim, cfg.vqgan.codebook_size
    builders = {
        "vqgan": lambda: VQGAN(cfg.vqgan),
        "identity": lambda: IdentityEncoder(cfg.identity),
        "swap": lambda: SwapTransformer(cfg.swap, c),
        "sync": lambda: SyncModule(cfg.sync, c, k),
        "expert": lambda: LatentSyncExpert(cfg.expert),
        "discriminator": lambda: PatchDiscriminator(cfg.vqgan),
    }
    if name not in builders:
        raise ValueError(f"unknown network '{name}'; choose one of {', '.join(builders)}")
    return builders[name]()


__all__ = [
    "MODULE_NAMES", "VQGAN", "IdentityEncoder", "LatentSyncExpert", "PatchDiscriminator",
    "SwapTransformer", "SyncModule", "VQOut", "VectorQuantizer", "build_module",
    "count_parameters",
]
