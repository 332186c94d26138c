"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real media lives beside the repository and is never copied into it (see its README.md).
SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``<repo>/../shared/data``, or skip the test where that folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_DATA}")
    return SHARED_DATA
