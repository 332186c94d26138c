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


LINE = "Thanks for watching. We will be right back after the break."


def make_demo_inputs(folder: Path, line: str = LINE) -> DemoInputs:
    """A 640x480 clip of the astronaut (talking: her mouth opens and closes), Grace Hopper's
    photo, and ``line`` spoken by espeak-ng.

    The clip is long enough for one second of untouched picture on each side of the edited
    range, which covers the spoken line exactly.
    """
    import soundfile as sf

    from .tts import speak_to_file
    folder.mkdir(parents=True, exist_ok=True)
    dialogue = speak_to_file(folder / "new_dialogue.wav", line)
    spoken = sf.info(str(dialogue)).duration
    start = FPS
    stop = start + int(np.ceil(spoken * FPS))
    clip = write_moving_face_clip(folder / "sample_clip.mp4", n=stop + FPS, width=640,
                                  height=480, fps=FPS, face_height=0.95, talking=True,
                                  tone=False)
    photo = folder / "identity_grace_hopper.jpg"
    photo.write_bytes(grace_hopper_photo().read_bytes())
    return DemoInputs(clip, photo, dialogue, start=start, stop=stop)
