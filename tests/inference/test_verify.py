"""sha256 checks: tampered and missing files are refused before any session is built."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from swaptalk_desktop.core.errors import ModelError
from swaptalk_desktop.inference import (
    SessionCache,
    StageRunners,
    forget_verified,
    load_manifest,
    sha256_file,
    verify_file,
)
from swaptalk_desktop.inference.providers import CPU_EP


@pytest.fixture
def private_set(tmp_path: Path, synthetic_dir: Path):
    """A copy of the shared synthetic folder that a test may damage."""
    folder = tmp_path / "models"
    shutil.copytree(synthetic_dir, folder)
    return load_manifest(folder / "manifest.json").sets["synthetic"]


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    blob = os.urandom(3 * (1 << 20) + 17)  # spans several read chunks
    (tmp_path / "blob").write_bytes(blob)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(blob).hexdigest()


def test_tampered_file_is_refused_naming_the_file(private_set) -> None:
    entry = private_set.stages["encode"][0]
    verify_file(entry)
    flip_one_byte(entry.path)
    # The in-process memo is keyed on the file's stat, so a rewrite is always re-hashed.
    with pytest.raises(ModelError) as err:
        verify_file(entry)
    message = str(err.value)
    assert str(entry.path) in message and f"id {entry.id}" in message
    assert "does not match the sha256 in its manifest" in message
    assert f"expected {entry.sha256[:12]}" in message and "reinstall or re-export it" in message


def test_same_size_same_mtime_tamper_is_still_caught(private_set) -> None:
    entry = private_set.stages["decode"][0]
    verify_file(entry)
    st = entry.path.stat()
    flip_one_byte(entry.path)
    os.utime(entry.path, ns=(st.st_atime_ns, st.st_mtime_ns))  # hide the change from mtime
    with pytest.raises(ModelError, match="does not match the sha256"):
        verify_file(entry)


def test_missing_file(private_set) -> None:
    entry = private_set.stages["swap"][0]
    entry.path.unlink()
    with pytest.raises(ModelError, match=r"model file .*synthetic-swap\.onnx \(id synthetic-swap"
                                         r"\) is missing"):
        verify_file(entry)


def test_session_is_not_built_from_a_tampered_file(private_set) -> None:
    forget_verified()
    entry = private_set.stages["decode"][0]
    flip_one_byte(entry.path)
    cache = SessionCache()
    with pytest.raises(ModelError, match="does not match the sha256"):
        cache.get(entry, (CPU_EP,))
    assert len(cache) == 0
    runners = StageRunners(private_set, provider="cpu", cache=cache)
    with pytest.raises(ModelError, match="synthetic-decode.onnx"):
        runners.decode(runners.encode(__import__("numpy").zeros((1, 256, 256, 3), "uint8")))
