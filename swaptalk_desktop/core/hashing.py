"""Content hashes of user files: exact (sha256) and a cheap fingerprint for huge media."""

from __future__ import annotations

import hashlib
from pathlib import Path

_SAMPLE = 1 << 20


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def content_fingerprint(path: Path) -> str:
    """Cheap identity of a possibly huge media file: its size and first and last MiB."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(_SAMPLE))
        if size > 2 * _SAMPLE:
            fh.seek(size - _SAMPLE)
            h.update(fh.read(_SAMPLE))
    return h.hexdigest()
