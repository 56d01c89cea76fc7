"""Blend modes and straight-alpha compositing in float32.

The separable W3C compositing formula: with backdrop (Cb, ab) and source (Cs, as),
``co = as(1-ab)Cs + as ab B(Cb, Cs) + (1-as) ab Cb``, ``ao = as + ab(1-as)``, result colour ``co / ao``.
Colours are straight (not premultiplied) in [0, 1]; mixing them without the alpha weights gives dark fringes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genart_desktop.document.layer import check_blend_mode

INV255 = np.float32(1.0 / 255.0)


def _multiply(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb * cs


def _screen(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb + cs - cb * cs


def _overlay(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Hard light with the layers swapped: the backdrop decides between multiply and screen.
    low = 2.0 * cb * cs
    high = 1.0 - 2.0 * (1.0 - cb) * (1.0 - cs)
    return np.where(cb <= 0.5, low, high)


def _darken(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.minimum(cb, cs)


def _lighten(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.maximum(cb, cs)


def _add(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.minimum(cb + cs, 1.0)


BLEND_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray] | None] = {
    "normal": None,
    "multiply": _multiply,
    "screen": _screen,
    "overlay": _overlay,
    "darken": _darken,
    "lighten": _lighten,
    "add": _add,
}


def to_float(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 RGBA -> (rgb (H, W, 3), alpha (H, W, 1)) float32 in [0, 1]."""
    data = pixels.astype(np.float32) * INV255
    return data[..., :3], data[..., 3:4]


def to_uint8(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    out = np.empty(rgb.shape[:2] + (4,), np.uint8)
    np.clip(rgb * 255.0 + 0.5, 0, 255, out=rgb)
    out[..., :3] = rgb
    out[..., 3:4] = np.clip(alpha * 255.0 + 0.5, 0, 255)
    return out


def blend_into(rgb: np.ndarray, alpha: np.ndarray, source: np.ndarray, opacity: float, mode: str) -> tuple[
        np.ndarray, np.ndarray]:
    """Composite uint8 RGBA ``source`` (times ``opacity``) with ``mode`` over the float backdrop; returns the result."""
    check_blend_mode(mode)
    cs, a_s = to_float(source)
    if opacity < 1.0:
        a_s = a_s * np.float32(opacity)
    func = BLEND_FUNCTIONS[mode]
    inv_as = 1.0 - a_s
    if func is None:
        co = cs * a_s + rgb * (alpha * inv_as)
    else:
        co = cs * (a_s * (1.0 - alpha)) + func(rgb, cs) * (a_s * alpha) + rgb * (inv_as * alpha)
    ao = a_s + alpha * inv_as
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ao > 0, co / np.maximum(ao, 1e-12), 0.0).astype(np.float32)
    return out, ao


def composite_layers(layers: list[tuple[np.ndarray, float, str]], shape: tuple[int, int],
                     background: np.ndarray | None = None) -> np.ndarray:
    """Flatten ``(pixels, opacity, mode)`` tuples (bottom first, same ``shape``) into straight RGBA uint8."""
    h, w = shape
    if background is None:
        rgb = np.zeros((h, w, 3), np.float32)
        alpha = np.zeros((h, w, 1), np.float32)
    else:
        rgb, alpha = to_float(background)
    started = background is not None
    for pixels, opacity, mode in layers:
        if opacity <= 0.0:
            continue
        if not started and opacity >= 1.0 and mode == "normal":
            rgb, alpha = to_float(pixels)  # a normal layer over nothing is itself
            started = True
            continue
        rgb, alpha = blend_into(rgb, alpha, pixels, opacity, mode)
        started = True
    return to_uint8(rgb, alpha)
