"""A brush or eraser stroke in progress: dabs interpolated along the pointer path, one undo step when it ends.

Painting model (as in Krita and MyPaint): each dab adds ``flow`` coverage into a stroke mask
(``m += dab * flow * (1 - m)``) and the layer shows its original pixels with the colour composited at
``m * opacity``, so ``opacity`` caps the whole stroke however many dabs overlap. The original pixels are copied tile
by tile the first time a dab touches them; together with the final pixels they become the undo patch. Every
operation is confined to the dab's bounding box.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from genart_desktop.document.brush import BrushSettings, dab_mask
from genart_desktop.document.commands import PixelCommand
from genart_desktop.document.geometry import Rect, union_all
from genart_desktop.document.history import PATCH_TILE, TilePatch
from genart_desktop.document.layer import Layer

if TYPE_CHECKING:
    from genart_desktop.document.document import Document

TOOLS = ("brush", "eraser")


class Stroke:
    def __init__(self, doc: Document, layer: Layer, brush: BrushSettings, tool: str = "brush") -> None:
        self.doc = doc
        self.layer = layer
        self.brush = brush
        self.tool = tool
        self.finished = False
        pixels = layer.pixels
        self._pixels = pixels
        h, w = pixels.shape[:2]
        self._canvas = Rect(0, 0, w, h)
        # np.empty/np.zeros map memory lazily: only the pages a dab touches become real.
        self._original = np.empty_like(pixels)
        self._coverage = np.zeros((h, w), np.float32)
        self._saved = np.zeros(((h + PATCH_TILE - 1) // PATCH_TILE, (w + PATCH_TILE - 1) // PATCH_TILE), bool)
        self._selection = None if doc.selection.is_empty else doc.selection._raw()
        self._color = np.asarray(brush.color, np.float32) / np.float32(255.0)
        self._last: tuple[float, float, float] | None = None
        self._carry = 0.0
        self.bounds: Rect | None = None
        self.dabs = 0

    # -- input -----------------------------------------------------------------------------------------------------
    def add_point(self, x: float, y: float, pressure: float = 1.0) -> Rect | None:
        """Extend the stroke to ``(x, y)``; returns the canvas rectangle repainted (also sent as a change)."""
        if self.finished:
            raise RuntimeError("This stroke has ended.")
        x, y = float(x), float(y)
        pressure = min(max(float(pressure), 0.0), 1.0)
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        dirty: list[Rect | None] = []
        if self._last is None:
            dirty.append(self._dab(x, y, pressure))
        else:
            lx, ly, lp = self._last
            length = math.hypot(x - lx, y - ly)
            if length > 0:
                pos = max(self._next_step(lp) - self._carry, 0.0)
                last_dab = None
                while pos <= length:
                    t = pos / length
                    p = lp + (pressure - lp) * t
                    dirty.append(self._dab(lx + (x - lx) * t, ly + (y - ly) * t, p))
                    last_dab = pos
                    pos += self._next_step(p)
                # distance travelled since the last dab, so spacing stays even across pointer events
                self._carry = length - last_dab if last_dab is not None else self._carry + length
        self._last = (x, y, pressure)
        rect = union_all(dirty)
        if rect is not None:
            self.bounds = rect.union(self.bounds)
            self.doc._pixels_changed(rect)
        return rect

    def _next_step(self, pressure: float) -> float:
        return max(self.brush.spacing * self.brush.dab_size(pressure), 0.5)

    # -- painting --------------------------------------------------------------------------------------------------
    def _save_tiles(self, rect: Rect) -> None:
        ty0, ty1 = rect.y // PATCH_TILE, (rect.bottom - 1) // PATCH_TILE + 1
        tx0, tx1 = rect.x // PATCH_TILE, (rect.right - 1) // PATCH_TILE + 1
        saved = self._saved[ty0:ty1, tx0:tx1]
        if saved.all():
            return
        for ty, tx in zip(*np.nonzero(~saved)):
            tile = Rect((tx0 + tx) * PATCH_TILE, (ty0 + ty) * PATCH_TILE, PATCH_TILE, PATCH_TILE).intersect(self._canvas)
            sl = tile.slices()
            self._original[sl] = self._pixels[sl]
        saved[...] = True

    def _dab(self, x: float, y: float, pressure: float) -> Rect | None:
        brush = self.brush
        flow = brush.dab_alpha(pressure)
        if flow <= 0.0:
            return None
        mask, x0, y0 = dab_mask(brush.dab_size(pressure), brush.hardness, x, y)
        rect = Rect(x0, y0, mask.shape[1], mask.shape[0]).intersect(self._canvas)
        if rect.is_empty():
            return None
        self._save_tiles(rect)
        sl = rect.slices()
        dab = mask[rect.translated(-x0, -y0).slices()]
        coverage = self._coverage[sl]
        coverage += (dab * np.float32(flow)) * (np.float32(1.0) - coverage)
        alpha = coverage * np.float32(brush.opacity)
        if self._selection is not None:
            alpha = alpha * (self._selection[sl] * np.float32(1.0 / 255.0))
        original = self._original[sl]
        oa = original[..., 3] * np.float32(1.0 / 255.0)
        out = self._pixels[sl]
        self.dabs += 1
        if self.tool == "eraser":
            out[..., 3] = np.rint(oa * (np.float32(1.0) - alpha) * np.float32(255.0))
            return rect
        keep = oa * (np.float32(1.0) - alpha)
        new_a = alpha + keep
        safe = np.where(new_a > 0, new_a, np.float32(1.0))
        rgb = (original[..., :3] * (keep / safe)[..., None]
               + (self._color * np.float32(255.0)) * (alpha / safe)[..., None])
        out[..., :3] = np.rint(rgb)
        out[..., 3] = np.rint(new_a * np.float32(255.0))
        return rect

    # -- finishing -------------------------------------------------------------------------------------------------
    def _patch(self) -> TilePatch:
        tiles: list = []
        for ty, tx in zip(*np.nonzero(self._saved)):
            rect = Rect(int(tx) * PATCH_TILE, int(ty) * PATCH_TILE, PATCH_TILE, PATCH_TILE).intersect(self._canvas)
            sl = rect.slices()
            part = TilePatch.from_region(self._original[sl], self._pixels[sl], (rect.x, rect.y))
            tiles.extend(part._tiles)
        return TilePatch(tiles, (4,))

    def end(self) -> None:
        """Commit the stroke as one undo step (nothing is recorded when it changed no pixel)."""
        if self.finished:
            return
        self.finished = True
        self.doc._stroke_finished(self)
        patch = self._patch()
        self._release()
        if not patch.is_empty:
            text = "Erase" if self.tool == "eraser" else "Brush Stroke"
            self.doc.history.push(PixelCommand(self.doc, self.layer, patch, text))

    def cancel(self) -> None:
        """Abandon the stroke and put the original pixels back."""
        if self.finished:
            return
        self.finished = True
        self.doc._stroke_finished(self)
        for ty, tx in zip(*np.nonzero(self._saved)):
            rect = Rect(int(tx) * PATCH_TILE, int(ty) * PATCH_TILE, PATCH_TILE, PATCH_TILE).intersect(self._canvas)
            self._pixels[rect.slices()] = self._original[rect.slices()]
        self._release()
        if self.bounds is not None:
            self.doc._pixels_changed(self.bounds)

    def _release(self) -> None:
        self._original = np.empty((0, 0, 4), np.uint8)
        self._coverage = np.empty((0, 0), np.float32)
