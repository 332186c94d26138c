import numpy as np
import pytest

from swaptalk_desktop.eval.metrics import identity_consistency, lmd, psnr, ssim


def test_psnr_and_ssim_order_degradations():
    from skimage import data
    img = data.astronaut()
    rng = np.random.default_rng(0)
    light = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    assert psnr(img, img) == float("inf") and ssim(img, img) == pytest.approx(1.0)
    assert psnr(img, light) > psnr(img, heavy) > 15
    assert 1.0 > ssim(img, light) > ssim(img, heavy) > 0.1
    from skimage.metrics import structural_similarity
    luma = lambda x: x.astype(float) @ [0.299, 0.587, 0.114]  # noqa: E731
    ref = structural_similarity(luma(img), luma(heavy), data_range=255, gaussian_weights=True,
                                sigma=1.5, use_sample_covariance=False)
    assert ssim(img, heavy) == pytest.approx(ref, abs=0.01)


def test_lmd_ignores_translation_and_measures_mouth_shape():
    rng = np.random.default_rng(1)
    real = rng.uniform(0, 256, (4, 478, 2))
    shifted = real + np.array([7.0, -3.0])
    assert lmd(shifted, real) == pytest.approx(0.0, abs=1e-9)
    from swaptalk_desktop.eval.metrics import MOUTH_POINTS
    opened = real.copy()
    opened[:, MOUTH_POINTS, 1] *= 1.1
    assert lmd(opened, real) > 1.0
    opened[1] = np.nan
    assert np.isfinite(lmd(opened, real))


def test_consistency_is_100_for_identical_embeddings():
    e = np.tile(np.arange(1, 129, dtype=float), (5, 1))
    assert identity_consistency(e) == pytest.approx(100.0)
    rng = np.random.default_rng(2)
    assert identity_consistency(rng.normal(size=(20, 128))) < 20
