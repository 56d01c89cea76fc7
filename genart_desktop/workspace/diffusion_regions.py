"""Regional prompts between the canvas and the recipe.

The document's regions are drawn on the canvas; a job makes a picture of some size that lands on a placement. Here
each region's mask is cut to the part of the canvas the picture covers and scaled to the picture, becoming the
recipe's :class:`RecipeRegion` (the CLI does the same with mask files on an output-sized canvas, so both make the
same recipe). A recipe's regions go back onto a canvas when its settings are restored.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import resize_mask
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import RecipeRegion
from genart_desktop.workspace.diffusion_placement import Placement, fit_inside


def picture_rect(placement: Placement, size: tuple[int, int]) -> Rect:
    """The canvas rectangle a ``size`` picture covers on ``placement`` (beyond the region when it fills it)."""
    rect = placement.rect
    width, height = size
    if placement.fit == "fit":
        return fit_inside(width, height, rect)
    if placement.fit == "fill":
        factor = max(rect.width / width, rect.height / height)
        cw, ch = max(rect.width, round(width * factor)), max(rect.height, round(height * factor))
        return Rect(rect.x - (cw - rect.width) // 2, rect.y - (ch - rect.height) // 2, cw, ch)
    return rect


def crop_mask(mask: np.ndarray, rect: Rect) -> np.ndarray:
    """``mask`` (a canvas-sized uint8 array, or an RGBA layer) on ``rect``, zero where ``rect`` leaves the canvas."""
    out = np.zeros((rect.height, rect.width, *mask.shape[2:]), np.uint8)
    inside = rect.intersect(Rect(0, 0, mask.shape[1], mask.shape[0]))
    if not inside.is_empty():
        out[inside.y - rect.y:inside.bottom - rect.y, inside.x - rect.x:inside.right - rect.x] = \
            mask[inside.slices()]
    return out


def recipe_regions(items: Iterable[tuple[np.ndarray, str]], placement: Placement,
                   size: tuple[int, int]) -> tuple[RecipeRegion, ...]:
    """The recipe regions of ``items`` ((canvas-sized uint8 mask, prompt) each) for a ``size`` picture landing on
    ``placement``; regions with a blank prompt, or none of their mask on the picture, change nothing and are left
    out."""
    view = picture_rect(placement, size)
    regions = []
    for mask, prompt in items:
        if not prompt.strip():
            continue
        scaled = resize_mask(crop_mask(mask, view), *size)
        if scaled.any():
            regions.append(RecipeRegion.from_mask(scaled, prompt))
    return tuple(regions)


def document_regions(doc: Document | None, placement: Placement, size: tuple[int, int]) -> tuple[
        RecipeRegion, ...]:
    """:func:`recipe_regions` of the document's regional prompts (none without a document)."""
    if doc is None:
        return ()
    return recipe_regions(((region.mask, region.prompt) for region in doc.regions), placement, size)


def restore_regions(doc: Document, recipe: Recipe) -> int:
    """Replace the document's regions with the recipe's, its picture fitted inside the canvas; how many. Every
    mask is decoded first, so a damaged recipe changes nothing. A recipe without regions leaves them as they are."""
    if not recipe.regions:
        return 0
    rect = fit_inside(recipe.width, recipe.height, doc.rect)
    restored = []
    for number, region in enumerate(recipe.regions, 1):
        mask = np.zeros((doc.height, doc.width), np.uint8)
        mask[rect.slices()] = np.round(region.pixels(rect.width, rect.height) * 255.0).astype(np.uint8)
        if mask.any():
            restored.append((f"Region {number}", region.prompt, mask))
    doc.regions.replace_all(restored)
    return len(restored)


def selection_region(doc: Document, prompt: str = "") -> None:
    """Add the selection as a region (InputError when nothing is selected)."""
    if doc.selection.is_empty:
        raise InputError("Select the area the region's prompt should fill first.")
    doc.regions.add(np.array(doc.selection.mask, np.uint8), prompt)


def layer_region(doc: Document, index: int | None = None, prompt: str = "") -> None:
    """Add a layer's alpha (the active layer's by default) as a region, named after the layer."""
    layer = doc.layers[doc.active_index if index is None else index]
    if not layer.pixels[..., 3].any():
        raise InputError(f"The layer \u201c{layer.name}\u201d has no opaque pixels to make a region of.")
    doc.regions.add(np.array(layer.pixels[..., 3], np.uint8), prompt, name=layer.name.strip() or None)
