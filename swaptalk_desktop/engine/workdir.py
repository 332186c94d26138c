"""Job folders in the user cache: the face track and finished chunks of a range render.

A folder is named by a hash of everything that determines its contents, so a rerun of the
same job (after a cancel or a crash) finds the chunks it already made, and a changed input
never reuses stale ones. Every file is written atomically, so a file that exists is complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from ..core.atomic import write_bytes_atomic, write_text_atomic
from ..core.cachedir import cache_root

DEFAULT_CACHE_LIMIT_BYTES = 5 * 1024**3


def stable_key(parts: dict) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class JobFolder:
    def __init__(self, key: str, root: Path | None = None):
        self.key = key
        self.path = (root or cache_root()) / "jobs" / key

    def ensure(self, description: dict) -> JobFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        meta = self.path / "job.json"
        if not meta.exists():
            write_text_atomic(meta, json.dumps(description, indent=2, default=str))
        os.utime(self.path)  # the cache is pruned least-recently-used first
        return self

    def chunk_path(self, index: int) -> Path:
        return self.path / f"chunk_{index:05d}.npz"

    def has_chunk(self, index: int) -> bool:
        return self.chunk_path(index).exists()

    def save_chunk(self, index: int, crops: np.ndarray, present: np.ndarray) -> None:
        buf = io.BytesIO()
        np.savez(buf, crops=crops, present=present)
        write_bytes_atomic(self.chunk_path(index), buf.getvalue())

    def load_chunk(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        with np.load(self.chunk_path(index), allow_pickle=False) as data:
            return data["crops"], data["present"]

    def finished_chunks(self) -> list[int]:
        return sorted(int(p.stem.split("_")[1]) for p in self.path.glob("chunk_*.npz"))


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def prune_cache(limit_bytes: int = DEFAULT_CACHE_LIMIT_BYTES, keep: set[Path] | None = None,
                root: Path | None = None) -> int:
    """Delete least-recently-used job folders until the cache fits; returns bytes freed."""
    jobs = (root or cache_root()) / "jobs"
    if not jobs.is_dir():
        return 0
    keep = {p.resolve() for p in (keep or set())}
    folders = sorted((p for p in jobs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    sizes = {p: folder_size(p) for p in folders}
    total, freed = sum(sizes.values()), 0
    for folder in folders:
        if total <= limit_bytes:
            break
        if folder.resolve() in keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        total -= sizes[folder]
        freed += sizes[folder]
    return freed


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
