"""The render cache as the settings dialog shows it: where it is, how big, and emptying it."""

from __future__ import annotations

from pathlib import Path

from ..core.cachedir import cache_root
from ..engine.workdir import folder_size, prune_cache


def cache_folder() -> Path:
    return cache_root()


def cache_usage() -> int:
    """Bytes in the cache folder (0 before anything was cached)."""
    root = cache_root()
    return folder_size(root) if root.exists() else 0


def clear_cache() -> int:
    """Remove every job folder; returns the bytes freed."""
    return prune_cache(limit_bytes=0)
