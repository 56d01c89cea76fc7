"""Brush settings and dab masks.

A dab is the brush tip stamped once. Masks are cached per (diameter, hardness, sub-pixel offset) so a stroke costs
a dictionary lookup plus arithmetic on the dab's own bounding box, never on the whole canvas.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from genart_desktop.core.errors import InputError

SUBPIXEL = 4  # dab centres are quantised to 1/4 pixel
_CACHE_LIMIT = 1024
_cache: OrderedDict[tuple[float, float, int, int], np.ndarray] = OrderedDict()


@dataclass(frozen=True)
class BrushSettings:
    """``size`` is the diameter in px; ``spacing`` the distance between dabs as a fraction of the size."""

    size: float = 16.0
    hardness: float = 0.8
    opacity: float = 1.0
    flow: float = 1.0
    spacing: float = 0.1
    color: tuple[int, int, int] = (0, 0, 0)
    pressure_size: bool = True
    pressure_opacity: bool = False

    def __post_init__(self) -> None:
        if not (0.5 <= float(self.size) <= 2048):
            raise InputError(f"Brush size must be from 0.5 to 2048 px, got {self.size}.")
        for name in ("hardness", "opacity", "flow"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise InputError(f"Brush {name} must be from 0 to 1, got {value}.")
        if not 0.01 <= float(self.spacing) <= 10.0:
            raise InputError(f"Brush spacing must be from 0.01 to 10 (a fraction of the size), got {self.spacing}.")
        color = tuple(int(c) for c in self.color)
        if len(color) < 3 or any(not 0 <= c <= 255 for c in color[:3]):
            raise InputError(f"Brush colour must be three values from 0 to 255, got {self.color!r}.")
        object.__setattr__(self, "color", color[:3])

    def dab_size(self, pressure: float) -> float:
        scale = pressure if self.pressure_size else 1.0
        return max(float(self.size) * scale, 1.0)

    def dab_alpha(self, pressure: float) -> float:
        scale = pressure if self.pressure_opacity else 1.0
        return float(self.flow) * scale


def _quantise_diameter(diameter: float) -> float:
    diameter = max(float(diameter), 1.0)
    if diameter < 16:
        return round(diameter * 4) / 4
    if diameter < 64:
        return round(diameter * 2) / 2
    return float(round(diameter))


def _render_mask(diameter: float, hardness: float, qx: int, qy: int) -> np.ndarray:
    radius = diameter / 2.0
    half = int(math.ceil(radius)) + 1
    n = 2 * half + 1
    offsets = np.arange(n, dtype=np.float32) + 0.5 - half
    dx = offsets - qx / SUBPIXEL
    dy = offsets - qy / SUBPIXEL
    dist = np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2)
    edge = np.clip(radius - dist + 0.5, 0.0, 1.0)  # one-pixel anti-aliased rim
    inner = radius * hardness
    soft_width = radius - inner
    if soft_width > 0.5:
        t = np.clip((dist - inner) / soft_width, 0.0, 1.0)
        falloff = 1.0 - t * t * (3.0 - 2.0 * t)  # smoothstep from the hard core to the rim
        mask = falloff * edge
    else:
        mask = edge
    if diameter < 2.0:
        mask = mask * (diameter * diameter / 4.0) / max(float(mask.sum()) / math.pi, 1e-6)
    return np.ascontiguousarray(np.clip(mask, 0.0, 1.0).astype(np.float32))


def dab_mask(diameter: float, hardness: float, x: float, y: float) -> tuple[np.ndarray, int, int]:
    """Coverage (float32 0..1) of a dab centred at canvas point ``(x, y)``; returns ``(mask, x0, y0)`` where the
    mask's top-left pixel is canvas pixel ``(x0, y0)``. Pixel ``i`` spans ``[i, i + 1)``."""
    d = _quantise_diameter(diameter)
    h = round(min(max(float(hardness), 0.0), 1.0) * 50) / 50
    ix, iy = math.floor(x), math.floor(y)
    qx = int(round((x - ix) * SUBPIXEL))
    qy = int(round((y - iy) * SUBPIXEL))
    if qx == SUBPIXEL:
        ix, qx = ix + 1, 0
    if qy == SUBPIXEL:
        iy, qy = iy + 1, 0
    key = (d, h, qx, qy)
    mask = _cache.get(key)
    if mask is None:
        mask = _render_mask(d, h, qx, qy)
        _cache[key] = mask
        if len(_cache) > _CACHE_LIMIT:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    half = mask.shape[0] // 2
    return mask, ix - half, iy - half


def interpolate_path(points: Sequence[tuple[float, float]], spacing: float) -> Iterator[tuple[float, float]]:
    """Points every ``spacing`` px along the polyline, starting with the first point."""
    if not points:
        return
    spacing = max(float(spacing), 1e-3)
    px, py = points[0][0], points[0][1]
    yield px, py
    carry = 0.0
    for point in points[1:]:
        x, y = point[0], point[1]
        length = math.hypot(x - px, y - py)
        pos = spacing - carry
        while pos <= length:
            t = pos / length
            yield px + (x - px) * t, py + (y - py) * t
            pos += spacing
        carry = length - (pos - spacing)
        px, py = x, y
