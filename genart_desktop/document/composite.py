"""The flattened view of the layer stack, cached per tile so a repaint after a dab recomputes only a few tiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from genart_desktop.document.blend import composite_layers
from genart_desktop.document.geometry import Rect
from genart_desktop.document.layer import Layer

TILE = 128


class Compositor:
    """Caches composited ``TILE`` x ``TILE`` tiles; ``invalidate(rect)`` drops the tiles a change touched."""

    def __init__(self, width: int, height: int, layers: Callable[[], Sequence[Layer]]) -> None:
        self.width = width
        self.height = height
        self._layers = layers
        self._tiles: dict[tuple[int, int], np.ndarray] = {}

    @property
    def cached_tiles(self) -> int:
        return len(self._tiles)

    def invalidate(self, rect: Rect | None = None) -> None:
        if rect is None:
            self._tiles.clear()
            return
        rect = rect.clamp(self.width, self.height)
        if rect.is_empty() or not self._tiles:
            return
        for ty in range(rect.y // TILE, (rect.bottom - 1) // TILE + 1):
            for tx in range(rect.x // TILE, (rect.right - 1) // TILE + 1):
                self._tiles.pop((tx, ty), None)

    def composite(self, rect: Rect | None = None) -> np.ndarray:
        """Straight RGBA uint8 of ``rect`` (the whole canvas when None); parts outside the canvas are transparent."""
        full = Rect(0, 0, self.width, self.height)
        rect = full if rect is None else rect
        out = np.zeros((max(rect.height, 0), max(rect.width, 0), 4), np.uint8)
        inside = rect.intersect(full)
        if inside.is_empty():
            return out
        for ty in range(inside.y // TILE, (inside.bottom - 1) // TILE + 1):
            for tx in range(inside.x // TILE, (inside.right - 1) // TILE + 1):
                tile_rect = Rect(tx * TILE, ty * TILE, TILE, TILE).clamp(self.width, self.height)
                tile = self._tile(tx, ty, tile_rect)
                part = tile_rect.intersect(inside)
                src = part.translated(-tile_rect.x, -tile_rect.y)
                dst = part.translated(-rect.x, -rect.y)
                out[dst.slices()] = tile[src.slices()]
        return out

    def _tile(self, tx: int, ty: int, tile_rect: Rect) -> np.ndarray:
        tile = self._tiles.get((tx, ty))
        if tile is None:
            tile = self.render(tile_rect)
            self._tiles[(tx, ty)] = tile
        return tile

    def render(self, rect: Rect) -> np.ndarray:
        """Composite ``rect`` (inside the canvas) from the layers, bypassing the cache."""
        sl = rect.slices()
        stack = []
        for layer in self._layers():
            if not layer.visible or layer.opacity <= 0.0:
                continue
            region = layer.pixels[sl]
            if not region[..., 3].any():
                continue  # a fully transparent region changes nothing in any blend mode
            stack.append((region, layer.opacity, layer.blend_mode))
        if not stack:
            return np.zeros((rect.height, rect.width, 4), np.uint8)
        # Layers under an opaque, full-opacity normal layer cannot show through it: start from the topmost such one
        # (exactly the same pixels; this keeps e.g. a full-canvas AI result cheap to display).
        for index in range(len(stack) - 1, 0, -1):
            region, opacity, mode = stack[index]
            if mode == "normal" and opacity >= 1.0 and region[..., 3].min() == 255:
                stack = stack[index:]
                break
        if len(stack) == 1 and stack[0][1] >= 1.0:
            return stack[0][0].copy()
        return composite_layers(stack, (rect.height, rect.width))
