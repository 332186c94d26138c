"""Small synthetic clips, test graphs and an engine context isolated from the user's folders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf

from swaptalk_desktop.engine import EngineContext
from swaptalk_desktop.eval.synthetic_clip import public_domain_face, write_moving_face_clip
from swaptalk_desktop.eval.synthetic_models import build_synthetic_set
from swaptalk_desktop.inference import ModelRegistry
from swaptalk_desktop.media import VideoReader, probe_video

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


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SWAPTALK_CACHE_DIR", str(cache))
    return cache


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


def write_speech_like(path: Path, seconds: float, loud: bool = True, rate: int = 16000) -> Path:
    """Syllable-like bursts of broadband sound (3 per second), or digital silence."""
    t = np.arange(int(rate * seconds)) / rate
    bursts = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(t.size).astype(np.float32)
    level = 0.3 if loud else 0.0
    sf.write(path, np.clip(level * bursts * noise, -1, 1), rate)
    return path


@pytest.fixture(scope="session")
def dialogue(tmp_path_factory) -> Path:
    return write_speech_like(tmp_path_factory.mktemp("audio") / "line.wav", 3.0)


def decode_all(path: Path) -> list[np.ndarray]:
    info = probe_video(path)
    with VideoReader(info) as reader:
        return list(reader.read(0, info.frame_count))


def save_png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))


def flipped_face(path: Path) -> Path:
    save_png(path, public_domain_face()[:, ::-1])
    return path
