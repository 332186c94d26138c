"""sha256 verification of model files before anything parses them.

Model files come from downloads, user folders and training runs; a truncated or tampered file
must be refused before ONNX Runtime (or anything else) parses it. ONNX files are protobuf, never
pickles, and nothing here deserialises the file at all.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from ..core.errors import ModelError
from .manifest import ModelEntry

_CHUNK = 1 << 20

# (path, size, mtime_ns, ctime_ns, inode) -> sha256 of files already hashed in this process.
# ctime and inode join the brief's (path, size, mtime_ns) because mtime can be set back by
# any tool (os.utime) and some file systems store it with one- or two-second resolution.
_memo: dict[tuple[str, int, int, int, int], str] = {}
_memo_lock = threading.Lock()


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so multi-GB weights need no extra memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _missing(entry: ModelEntry) -> ModelError:
    return ModelError(f"model file {entry.path} (id {entry.id}) is missing; reinstall or "
                      "re-export it")


def verify_file(entry: ModelEntry, *, use_memo: bool = True) -> None:
    """Raise ModelError unless ``entry.path`` exists and hashes to ``entry.sha256``.

    With ``use_memo`` a file already hashed in this process is not re-read while its stat key is
    unchanged; pass False when the user explicitly asks to verify their models.
    """
    path = entry.path
    try:
        key = _stat_key(path)
    except FileNotFoundError:
        raise _missing(entry) from None
    except OSError as err:
        raise ModelError(f"cannot read model file {path} (id {entry.id}): "
                         f"{err.strerror or err}") from err
    if not os.path.isfile(path):
        raise ModelError(f"model file {path} (id {entry.id}) is not a regular file; "
                         "reinstall or re-export it")
    with _memo_lock:
        actual = _memo.get(key) if use_memo else None
    if actual is None:
        try:
            actual = sha256_file(path)
        except FileNotFoundError:
            raise _missing(entry) from None
        except OSError as err:
            raise ModelError(f"cannot read model file {path} (id {entry.id}): "
                             f"{err.strerror or err}") from err
        with _memo_lock:
            _memo[key] = actual
    if actual != entry.sha256:
        raise ModelError(
            f"model file {path} (id {entry.id}) does not match the sha256 in its manifest "
            f"(expected {entry.sha256[:12]}…, got {actual[:12]}…); reinstall or re-export it")


def check_file(entry: ModelEntry, *, use_memo: bool = False) -> tuple[bool, str]:
    """(ok, message) for listing many models without stopping at the first bad one."""
    try:
        verify_file(entry, use_memo=use_memo)
    except ModelError as err:
        return False, str(err)
    return True, f"model file {entry.path} (id {entry.id}) matches its sha256"


def forget_verified() -> None:
    """Drop the in-process memo (tests, or after the user replaced files)."""
    with _memo_lock:
        _memo.clear()
