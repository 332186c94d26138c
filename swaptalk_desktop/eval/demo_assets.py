"""Sample inputs for the demo, generated from public-domain stills that installed packages ship."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .synthetic_clip import write_moving_face_clip

FPS = 25


@dataclass(frozen=True)
class DemoInputs:
    clip: Path
    photo: Path
    dialogue: Path
    start: int
    stop: int


def grace_hopper_photo() -> Path:
    """Rear Admiral Grace Hopper's portrait (US Navy, public domain), shipped with matplotlib."""
    import matplotlib.cbook
    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def synthetic_dialogue(path: Path, seconds: float, rate: int = 16000) -> Path:
    """Syllable-like bursts of voiced sound: a stand-in line of dialogue."""
    import soundfile as sf
    t = np.arange(int(rate * seconds)) / rate
    syllables = np.clip(np.sin(2 * np.pi * 3.2 * t), 0, None) ** 0.5
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    sf.write(path, (0.25 * syllables * voice / 3).astype(np.float32), rate)
    return path


def make_demo_inputs(folder: Path, seconds: float = 4.0) -> DemoInputs:
    folder.mkdir(parents=True, exist_ok=True)
    n = int(seconds * FPS)
    clip = write_moving_face_clip(folder / "sample_clip.mp4", n=n, width=640, height=480,
                                  fps=FPS, face_height=0.95)
    photo = folder / "identity_grace_hopper.jpg"
    photo.write_bytes(grace_hopper_photo().read_bytes())
    dialogue = synthetic_dialogue(folder / "new_dialogue.wav", seconds=2.0)
    return DemoInputs(clip, photo, dialogue, start=FPS, stop=3 * FPS)
