"""``swaptalk eval --swap``: the face-swap identity measure names the embedder that measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swaptalk_desktop.cli.eval_cmd import table
from swaptalk_desktop.eval import model_eval
from swaptalk_desktop.faces import identity_net


@pytest.fixture(scope="module")
def swap_result(ctx, clip: Path, face_photo: Path, identity_weights: Path) -> dict:
    # the "source" set pastes the photo's face, so the swap really changes who is seen
    return model_eval.face_swap(ctx, "source", clip, face_photo, 0, 12, every=4,
                                embedder=identity_net.MobileFaceNetEmbedder(identity_weights))


def test_swap_is_measured_by_mobilefacenet(swap_result: dict, identity_weights: Path) -> None:
    assert swap_result["embedder"] == {"embedder": "mobilefacenet_128d",
                                       "file": str(identity_weights),
                                       "sha256": identity_net.WEIGHTS_SHA256}
    assert swap_result["frames"] == 3
    for key in ("cos_to_photo", "cos_to_original_face", "original_cos_to_photo"):
        assert -1 <= swap_result[key] <= 1
    assert np.isfinite(swap_result["consistency"])
    line = table({"model_set": "source", "swap": [swap_result]}).splitlines()[-1]
    assert "(3 frames, mobilefacenet_128d): cos to photo" in line


def test_default_embedder_is_the_network_when_found(identity_weights: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(identity_net.WEIGHTS_ENV, raising=False)
    assert identity_net.embedder_info(identity_net.best_embedder())["embedder"] == \
        "mobilefacenet_128d"


def test_without_the_network_dlib_measures(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(identity_net.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(identity_net, "default_weights_path", lambda: tmp_path / "absent.onnx")
    chosen = identity_net.best_embedder()
    assert identity_net.embedder_info(chosen) == {"embedder": "dlib_resnet_v1"}
