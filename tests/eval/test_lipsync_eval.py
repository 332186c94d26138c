"""The held-out lip-sync measure tells a model that listens from one that does not.

Fake stage runners stand in for a model set: a "listening" sync stage gives back the frame's
own mouth when it hears sound and the reference's mouth in silence; a "deaf" one always gives
the reference's. Real prepared crops of a synthetic talking clip (the astronaut with a mouth
that opens with a syllable track) supply faces and landmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from training_data_helpers import write_talking_folder  # noqa: E402

from swaptalk_desktop.eval import lipsync_eval  # noqa: E402
from swaptalk_desktop.media.mel import SILENCE_DB_VALUE  # noqa: E402


class FakeRunners:
    """Latents are [B, 1, 2, 1] tags: row 0 names the crop of the upper half, row 1 the crop
    whose mouth the decoder draws."""

    latent_shape = (1, 2, 1)
    mel_window = 16

    def __init__(self, listens: bool) -> None:
        self.listens = listens
        self.crops: list[np.ndarray] = []

    def encode(self, crops: np.ndarray) -> np.ndarray:
        tags = []
        for c in crops:
            self.crops.append(c)
            tags.append(len(self.crops) - 1)
        t = np.array(tags, np.float32)[:, None, None, None]
        return np.concatenate([t, t], axis=2)

    def sync(self, upper, reference, mel) -> np.ndarray:
        silent = np.all(mel <= SILENCE_DB_VALUE + 1e-6, axis=(1, 2))
        own = upper[:, :, :1]
        ref = reference[:, :, 1:]
        if not self.listens:
            return ref.copy()
        return np.where(silent[:, None, None, None], ref, own)

    def decode(self, latent: np.ndarray) -> np.ndarray:
        return np.stack([self.crops[int(t)] for t in latent[:, 0, 1, 0]])


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from swaptalk_desktop.faces import default_landmarker
    from swaptalk_desktop.media.crops_io import read_crops
    from swaptalk_desktop.media.dataset_layout import (
        DatasetLayout,
        load_index,
        read_landmarks,
        read_mel,
    )
    from swaptalk_desktop.training.data.clip_prep import PrepareOptions
    from swaptalk_desktop.training.data.prepare import prepare_dataset

    videos = write_talking_folder(tmp_path_factory.mktemp("talk"), seconds=2.0)
    (videos / "hopper.mp4").unlink()
    data = tmp_path_factory.mktemp("data")
    prepare_dataset([videos], data, options=PrepareOptions(crop_size=256))
    layout, rec = DatasetLayout(data), load_index(data).clips[0]
    lm = read_landmarks(layout, rec)
    return {"crops": read_crops(layout.root / rec.crop), "landmarks":
            lm["landmarks"].astype(np.float32), "times": lm["times"],
            "mel": read_mel(layout, rec), "landmarker": default_landmarker()}


def _measure(clip, runners) -> dict:
    n = len(clip["crops"])
    return lipsync_eval.measure_clip(
        runners, clip["landmarker"], clip["crops"], clip["landmarks"], np.ones(n, bool),
        clip["mel"], clip["times"], clip="astronaut", identity="astronaut",
        per_clip=16).summary()


def test_a_model_that_listens_passes(clip):
    s = _measure(clip, FakeRunners(listens=True))
    assert s["frames_with_landmarks"] >= 10
    assert s["lmd_audio"] < 0.05  # its own mouth pasted over itself
    assert s["lmd_silence"] > 0.5 and s["lmd_frozen_first"] > 0.5
    assert s["ratio_to_silence"] < 0.1 and s["passes"]
    assert s["ssim"] > 0.99


def test_a_deaf_model_fails(clip):
    s = _measure(clip, FakeRunners(listens=False))
    assert s["ratio_to_silence"] == pytest.approx(1.0, abs=1e-6)
    assert not s["passes"]
    # the mouth region changed and nothing above it: face SSIM stays high but not perfect
    assert 0.8 < s["ssim"] < 0.999


def test_summary_and_table(clip):
    listening = _measure(clip, FakeRunners(listens=True))
    deaf = _measure(clip, FakeRunners(listens=False))
    result = lipsync_eval.summarise([listening, deaf])
    assert result["clips"] == 2 and result["clips_passing"] == 1
    assert result["share_passing"] == 0.5
    text = lipsync_eval.table(result)
    assert text.count("\n") == 1 + 2 + 1 and "1/2" in text


class FakeLips:
    """A lips stage that knows each measured frame's real lip change when it hears that frame's
    sound (``listens``), and predicts the closed mouth otherwise."""

    lips_window = 32

    def __init__(self, clip, frames, listens: bool) -> None:
        from swaptalk_desktop.engine.frames import reference_frame
        from swaptalk_desktop.faces.mouth_library import lip_shape
        from swaptalk_desktop.media import mel_windows

        marks = clip["landmarks"][frames]
        ref = reference_frame(marks, np.ones(len(marks), bool), 0)
        windows = mel_windows(clip["mel"], clip["times"][frames], window=self.lips_window)
        self.known = {w.tobytes(): d for w, d in zip(
            windows, lip_shape(marks) - lip_shape(marks[ref])[None], strict=True)}
        self.listens = listens

    def lips_with_features(self, mel):
        delta = np.zeros((len(mel), 40, 2), np.float32)
        if self.listens:
            for i, w in enumerate(mel):
                delta[i] = self.known.get(np.asarray(w, np.float32).tobytes(), 0.0)
        # divided by the gain the engine applies when it does not refit to the speaker
        from swaptalk_desktop.engine.mouth_sync import EXPRESSIVENESS
        return delta / np.float32(EXPRESSIVENESS), np.zeros((len(mel), 4), np.float32)


def _measure_library(clip, listens: bool) -> dict:
    n = len(clip["crops"])
    lib, meas = np.arange(n // 2), np.arange(n // 2, n)
    return lipsync_eval.measure_clip_library(
        FakeLips(clip, meas, listens), clip["landmarker"], clip["crops"][meas],
        clip["landmarks"][meas], clip["mel"], clip["times"][meas], clip["crops"][lib],
        clip["landmarks"][lib], lib, clip="astronaut", identity="astronaut",
        per_clip=16).summary()


def test_the_mouth_library_path_tells_listening_from_deaf(clip):
    listening, deaf = _measure_library(clip, True), _measure_library(clip, False)
    print({k: (listening[k], deaf[k]) for k in ("lmd_audio", "lmd_silence", "lmd_frozen_first")})
    assert listening["frames_with_landmarks"] >= 10
    # the real shapes pick matching mouths from the first half; silence picks a closed one
    assert listening["lmd_audio"] < 0.75 * listening["lmd_silence"]
    assert deaf["ratio_to_silence"] == pytest.approx(1.0, abs=1e-6)
    assert listening["ssim"] > 0.95
