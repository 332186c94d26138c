"""One recipe per training stage, looked up by name."""

from __future__ import annotations

from .base import Recipe, StageContext

STAGE_ORDER = ("vqgan", "identity", "expert", "sync", "swap")


def recipe_for(name: str) -> type[Recipe]:
    if name == "vqgan":
        from .vqgan import VQGANRecipe
        return VQGANRecipe
    if name == "identity":
        from .identity import IdentityRecipe
        return IdentityRecipe
    if name == "expert":
        from .expert import ExpertRecipe
        return ExpertRecipe
    if name == "sync":
        from .sync import SyncRecipe
        return SyncRecipe
    if name == "swap":
        from .swap import SwapRecipe
        return SwapRecipe
    raise ValueError(f"unknown stage '{name}'; choose one of {', '.join(STAGE_ORDER)}")


__all__ = ["STAGE_ORDER", "Recipe", "StageContext", "recipe_for"]
