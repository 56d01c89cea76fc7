"""PSNR and SSIM the way super-resolution papers report them: on the luma (BT.601 Y) channel, ``scale`` pixels of
border left out (the border has no neighbours to reconstruct from), SSIM with an 11-tap Gaussian window (σ 1.5)."""

from __future__ import annotations

import math

import numpy as np

SSIM_C1 = (0.01 * 255) ** 2
SSIM_C2 = (0.03 * 255) ** 2


def luma(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) float64 Y in 16..235 (ITU-R BT.601)."""
    x = rgb[..., :3].astype(np.float64)
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0


def _crop(y: np.ndarray, border: int) -> np.ndarray:
    return y[border:-border, border:-border] if border and min(y.shape) > 2 * border else y


def psnr(result: np.ndarray, reference: np.ndarray, border: int = 0) -> float:
    a, b = _crop(luma(result), border), _crop(luma(reference), border)
    mse = float(np.mean((a - b) ** 2))
    return 100.0 if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def _gaussian_valid(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter, 'valid' borders: shifted sums along each axis (float64, exact and fast)."""
    size = len(taps)
    rows = sum(taps[i] * x[i:x.shape[0] - size + 1 + i] for i in range(size))
    return sum(taps[i] * rows[:, i:rows.shape[1] - size + 1 + i] for i in range(size))


def ssim(result: np.ndarray, reference: np.ndarray, border: int = 0) -> float:
    a, b = _crop(luma(result), border), _crop(luma(reference), border)
    taps = np.exp(-0.5 * (np.arange(11) - 5.0) ** 2 / 1.5 ** 2)
    taps /= taps.sum()
    mu_a, mu_b = _gaussian_valid(a, taps), _gaussian_valid(b, taps)
    var_a = _gaussian_valid(a * a, taps) - mu_a ** 2
    var_b = _gaussian_valid(b * b, taps) - mu_b ** 2
    cov = _gaussian_valid(a * b, taps) - mu_a * mu_b
    score = ((2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)) / ((mu_a ** 2 + mu_b ** 2 + SSIM_C1) *
                                                                   (var_a + var_b + SSIM_C2))
    return float(score.mean())
