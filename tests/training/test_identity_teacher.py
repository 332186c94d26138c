"""The torch MobileFaceNet (rebuilt from the ONNX graph) against ONNX Runtime, and the teacher
that feeds it the project's aligned crops."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from swaptalk_desktop.core.errors import ModelError
from swaptalk_desktop.faces import alignment_matrix, warp_to_crop
from swaptalk_desktop.faces import identity_net as idn
from swaptalk_desktop.training import identity_teacher as it
from swaptalk_desktop.training.archs.onnx_graph import graph_from_onnx


@pytest.fixture(scope="module")
def astronaut_and_face():
    from skimage import data

    from swaptalk_desktop.faces import MediaPipeLandmarker

    rgb = np.ascontiguousarray(data.astronaut())
    with MediaPipeLandmarker() as landmarker:
        face = max(landmarker.detect(rgb), key=lambda f: f.area)
    return rgb, face


@pytest.fixture(scope="module")
def network(identity_weights: Path):
    return it.load_identity_network(identity_weights)


@pytest.fixture(scope="module")
def ort_net(identity_weights: Path) -> idn.MobileFaceNetEmbedder:
    return idn.MobileFaceNetEmbedder(identity_weights)


def _ort_raw(ort_net, x: np.ndarray) -> np.ndarray:
    return np.concatenate([ort_net._session.run(None, {ort_net._input: x[i:i + 1]})[0]
                           for i in range(len(x))])


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_graph_matches_onnx_runtime(network, ort_net, astronaut_and_face) -> None:
    """Measured: max abs difference 4.9e-6 on outputs up to 4.7 (three random inputs and the
    aligned astronaut), cosine 1.0000000."""
    net, info = network
    assert info["sha256"] == idn.WEIGHTS_SHA256 and info["teacher"] == "mobilefacenet_128d"
    assert not list(net.parameters())  # frozen: weights are buffers only
    rgb, face = astronaut_and_face
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal((3, 3, 112, 112)).astype(np.float32),
                        idn.to_input(idn.arcface_crop(rgb, face.landmarks)[None])])
    want = _ort_raw(ort_net, x)
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()  # a batch of 4 through a batch-1 export
    print(f"torch vs ORT: max abs {np.abs(got - want).max():.2e} (outputs up to "
          f"{np.abs(want).max():.2f}), min cosine {_cosines(got, want).min():.7f}")
    assert np.abs(got - want).max() < 1e-4
    assert _cosines(got, want).min() >= 0.9999


def test_theta_samples_the_arcface_crop_out_of_a_project_crop(astronaut_and_face) -> None:
    rgb, face = astronaut_and_face
    crop = warp_to_crop(rgb, alignment_matrix(face.landmarks, 256), 256)
    theta = torch.from_numpy(it.crop_to_arcface_theta(256))[None]
    img = torch.from_numpy(crop).permute(2, 0, 1)[None].float()
    grid = torch.nn.functional.affine_grid(theta, [1, 3, 112, 112], align_corners=False)
    ours = torch.nn.functional.grid_sample(img, grid, align_corners=False)[0].permute(1, 2, 0)
    m = it.similarity_fit(it.template_points(256), idn.ARCFACE_TEMPLATE_112)
    want = cv2.warpAffine(crop, m, (112, 112), flags=cv2.INTER_LINEAR).astype(np.float32)
    inside = slice(4, 108)  # cv2 and torch treat the outermost pixels differently
    assert np.abs(ours.numpy()[inside, inside] - want[inside, inside]).mean() < 1.0


@pytest.mark.parametrize("size", [256, 64])
def test_teacher_on_an_aligned_crop_agrees_with_the_embedder(
        network, ort_net, astronaut_and_face, size: int) -> None:
    """Measured: cosine .982 at 256 px (antialiased shrink; .989 without), .944 at 64 px."""
    net, info = network
    rgb, face = astronaut_and_face
    crop = warp_to_crop(rgb, alignment_matrix(face.landmarks, size), size)
    x = (torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 127.5 - 1).requires_grad_()
    teacher = it.IdentityTeacher(net, size, info)
    e = teacher(x)
    assert e.shape == (1, 128)
    assert float(e.detach().norm()) == pytest.approx(1.0, abs=1e-5)
    cos = float(e[0].detach().numpy() @ ort_net.embed(rgb, face))
    print(f"teacher ({size} px crop) vs ORT on the photo: cosine {cos:.4f}")
    assert cos > 0.9
    (e @ torch.randn(128, 1)).sum().backward()
    grad = x.grad.abs().sum(1)[0]
    centre = slice(size // 4, 3 * size // 4)
    assert float(grad[centre, centre].min()) > 0  # every face pixel is reached
    teacher.train()
    assert not teacher.training and not list(teacher.parameters())


def test_wrong_crop_size_is_refused(network) -> None:
    net, info = network
    with pytest.raises(ValueError, match="built for 256 px crops"):
        it.IdentityTeacher(net, 256, info)(torch.zeros(1, 3, 64, 64))


def test_a_file_that_is_not_the_network_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "mobilefacenet_128d.onnx"
    fake.write_bytes(b"\x08\x08")
    with pytest.raises(ModelError, match="does not match the pinned sha256"):
        it.load_identity_network(fake)


def test_unsupported_ops_are_refused_when_built() -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    with pytest.raises(ValueError, match="ONNX op Sigmoid is not supported"):
        graph_from_onnx(helper.make_model(graph))
