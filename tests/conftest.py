"""Fixtures shared by every test package.

Every test runs with its own cache, data and log folders, so the suite never reads or writes
the user's real model folder or render cache.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import render_helpers

from swaptalk_desktop.engine import EngineContext
from swaptalk_desktop.eval.synthetic_clip import write_moving_face_clip
from swaptalk_desktop.eval.synthetic_models import build_synthetic_set
from swaptalk_desktop.inference import ModelRegistry

# Real media lives beside the repository and is never copied into it (see its README.md).
SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``<repo>/../shared/data``, or skip the test where that folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def identity_weights() -> Path:
    """The MobileFaceNet identity network beside the repository (never shipped), or skip."""
    from swaptalk_desktop.faces.identity_net import default_weights_path

    path = default_weights_path()
    if not path.is_file():
        pytest.skip(f"identity network not found at {path}")
    return path


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture
def ffmpeg_decodes_cleanly(ffmpeg_exe: str) -> Callable[[Path], None]:
    """Assert that the independent ffmpeg decodes a file completely without a message."""

    def check(path: Path) -> None:
        result = subprocess.run([ffmpeg_exe, "-v", "error", "-i", str(path), "-f", "null", "-"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip() == ""

    return check


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("user")  # outside tmp_path, which tests list and compare
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("SWAPTALK_CACHE_DIR", str(home / "cache" / "swaptalk-desktop"))
    monkeypatch.delenv("SWAPTALK_MODELS_DIR", raising=False)
    return home


# Each set changes the crop in a way a test can see: "tint" shifts colour, "source" replaces
# the face with the identity photo's, "mel" makes the lower face brighter with louder audio.
SETS = {
    "tint": dict(tint=(0.5, -0.3, -0.3), swap_mode="identity", sync_mode="reference"),
    "source": dict(swap_mode="source", sync_mode="reference"),
    "mel": dict(swap_mode="identity", sync_mode="mel"),
}


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for i, (name, kwargs) in enumerate(SETS.items()):
        build_synthetic_set(root / name, set_id=name, make_default=i == 0, **kwargs)
    return root


@pytest.fixture(scope="session")
def ctx(models_dir) -> EngineContext:
    dirs = [models_dir / name for name in SETS]
    return EngineContext(ModelRegistry(extra_dirs=dirs, include_builtin=False,
                                       include_user=False))


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    return write_moving_face_clip(folder / "presenter.mp4", n=40, width=640, height=480,
                                  face_height=0.95)


@pytest.fixture(scope="session")
def face_photo(tmp_path_factory) -> Path:
    """Grace Hopper's portrait (US Navy, public domain) shipped with matplotlib."""
    import matplotlib.cbook
    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def dialogue(tmp_path_factory) -> Path:
    return render_helpers.write_speech_like(tmp_path_factory.mktemp("audio") / "line.wav", 3.0)
