"""Losses of the SwapTalk stages.

No pretrained perceptual network (VGG/LPIPS) is available here, so reconstruction is L1 plus
an image-gradient term (edges, which L1 alone blurs) and SSIM (local structure and contrast).
Composite losses return ``(total, terms)`` where ``terms`` holds detached parts for logging.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .archs.quantizer import codebook_commitment_loss
from .archs.vqgan import VQOut


def image_gradient_loss(x_hat: Tensor, x: Tensor) -> Tensor:
    """L1 between horizontal and vertical finite differences of the two images."""
    dx = (x_hat[..., :, 1:] - x_hat[..., :, :-1]) - (x[..., :, 1:] - x[..., :, :-1])
    dy = (x_hat[..., 1:, :] - x_hat[..., :-1, :]) - (x[..., 1:, :] - x[..., :-1, :])
    return dx.abs().mean() + dy.abs().mean()


def _gaussian_1d(size: int, sigma: float, like: Tensor) -> Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def ssim(x_hat: Tensor, x: Tensor, window: int = 11, sigma: float = 1.5, luma: bool = True
         ) -> Tensor:
    """Mean SSIM of images in [-1, 1] (computed on [0, 1]), Gaussian window, valid region.

    On luma (BT.601) by default, as SSIM is usually reported; colour is L1's job. That and one
    separable depthwise pass over the five local statistics (11 + 11 taps, not 121) keep it
    cheap: a dense RGB version costs as much at 256^2 as the small VQGAN's whole step.
    """
    a, b = (x_hat.float() + 1) / 2, (x.float() + 1) / 2
    if luma and a.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], device=a.device).view(1, 3, 1, 1)
        a, b = (a * weights).sum(1, keepdim=True), (b * weights).sum(1, keepdim=True)
    stats = torch.cat([a, b, a * a, b * b, a * b], dim=1)
    n = stats.shape[1]
    g = _gaussian_1d(window, sigma, a)
    stats = F.conv2d(stats, g.view(1, 1, 1, window).expand(n, 1, 1, window), groups=n)
    stats = F.conv2d(stats, g.view(1, 1, window, 1).expand(n, 1, window, 1), groups=n)
    mu_a, mu_b, aa, bb, ab = stats.chunk(5, dim=1)
    var_a = aa - mu_a ** 2
    var_b = bb - mu_b ** 2
    cov = ab - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)
    return (num / den).mean()


def reconstruction_loss(x_hat: Tensor, x: Tensor, *, l1_weight: float = 1.0,
                        gradient_weight: float = 0.5, ssim_weight: float = 0.2,
                        ssim_downsample: int = 2) -> tuple[Tensor, dict[str, Tensor]]:
    """L1 + image-gradient L1 + (1 - SSIM) on images in [-1, 1].

    The SSIM term is computed on ``ssim_downsample``x average-pooled images: its depthwise
    blurs are the slowest op of a CPU step at 256^2, local structure survives the pooling,
    and the full-resolution edges are the gradient term's job. ``terms["ssim"]`` is that value.
    """
    l1 = (x_hat - x).abs().mean()
    grad = image_gradient_loss(x_hat, x) if gradient_weight else x_hat.new_zeros(())
    if ssim_weight:
        f = ssim_downsample if min(x.shape[-2:]) >= 64 * ssim_downsample else 1
        a, b = (F.avg_pool2d(x_hat, f), F.avg_pool2d(x, f)) if f > 1 else (x_hat, x)
        structure = 1.0 - ssim(a, b)
    else:
        structure = x_hat.new_zeros(())
    total = l1_weight * l1 + gradient_weight * grad + ssim_weight * structure
    return total, {"l1": l1.detach(), "gradient": grad.detach(), "ssim": (1 - structure).detach()}


def vq_loss(out: VQOut | tuple[Tensor, Tensor], beta: float = 0.25) -> Tensor:
    """Codebook + commitment loss: from a VQOut (already computed) or from (z, zq)."""
    if isinstance(out, VQOut):
        return out.loss
    z, zq = out
    return codebook_commitment_loss(z, zq, beta)


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Discriminator hinge loss (taming-transformers)."""
    return 0.5 * (F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean())


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """Generator side of the hinge GAN."""
    return -fake_logits.mean()


def adaptive_gan_weight(rec_loss: Tensor, g_loss: Tensor, last_layer: nn.Parameter,
                        max_weight: float = 1e4) -> Tensor:
    """Scale the GAN loss so its gradient at the decoder's last layer matches reconstruction's
    (VQGAN, Esser et al.): keeps the adversary from swamping or vanishing as scales drift."""
    rec_grad = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)[0]
    g_grad = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
    weight = rec_grad.norm() / (g_grad.norm() + 1e-4)
    return weight.clamp(0.0, max_weight).detach()


def identity_loss(embedding: Tensor, reference: Tensor) -> Tensor:
    """Mean (1 - cosine) between identity embeddings [B, D] (reference may be [1, D])."""
    return (1.0 - F.cosine_similarity(embedding, reference.expand_as(embedding), dim=1)).mean()


def distillation_loss(student: Tensor, teacher: Tensor, relation_weight: float = 1.0
                      ) -> tuple[Tensor, dict[str, Tensor]]:
    """Identity distillation: student embeddings [B, D] vs dlib teacher descriptors [B, 128].

    dlib compares descriptors by Euclidean distance of unnormalised vectors whose norms are
    nearly constant, so direction carries the identity: 1 - cos to the teacher, plus matching
    the batch's pairwise cosine matrix (relational distillation), which is what the swap's
    identity loss consumes — who is closer to whom.
    """
    t = F.normalize(teacher.float(), dim=1)
    s = F.normalize(student.float(), dim=1)
    direct = (1.0 - (s * t).sum(dim=1)).mean()
    relation = F.mse_loss(s @ s.t(), t @ t.t()) if s.shape[0] > 1 else s.new_zeros(())
    total = direct + relation_weight * relation
    return total, {"cosine": (1.0 - direct).detach(), "relation": relation.detach()}


def sync_probability(cosine: Tensor, eps: float = 1e-6) -> Tensor:
    """Expert cosine in [-1, 1] -> probability of being in sync, in (0, 1)."""
    return ((cosine + 1.0) / 2.0).clamp(eps, 1.0 - eps)


def sync_loss(video: Tensor, audio: Tensor, target: Tensor | float = 1.0) -> Tensor:
    """Wav2Lip-style BCE on the expert's cosine (mapped to [0, 1]).

    Expert training: target 1 for in-sync pairs, 0 for shifted ones. Generator training:
    target 1, with the expert frozen. ``video``/``audio`` are L2-normalised embeddings [B, D].
    """
    prob = sync_probability((video.float() * audio.float()).sum(dim=1))
    if not isinstance(target, Tensor):
        target = torch.full_like(prob, float(target))
    return F.binary_cross_entropy(prob, target.float())


def code_loss(logits: Tensor, codes: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of sync logits [B, K, h/2, w] against the true lower codes [B, h/2, w]."""
    return F.cross_entropy(logits.float(), codes, label_smoothing=label_smoothing)


def code_accuracy(logits: Tensor, codes: Tensor) -> Tensor:
    return (logits.argmax(dim=1) == codes).float().mean()


def latent_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """MSE between latents (the swap's latent proxy loss on same-identity pairs)."""
    return F.mse_loss(prediction.float(), target.float())
