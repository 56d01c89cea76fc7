"""Image values in a model's own range: the one place pixels become network input and network output pixels.

Models come from many places: ours and most GANs use [-1, 1], torchvision-style networks [0, 1], the ONNX zoo's fast
style networks [0, 255]. A card declares the range of each image tensor (docs/model-card.md); the engine feeds and
reads through these functions, so no pipeline assumes [-1, 1]. Output is clipped to the declared range, because a
network's overshoot is not a colour. For [-1, 1] the arithmetic is exactly the one the engine always used (``p /
127.5 - 1`` and ``(x + 1) * 127.5``), so existing models give byte-identical pixels; for [0, 255] it is the identity.
"""

from __future__ import annotations

import numpy as np

ValueRange = tuple[float, float]
UNIT = (-1.0, 1.0)


def _scale(value_range: ValueRange) -> float:
    """Pixel levels per model unit (127.5 for [-1, 1], 255 for [0, 1], 1 for [0, 255])."""
    low, high = value_range
    return 255.0 / (float(high) - float(low))


def pixels_to_model(pixels: np.ndarray, value_range: ValueRange = UNIT) -> np.ndarray:
    """uint8 (or float 0..255) pixels -> float32 in ``value_range``."""
    low = np.float32(value_range[0])
    x = pixels.astype(np.float32) / np.float32(_scale(value_range))
    return x + low if low else x


def model_to_levels(values: np.ndarray, value_range: ValueRange = UNIT, out: np.ndarray | None = None) -> np.ndarray:
    """float model output -> float32 pixel levels 0..255 (clipped to the range first; NaN becomes the middle; not
    rounded). Works in place when ``out`` is ``values``."""
    low, high = (np.float32(v) for v in value_range)
    x = np.asarray(values, dtype=np.float32)
    x = np.nan_to_num(x, copy=out is None, nan=(low + high) / 2, posinf=high, neginf=low)
    np.clip(x, low, high, out=x)
    if low:
        x -= low
    x *= np.float32(_scale(value_range))
    return x


def model_to_pixels(values: np.ndarray, value_range: ValueRange = UNIT) -> np.ndarray:
    """float model output -> uint8 pixels, rounded to the nearest level."""
    levels = model_to_levels(values, value_range)
    np.rint(levels, out=levels)
    return np.clip(levels, 0, 255).astype(np.uint8)


def convert(values: np.ndarray, source: ValueRange, target: ValueRange) -> np.ndarray:
    """Float values from one range to another (no clipping: used between networks, e.g. a VAE decoder's image
    handed on as [-1, 1])."""
    if tuple(source) == tuple(target):
        return np.asarray(values, dtype=np.float32)
    scale = (target[1] - target[0]) / (source[1] - source[0])
    return ((np.asarray(values, dtype=np.float32) - np.float32(source[0])) * np.float32(scale)
            + np.float32(target[0])).astype(np.float32, copy=False)
