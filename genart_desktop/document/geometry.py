"""Integer canvas rectangles: the unit of dirty regions, undo patches and cache invalidation."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle ``(x, y, width, height)`` in canvas pixels; width or height <= 0 means empty."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return 0 if self.is_empty() else self.width * self.height

    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def intersect(self, other: Rect) -> Rect:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.right, other.right), min(self.bottom, other.bottom)
        if x1 <= x0 or y1 <= y0:
            return Rect(x0, y0, 0, 0)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def union(self, other: Rect | None) -> Rect:
        """The smallest rectangle holding both; an empty side is ignored."""
        if other is None or other.is_empty():
            return self
        if self.is_empty():
            return other
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.right, other.right), max(self.bottom, other.bottom)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def clamp(self, width: int, height: int) -> Rect:
        """This rectangle cut to a ``width`` x ``height`` canvas."""
        return self.intersect(Rect(0, 0, width, height))

    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.width, self.height)

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom

    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices for indexing an ``(H, W, ...)`` array: ``pixels[rect.slices()]``."""
        return slice(self.y, self.y + max(self.height, 0)), slice(self.x, self.x + max(self.width, 0))

    @staticmethod
    def from_bounds(x0: float, y0: float, x1: float, y1: float) -> Rect:
        """The integer rectangle covering the real interval [x0, x1) x [y0, y1)."""
        ix0, iy0 = math.floor(x0), math.floor(y0)
        ix1, iy1 = math.ceil(x1), math.ceil(y1)
        return Rect(ix0, iy0, max(ix1 - ix0, 0), max(iy1 - iy0, 0))

    @staticmethod
    def bounding(points: Iterable[tuple[float, float]], pad: float = 0.0) -> Rect:
        pts = list(points)
        if not pts:
            return Rect(0, 0, 0, 0)
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return Rect.from_bounds(min(xs) - pad, min(ys) - pad, max(xs) + pad + 1, max(ys) + pad + 1)


def union_all(rects: Iterable[Rect | None]) -> Rect | None:
    result: Rect | None = None
    for rect in rects:
        if rect is None or rect.is_empty():
            continue
        result = rect if result is None else result.union(rect)
    return result
