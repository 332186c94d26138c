"""Synthetic talking-head material for the training tests (public-domain faces only).

Two identities: NASA's astronaut portrait (scikit-image) and Grace Hopper's (matplotlib), both
public domain. Each clip moves the face around a little and opens its mouth with the loudness
of a generated syllable track (tone + noise bursts), so the lip-sync expert has a real
audio-visual correlation to learn. Nothing here is real footage.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

FPS = 25
RATE = 16_000


def faces() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    from skimage import data

    hopper = cv2.cvtColor(cv2.imread(str(matplotlib.cbook.get_sample_data(
        "grace_hopper.jpg", asfileobj=False))), cv2.COLOR_BGR2RGB)
    return {"astronaut": np.ascontiguousarray(data.astronaut()), "hopper": hopper}


def mouth_geometry(rgb: np.ndarray, landmarker) -> tuple[np.ndarray, float]:
    face = max(landmarker.detect(rgb), key=lambda f: f.area)
    lm = face.landmarks
    centre = (lm[13] + lm[14]) / 2
    width = float(np.linalg.norm(lm[61] - lm[291]))
    return centre, width


def syllable_track(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(wave float32 at 16 kHz, loudness envelope in 0..1 per video frame)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    gate = np.zeros(n, np.float32)
    t = 0.0
    while t < seconds:
        on = rng.uniform(0.08, 0.25)
        start = int(t * RATE)
        gate[start:start + int(on * RATE)] = 1.0
        t += on + rng.uniform(0.06, 0.25)
    gate = np.convolve(gate, np.hanning(400) / np.hanning(400).sum(), mode="same")
    time = np.arange(n) / RATE
    f0 = 120 + 60 * rng.random()
    voice = sum(np.sin(2 * math.pi * f0 * k * time) / k for k in range(1, 6))
    wave = (0.25 * gate * (voice + 0.3 * rng.standard_normal(n))).astype(np.float32)
    frames = int(seconds * FPS)
    env = np.array([gate[int(i * RATE / FPS):int((i + 1) * RATE / FPS)].mean()
                    for i in range(frames)], np.float32)
    return wave, env


def talking_frames(face: np.ndarray, centre: np.ndarray, width: float, env: np.ndarray,
                   size: int = 192, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((len(env), size, size, 3), np.uint8)
    h, w = face.shape[:2]
    base = np.full((size, size, 3), (70, 90, 120), np.uint8)
    phase = rng.uniform(0, 2 * math.pi)
    for i, e in enumerate(env):
        img = face.copy()
        axes = (int(0.42 * width), max(1, int(e * 0.32 * width)))
        cv2.ellipse(img, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, (55, 15, 25), -1)
        t = i / max(len(env) - 1, 1)
        scale = size * 0.95 / h * (1 + 0.04 * math.sin(2 * math.pi * t + phase))
        m = np.array([[scale, 0, size / 2 - scale * w / 2 + 6 * math.sin(2 * math.pi * t)],
                      [0, scale, size / 2 - scale * h / 2 + 4 * math.cos(2 * math.pi * t)]])
        out[i] = cv2.warpAffine(img, m, (size, size), dst=base.copy(),
                                borderMode=cv2.BORDER_TRANSPARENT)
    return out


def write_talking_clip(path: Path, face: np.ndarray, centre: np.ndarray, width: float,
                       seconds: float, seed: int) -> Path:
    from swaptalk_desktop.media import AudioClip, make_test_clip

    wave, env = syllable_track(seconds, seed)
    frames = talking_frames(face, centre, width, env, seed=seed)
    # lossless: the decoded frames are exact whatever the (threaded) encoder decides
    make_test_clip(path, frames, fps=FPS, crf=0,
                   audio=AudioClip(samples=wave[:, None], sample_rate=RATE, path=None))
    return path


def write_talking_folder(folder: Path, seconds: float = 3.0, landmarker=None) -> Path:
    """``folder/astronaut.mp4`` and ``folder/hopper.mp4``: two identities, one clip each."""
    from swaptalk_desktop.faces import default_landmarker

    landmarker = landmarker or default_landmarker()
    folder.mkdir(parents=True, exist_ok=True)
    for seed, (name, face) in enumerate(faces().items()):
        centre, width = mouth_geometry(face, landmarker)
        write_talking_clip(folder / f"{name}.mp4", face, centre, width, seconds, seed)
    return folder


# -- shared, built once per test session (the session-scoped tmp factory outlives modules) --

_CACHE: dict[str, Path] = {}


def synthetic_videos(tmp_path_factory) -> Path:
    if "videos" not in _CACHE:
        _CACHE["videos"] = write_talking_folder(tmp_path_factory.mktemp("talking"))
    return _CACHE["videos"]


def tiny_dataset(tmp_path_factory) -> Path:
    """The two synthetic clips prepared at 64 px (the tiny config's crop size)."""
    if "data" not in _CACHE:
        from swaptalk_desktop.training.data.clip_prep import PrepareOptions
        from swaptalk_desktop.training.data.prepare import prepare_dataset

        out = tmp_path_factory.mktemp("tiny_data")
        prepare_dataset([synthetic_videos(tmp_path_factory)], out,
                        options=PrepareOptions(crop_size=64))
        _CACHE["data"] = out
    return _CACHE["data"]


def settings(run_dir: Path, steps: int, batch: int = 8, lr: float = 2e-3, **kw):
    from swaptalk_desktop.training.trainer.settings import TrainSettings

    base = dict(run_dir=run_dir, steps=steps, batch=batch, lr=lr, seed=0, device="cpu",
                threads=1, log_every=5, validate_every=steps, checkpoint_every=steps,
                warmup_steps=5, val_samples=16)
    base.update(kw)
    return TrainSettings(**base)


def context(data: Path, s, runs: dict[str, Path] | None = None, **kw):
    from swaptalk_desktop.training.configs import model_config
    from swaptalk_desktop.training.stages import StageContext
    from swaptalk_desktop.training.trainer.distributed import setup

    return StageContext(config=model_config("tiny"), settings=s, dist=setup("cpu"), data=data,
                        runs=dict(runs or {}), **kw)


STAGE_PLAN = {  # steps, batch, lr, frozen inputs
    "vqgan": (60, 8, 2e-3, ()),
    "identity": (40, 16, 1e-3, ()),
    "expert": (200, 32, 1e-3, ("vqgan",)),
    "sync": (40, 8, 1e-3, ("vqgan", "expert")),
    "swap": (40, 8, 1e-3, ("vqgan", "identity")),
}


def tiny_runs(tmp_path_factory) -> Path:
    """All five stages trained briefly on the tiny dataset, in dependency order."""
    if "runs" not in _CACHE:
        from swaptalk_desktop.training.trainer.loop import train_stage

        data = tiny_dataset(tmp_path_factory)
        root = tmp_path_factory.mktemp("tiny_runs")
        for stage, (steps, batch, lr, needs) in STAGE_PLAN.items():
            s = settings(root / stage, steps, batch, lr)
            # the expert's sync term stays off in these 40 steps: a random tiny expert's pull
            # would hide whether the latent regression itself learns (validation still scores
            # with the expert)
            options = {"sync_start": steps} if stage == "sync" else {}
            train_stage(stage, context(data, s, {k: root / k for k in needs}, options=options))
        _CACHE["runs"] = root
    return _CACHE["runs"]


def read_log(run: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
