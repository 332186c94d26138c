"""Where derived data (render chunks, waveform peaks, thumbnails) is cached for the user."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_root() -> Path:
    """``$SWAPTALK_CACHE_DIR``, else the platform's user cache folder for the app."""
    env = os.environ.get("SWAPTALK_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("swaptalk-desktop"))
