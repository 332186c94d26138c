"""Putting a generated face crop back into the frame."""

from __future__ import annotations

import cv2
import numpy as np

from .align import invert, transform_points, warp_to_crop

_MIN_STD = 1.0
_MAX_GAIN = 3.0


def _to_lab(rgb_u8: np.ndarray) -> np.ndarray:
    # float input keeps full precision: L in 0..100, a/b roughly -128..127
    return cv2.cvtColor(rgb_u8.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def color_match(generated_crop: np.ndarray, original_crop: np.ndarray,
                mask: np.ndarray) -> np.ndarray:
    """``generated_crop`` with its LAB mean and spread per channel set to the original's.

    Statistics are weighted by ``mask`` (the face, not the background), so the decoder's colour
    cast and exposure drift are removed where it will be pasted. The gain is limited so that a
    flat generated region cannot be stretched into noise.
    """
    w = np.asarray(mask, dtype=np.float64)
    total = float(w.sum())
    if total < 1.0:
        return generated_crop.copy()
    gen = _to_lab(generated_crop)
    ref = _to_lab(original_crop)
    out = np.empty_like(gen)
    for c in range(3):
        g = gen[:, :, c].astype(np.float64)
        r = ref[:, :, c].astype(np.float64)
        mu_g, mu_r = float((g * w).sum() / total), float((r * w).sum() / total)
        sd_g = float(np.sqrt((((g - mu_g) ** 2) * w).sum() / total))
        sd_r = float(np.sqrt((((r - mu_r) ** 2) * w).sum() / total))
        gain = min(sd_r / max(sd_g, _MIN_STD), _MAX_GAIN)
        out[:, :, c] = (g - mu_g) * gain + mu_r
    return _from_lab(out)


def mask_footprint(mask: np.ndarray, m: np.ndarray,
                   frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Frame box ``(x0, y0, x1, y1)`` (half-open) that holds every pixel the mask can reach."""
    ys, xs = np.nonzero(np.asarray(mask) > 0)
    if len(xs) == 0:
        return None
    # one pixel of slack: bilinear sampling reaches one pixel beyond the nonzero samples
    x0, x1 = xs.min() - 1.0, xs.max() + 1.0
    y0, y1 = ys.min() - 1.0, ys.max() + 1.0
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], dtype=np.float64)
    pts = transform_points(corners, invert(m))
    h, w = frame_shape[:2]
    fx0 = max(0, int(np.floor(pts[:, 0].min())) - 1)
    fy0 = max(0, int(np.floor(pts[:, 1].min())) - 1)
    fx1 = min(w, int(np.ceil(pts[:, 0].max())) + 2)
    fy1 = min(h, int(np.ceil(pts[:, 1].max())) + 2)
    if fx1 <= fx0 or fy1 <= fy0:
        return None
    return fx0, fy0, fx1, fy1


def paste_back(frame: np.ndarray, crop: np.ndarray, m: np.ndarray, mask: np.ndarray,
               color_match: bool = True) -> np.ndarray:
    """A new frame with ``crop`` (aligned by the frame->crop affine ``m``) blended in by ``mask``.

    Only the box around the mask's footprint is warped, so a 1080x1920 frame costs about as
    much as a small one. Every pixel where the warped mask is 0 keeps its exact input value.
    """
    frame = np.asarray(frame)
    m = np.asarray(m, dtype=np.float64)
    size = crop.shape[0]
    if crop.shape[:2] != (size, size) or mask.shape != (size, size):
        raise ValueError(f"crop {crop.shape} and mask {mask.shape} must be the same square size")
    out = frame.copy()
    box = mask_footprint(mask, m, frame.shape)
    if box is None:
        return out
    if color_match:
        crop = _color_match(crop, warp_to_crop(frame, m, size), mask)
    x0, y0, x1, y1 = box
    # frame pixel (x0 + u, y0 + v) -> crop: the same affine with the box offset folded in
    m_box = m.copy()
    m_box[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    dsize = (x1 - x0, y1 - y0)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(crop, m_box, dsize, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(np.asarray(mask, dtype=np.float32), m_box, dsize, flags=flags,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    np.clip(alpha, 0.0, 1.0, out=alpha)
    region = out[y0:y1, x0:x1]
    touched = alpha > 0
    a = alpha[touched][:, None]
    src = region[touched].astype(np.float32)
    blended = src + (warped[touched].astype(np.float32) - src) * a
    region[touched] = np.clip(blended + 0.5, 0, 255).astype(frame.dtype)
    return out


_color_match = color_match  # paste_back's parameter of the same name shadows the function
