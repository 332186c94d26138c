"""The MobileFaceNet identity network as a frozen, differentiable torch teacher.

The file is the one the app's evaluation uses (``faces/identity_net.py``): same pinned sha256,
same ArcFace template and normalisation. Its graph is rebuilt in torch from the ONNX protobuf
(``archs/onnx_graph.py``), never unpickled. :class:`IdentityTeacher` takes the project's own
aligned crops and warps them onto the ArcFace 112 px template inside the graph, so identity
losses see the crop the network was trained on while gradients reach every crop pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..faces import identity_net as idn
from ..faces.align import similarity_fit, template_points
from .archs.onnx_graph import OnnxGraph, graph_from_onnx

ANTIALIAS_BELOW = 0.75
"""Crops are shrunk with an antialiased resize first when the template scale is below this
(256 px crops: ~0.52), so fine texture does not alias into the embedding or its gradient."""


def load_identity_network(weights: str | Path | None = None) -> tuple[OnnxGraph, dict]:
    """The verified network (explicit path, ``$SWAPTALK_IDENTITY_WEIGHTS`` or the default
    beside the repository) and what to record about it (file, sha256)."""
    import onnx  # noqa: PLC0415 - a training extra; the app never needs it

    path = idn.require_weights(weights)
    model = onnx.load_model_from_string(idn.read_verified(path))
    info = {"teacher": idn.NAME, "file": str(path.resolve()), "sha256": idn.WEIGHTS_SHA256}
    return graph_from_onnx(model), info


def crop_to_arcface_theta(crop_size: int) -> np.ndarray:
    """``affine_grid`` theta (align_corners=False) that samples the ArcFace 112 px crop out of
    a ``crop_size`` crop on the project's template, ``float32[2, 3]``."""
    m = similarity_fit(template_points(crop_size), idn.ARCFACE_TEMPLATE_112)
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(full)[:2]  # 112 px -> crop px
    out, src = idn.INPUT_SIZE, crop_size
    # normalised output -> output px -> crop px -> normalised crop (pixel centres at k + 0.5)
    to_px = np.array([[out / 2, 0, (out - 1) / 2], [0, out / 2, (out - 1) / 2], [0, 0, 1]])
    to_norm = np.array([[2 / src, 0, 1 / src - 1], [0, 2 / src, 1 / src - 1]])
    return (to_norm @ np.vstack([inv, [0, 0, 1]]) @ to_px).astype(np.float32)


def template_scale(crop_size: int) -> float:
    m = similarity_fit(template_points(crop_size), idn.ARCFACE_TEMPLATE_112)
    return float(np.hypot(m[0, 0], m[0, 1]))


class IdentityTeacher(nn.Module):
    """Aligned crops ``[B, 3, S, S]`` in [-1, 1] -> L2-normalised ``[B, 128]`` embeddings.

    Frozen: no parameters, nothing saved in checkpoints (runs record the file's sha256).
    """

    def __init__(self, net: nn.Module, crop_size: int, info: dict | None = None) -> None:
        super().__init__()
        self.net = net
        self.crop_size = int(crop_size)
        self.info = dict(info or {})
        scale = template_scale(self.crop_size)
        # shrinking to the template's scale first leaves the warp nearly a pure shift
        self.resize = round(self.crop_size * scale) if scale < ANTIALIAS_BELOW else None
        theta = crop_to_arcface_theta(self.resize or self.crop_size)
        self.register_buffer("theta", torch.from_numpy(theta), persistent=False)
        self.register_buffer("mean", torch.from_numpy(idn.MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.from_numpy(idn.STD).view(1, 3, 1, 1),
                             persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> IdentityTeacher:
        return super().train(False)  # the graph has no training behaviour to switch to

    def arcface_input(self, x: Tensor) -> Tensor:
        """The network's normalised ``[B, 3, 112, 112]`` input for crops in [-1, 1]."""
        if x.shape[-1] != self.crop_size or x.shape[-2] != self.crop_size:
            raise ValueError(f"IdentityTeacher was built for {self.crop_size} px crops, got "
                             f"{tuple(x.shape[-2:])}")
        img = (x.float() + 1) / 2
        if self.resize is not None:
            img = F.interpolate(img, size=(self.resize, self.resize), mode="bilinear",
                                antialias=True, align_corners=False)
        n, size = img.shape[0], idn.INPUT_SIZE
        grid = F.affine_grid(self.theta.expand(n, 2, 3), [n, 3, size, size],
                             align_corners=False)
        # "border" continues the crop's own replicated edge (warp_to_crop), where black would
        # be a hard edge the real photo does not have
        aligned = F.grid_sample(img, grid, mode="bilinear", padding_mode="border",
                                align_corners=False)
        return (aligned - self.mean) / self.std

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(self.net(self.arcface_input(x)).float(), dim=1)


def identity_teacher(crop_size: int, weights: str | Path | None = None,
                     device: torch.device | str = "cpu") -> IdentityTeacher:
    net, info = load_identity_network(weights)
    return IdentityTeacher(net, crop_size, info).to(device)
