"""The alpha convention of 4-channel image tensors: RGBA in [-1, 1] with the colour *premultiplied* by alpha.

Why premultiplied: a fully transparent pixel is then one value (0, 0, 0, 0 in pixel terms) whatever colour the
artwork had there, so a VAE or U-Net spends nothing on invisible colour, and averaging, blurring or resampling
premultiplied values never bleeds hidden colour into an edge. Pixels outside the engine stay ordinary straight
RGBA uint8 (what PNG and the document hold); these functions are the one crossing between the two. A 3-channel
tensor is opaque RGB exactly as before, so every 3-channel model behaves as it always did.
"""

from __future__ import annotations

import numpy as np

from genart_desktop.core.errors import InputError

CONVENTION = "premultiplied"  # what a 4-channel model's card records as its alpha


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight RGBA uint8 (..., 4) -> premultiplied RGBA uint8 (rounded)."""
    pixels = np.asarray(rgba, np.uint8)
    alpha = pixels[..., 3:4].astype(np.float32) / 255.0
    out = pixels.copy()
    out[..., :3] = np.clip(np.round(pixels[..., :3].astype(np.float32) * alpha), 0, 255).astype(np.uint8)
    return out


def unpremultiply(levels: np.ndarray) -> np.ndarray:
    """Premultiplied RGBA levels (..., 4) float in [0, 255] -> straight RGBA uint8; colour where alpha is 0 is 0."""
    x = np.clip(np.nan_to_num(np.asarray(levels, np.float32), nan=0.0), 0.0, 255.0)
    alpha = x[..., 3:4]
    colour = np.where(alpha > 0.5, x[..., :3] * 255.0 / np.maximum(alpha, 1e-6), 0.0)
    colour = np.minimum(colour, 255.0)  # a colour above its alpha is a network's overshoot, not a colour
    out = np.empty(x.shape, np.uint8)
    out[..., :3] = np.round(colour).astype(np.uint8)
    out[..., 3] = np.round(alpha[..., 0]).astype(np.uint8)
    return out


def tensor_pixels(tensor: np.ndarray) -> np.ndarray:
    """(1, C, H, W) or (C, H, W) float in [-1, 1] -> (H, W, 3) uint8 for C = 1 or 3, straight (H, W, 4) uint8 for
    C = 4 (premultiplied in the tensor); NaN becomes 0 (-1 for alpha: transparent)."""
    x = np.asarray(tensor, dtype=np.float32)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 3 or x.shape[0] not in (1, 3, 4):
        raise InputError(f"Expected a (3, H, W) or (4, H, W) image tensor, got shape {tuple(x.shape)}.")
    if x.shape[0] != 4:
        from genart_desktop.core.images import from_tensor

        return from_tensor(x)
    levels = (np.clip(np.nan_to_num(x, nan=-1.0), -1.0, 1.0).transpose(1, 2, 0) + 1.0) * 127.5
    return unpremultiply(levels)


def pixels_tensor(pixels: np.ndarray, channels: int = 3) -> np.ndarray:
    """(H, W, 3|4) straight uint8 -> (1, channels, H, W) float32 in [-1, 1]: RGB (alpha dropped, as ever) for 3
    channels, premultiplied RGBA for 4 (an RGB picture counts as opaque)."""
    rgba = np.asarray(pixels, np.uint8)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise InputError(f"Expected an (H, W, 3) or (H, W, 4) picture, got shape {tuple(rgba.shape)}.")
    if channels == 3:
        values = rgba[..., :3]
    elif channels == 4:
        if rgba.shape[2] == 3:
            rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
        values = premultiply(rgba)
    else:
        raise InputError(f"Images have 3 or 4 channels, not {channels}.")
    x = values.astype(np.float32) / 127.5 - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def with_alpha(images: np.ndarray, channels: int) -> np.ndarray:
    """(B, 3|4, H, W) tensors in [-1, 1] given ``channels``: an opaque alpha plane added (premultiplied colour is
    the colour itself when opaque), or alpha dropped; unchanged when they already match."""
    x = np.asarray(images, np.float32)
    if x.shape[1] == channels:
        return x
    if x.shape[1] == 3 and channels == 4:
        return np.concatenate([x, np.ones_like(x[:, :1])], axis=1)
    if x.shape[1] == 4 and channels == 3:
        return x[:, :3]
    raise InputError(f"Cannot make {x.shape[1]}-channel images into {channels}-channel ones.")
