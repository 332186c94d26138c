"""Sample inputs for the demo, generated from public-domain stills that installed packages ship.

What to make (sizes, the spoken line, file names) is the recipe ``resources/demo/recipe.json``,
read through ``importlib.resources`` so an installed app makes the same inputs as a checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.resources import read_json
from .synthetic_clip import write_moving_face_clip

RECIPE = "demo/recipe.json"


@cache
def recipe() -> dict[str, Any]:
    return read_json(RECIPE)


FPS: int = recipe()["fps"]
LINE: str = recipe()["line"]


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
    name = recipe()["photo"]["matplotlib_sample"]
    return Path(matplotlib.cbook.get_sample_data(name, asfileobj=False))


def make_demo_inputs(folder: Path, line: str = LINE) -> DemoInputs:
    """A 640x480 clip of the astronaut (talking: her mouth opens and closes), Grace Hopper's
    photo, and ``line`` spoken by espeak-ng.

    The clip is long enough for one second of untouched picture on each side of the edited
    range, which covers the spoken line exactly.
    """
    import soundfile as sf

    from .tts import speak_to_file
    spec = recipe()
    clip_spec = spec["clip"]
    fps = spec["fps"]
    folder.mkdir(parents=True, exist_ok=True)
    dialogue = speak_to_file(folder / spec["dialogue"]["file"], line)
    spoken = sf.info(str(dialogue)).duration
    start = clip_spec["lead_in_frames"]
    stop = start + int(np.ceil(spoken * fps))
    clip = write_moving_face_clip(folder / clip_spec["file"],
                                  n=stop + clip_spec["lead_out_frames"],
                                  width=clip_spec["width"], height=clip_spec["height"], fps=fps,
                                  face_height=clip_spec["face_height"],
                                  talking=clip_spec["talking"], tone=clip_spec["tone"])
    photo = folder / spec["photo"]["file"]
    photo.write_bytes(grace_hopper_photo().read_bytes())
    return DemoInputs(clip, photo, dialogue, start=start, stop=stop)
