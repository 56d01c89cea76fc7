"""The soft selection mask and the shapes that build it (rectangle, ellipse, lasso polygon, brush stroke, feather).

A mask is ``(H, W)`` uint8: 0 is outside, 255 inside, values between are the soft (feathered or anti-aliased) edge.
An all-zero mask means "no selection", so tools act on the whole canvas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from genart_desktop.core.errors import InputError
from genart_desktop.document.geometry import Rect

MODES = ("replace", "add", "subtract", "intersect")


class Selection:
    """The document's selection mask. Change it through the document's undoable ``select_*`` methods."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._mask = np.zeros((height, width), np.uint8)
        self._bounds: Rect | None = None
        self._bounds_valid = True

    @property
    def mask(self) -> np.ndarray:
        view = self._mask.view()
        view.flags.writeable = False
        return view

    @property
    def is_empty(self) -> bool:
        return self.bounds() is None

    def bounds(self) -> Rect | None:
        """The smallest rectangle holding every selected pixel, or None when nothing is selected."""
        if not self._bounds_valid:
            self._bounds = mask_bounds(self._mask)
            self._bounds_valid = True
        return self._bounds

    def coverage(self, rect: Rect) -> np.ndarray | None:
        """The mask inside ``rect`` as float32 0..1, or None when there is no selection (everything is editable)."""
        if self.is_empty:
            return None
        return self._mask[rect.slices()].astype(np.float32) * np.float32(1.0 / 255.0)

    # Used by the document's selection commands; not for views.
    def _raw(self) -> np.ndarray:
        return self._mask

    def _touched(self) -> None:
        self._bounds_valid = False

    def copy_mask(self) -> np.ndarray:
        return self._mask.copy()


def mask_bounds(mask: np.ndarray) -> Rect | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return Rect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError(f"Unknown selection mode {mode!r}; choose one of {', '.join(MODES)}.")
    return mode


def combine(old: np.ndarray, shape: np.ndarray, mode: str) -> np.ndarray:
    """Merge a new shape mask into the existing selection."""
    check_mode(mode)
    if mode == "replace":
        return shape.copy()
    if mode == "add":
        return np.maximum(old, shape)
    if mode == "subtract":
        return np.minimum(old, 255 - shape)
    return np.minimum(old, shape)


def rect_mask(width: int, height: int, rect: Rect) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[rect.clamp(width, height).slices()] = 255
    return mask


def ellipse_mask(width: int, height: int, rect: Rect) -> np.ndarray:
    """An anti-aliased ellipse inscribed in ``rect`` (one-pixel edge from the signed distance estimate)."""
    mask = np.zeros((height, width), np.uint8)
    area = rect.clamp(width, height)
    if area.is_empty() or rect.width <= 0 or rect.height <= 0:
        return mask
    rx, ry = rect.width / 2.0, rect.height / 2.0
    cx, cy = rect.x + rx, rect.y + ry
    xs = (np.arange(area.x, area.right, dtype=np.float32) + 0.5 - cx)[None, :]
    ys = (np.arange(area.y, area.bottom, dtype=np.float32) + 0.5 - cy)[:, None]
    f = (xs / rx) ** 2 + (ys / ry) ** 2 - 1.0
    grad = 2.0 * np.sqrt((xs / rx**2) ** 2 + (ys / ry**2) ** 2)
    signed = -f / np.maximum(grad, 1e-6)
    mask[area.slices()] = np.clip((signed + 0.5) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return mask


def polygon_mask(width: int, height: int, points: Sequence[tuple[float, float]]) -> np.ndarray:
    """A lasso: the polygon through ``points`` (even-odd fill), anti-aliased by 4x supersampling its bounding box."""
    mask = np.zeros((height, width), np.uint8)
    if len(points) < 3:
        return mask
    area = Rect.bounding(points, pad=1).clamp(width, height)
    if area.is_empty():
        return mask
    ss = 4 if area.area <= 4_000_000 else (2 if area.area <= 16_000_000 else 1)
    image = Image.new("L", (area.width * ss, area.height * ss), 0)
    # PIL indexes subpixel centres; a canvas coordinate X lies at X * ss - 0.5 in that index space.
    scaled = [((x - area.x) * ss - 0.5, (y - area.y) * ss - 0.5) for x, y in points]
    ImageDraw.Draw(image).polygon(scaled, fill=255)
    big = np.asarray(image, dtype=np.uint16)
    small = big.reshape(area.height, ss, area.width, ss).mean(axis=(1, 3))
    mask[area.slices()] = np.clip(small + 0.5, 0, 255).astype(np.uint8)
    return mask


def stroke_mask(width: int, height: int, points: Sequence[tuple[float, float]], radius: float) -> np.ndarray:
    """The area swept by a round brush of ``radius`` along ``points`` (anti-aliased discs spaced radius/4)."""
    from genart_desktop.document.brush import dab_mask, interpolate_path

    mask = np.zeros((height, width), np.uint8)
    if not points or radius <= 0:
        return mask
    diameter = 2.0 * radius
    canvas = Rect(0, 0, width, height)
    for x, y in interpolate_path(points, max(radius / 4.0, 0.5)):
        dab, x0, y0 = dab_mask(diameter, 1.0, x, y)
        rect = Rect(x0, y0, dab.shape[1], dab.shape[0])
        inside = rect.intersect(canvas)
        if inside.is_empty():
            continue
        src = inside.translated(-x0, -y0)
        region = mask[inside.slices()]
        np.maximum(region, (dab[src.slices()] * 255.0 + 0.5).astype(np.uint8), out=region)
    return mask


def _box_blur_axis(data: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a window of ``2 * radius + 1`` along ``axis`` with clamped edges, by cumulative sums (O(n))."""
    if radius <= 0:
        return data
    pad = [(0, 0)] * data.ndim
    pad[axis] = (radius + 1, radius)
    padded = np.pad(data, pad, mode="edge")
    csum = np.cumsum(padded, axis=axis, dtype=np.float64)
    n = data.shape[axis]
    hi = np.take(csum, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
    lo = np.take(csum, np.arange(0, n), axis=axis)
    return ((hi - lo) / (2 * radius + 1)).astype(np.float32)


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soften the edge by ``radius`` px: three separable box blurs approximating a Gaussian with sigma = radius / 2."""
    if radius <= 0:
        return mask.copy()
    bounds = mask_bounds(mask)
    if bounds is None:
        return mask.copy()
    h, w = mask.shape
    sigma = radius / 2.0
    box = max(int(round((math.sqrt(4.0 * sigma * sigma + 1.0) - 1.0) / 2.0)), 1)
    margin = 3 * box + 2
    area = Rect(bounds.x - margin, bounds.y - margin, bounds.width + 2 * margin, bounds.height + 2 * margin).clamp(w, h)
    data = mask[area.slices()].astype(np.float32)
    for _ in range(3):
        data = _box_blur_axis(data, box, 0)
        data = _box_blur_axis(data, box, 1)
    out = mask.copy()
    out[area.slices()] = np.clip(data + 0.5, 0, 255).astype(np.uint8)
    return out
