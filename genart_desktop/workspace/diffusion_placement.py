"""Where a diffusion result comes from and lands on the canvas: the region read for *From canvas* and *Inpaint
selection*, the working size it is diffused at, and the pixels of an accepted result cut to its selection.

The document is only read here (on the caller's thread, before a job is queued), so no job ever touches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genart_desktop.core.images import flatten_alpha, resize, resize_mask
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.workspace.diffusion_models import ModelInfo

INPAINT_CONTEXT = 0.25  # an inpaint region is the selection's bounds grown by this fraction, so the model sees context


@dataclass(frozen=True)
class Placement:
    """Where a result lands on the canvas: resized to ``rect`` (``cover`` crops the overflow), then cut to ``mask``
    (the selection it was made for, ``rect``-sized uint8) or, when None, to the selection at accept time."""

    rect: Rect
    mask: np.ndarray | None = field(default=None, repr=False)
    fit: str = "stretch"  # "stretch" | "cover"


def working_size(info: ModelInfo, region: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size to diffuse a canvas region at: the region's shape with its longer side at ``long_side``, snapped
    for the model (the U-Net's resolution, not the canvas's, sets what is sensible). A recipe's own size maps to
    itself for the same region, so restoring it repeats the image."""
    rw, rh = region
    scale = long_side / float(max(rw, rh))
    return info.snap_size(rw * scale, rh * scale)


def fit_inside(width: int, height: int, bounds: Rect) -> Rect:
    """The largest ``width:height`` rectangle centred in ``bounds``."""
    scale = min(bounds.width / width, bounds.height / height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    return Rect(bounds.x + (bounds.width - w) // 2, bounds.y + (bounds.height - h) // 2, w, h)


def text_placement(doc: Document | None, size: tuple[int, int]) -> Placement:
    """Generate: the selection (covered, cut to its shape) when there is one, else the canvas (fitted inside)."""
    if doc is None:
        return Placement(Rect(0, 0, *size))
    if not doc.selection.is_empty:
        bounds = doc.selection.bounds()
        mask = np.array(doc.selection.mask[bounds.slices()], np.uint8)
        return Placement(bounds, mask, "cover")
    return Placement(fit_inside(size[0], size[1], doc.rect))


def canvas_source(doc: Document, inpaint: bool, info: ModelInfo, long_side: int) -> tuple[
        np.ndarray, np.ndarray | None, Placement]:
    """(init pixels at the working size, pipeline mask in [0, 1] or None, placement) read from the document now:
    the selection's bounds (grown by :data:`INPAINT_CONTEXT` to inpaint) or the whole canvas."""
    selected = not doc.selection.is_empty
    region = doc.selection.bounds() if selected else doc.rect
    if inpaint:
        pad_x = max(8, round(region.width * INPAINT_CONTEXT))
        pad_y = max(8, round(region.height * INPAINT_CONTEXT))
        region = Rect(region.x - pad_x, region.y - pad_y, region.width + 2 * pad_x,
                      region.height + 2 * pad_y).intersect(doc.rect)
    region_pixels = flatten_alpha(np.array(doc.composite(region), copy=True))
    selection = np.array(doc.selection.mask[region.slices()], np.uint8) if selected else None
    size = working_size(info, (region.width, region.height), long_side)
    init = resize(region_pixels, *size)
    mask = resize_mask(selection, *size).astype(np.float32) / 255.0 if inpaint else None
    return init, mask, Placement(region, selection, "stretch")


def placed_pixels(pixels: np.ndarray, placement: Placement) -> np.ndarray:
    """The result as (rect.height, rect.width, 4) uint8, resampled to the rect and cut to the placement mask."""
    rect = placement.rect
    rgb = flatten_alpha(np.asarray(pixels, np.uint8))
    h, w = rgb.shape[:2]
    if placement.fit == "cover":
        scale = max(rect.width / w, rect.height / h)
        cw, ch = max(rect.width, round(w * scale)), max(rect.height, round(h * scale))
        big = resize(rgb, cw, ch)
        x0, y0 = (cw - rect.width) // 2, (ch - rect.height) // 2
        rgb = big[y0:y0 + rect.height, x0:x0 + rect.width]
    else:
        rgb = resize(rgb, rect.width, rect.height)
    out = np.empty((rect.height, rect.width, 4), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = 255 if placement.mask is None else placement.mask
    return out
