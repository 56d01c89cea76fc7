"""Where a diffusion result comes from and lands on the canvas: the region read for *From canvas* and *Inpaint
selection*, the working size it is diffused at, and the pixels of an accepted result on its region.

A result is never stretched: it is scaled (through the upscaler when one is installed, an injectable call with
Lanczos as the default) to fit inside the region with transparent margins, or to fill it with the overflow cropped;
a region-shaped result (from the canvas, inpainting) maps back onto its region. Then it is cut to the selection
with a soft edge, its tone matched at the border and, for image-to-image, the original's fine detail kept where
the strength was low (:mod:`diffusion_blend`). The document is only read here (on the caller's thread, before a
job is queued), so no job ever touches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, resize, resize_mask
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.alpha import premultiply, unpremultiply
from genart_desktop.workspace.diffusion_blend import (
    background_colour,
    cut_out,
    feather_radius,
    inward_feather,
    match_tone,
    reinject_detail,
)
from genart_desktop.workspace.diffusion_models import ModelInfo

Scaler = Callable[[np.ndarray, int, int], np.ndarray]  # (pixels, width, height) -> pixels at that size
FITS = ("fit", "fill")  # the user's choice for a result whose shape differs from its region

INPAINT_CONTEXT = 0.25  # an inpaint region is the selection's bounds grown by this fraction, so the model sees context


@dataclass(frozen=True, eq=False)
class Placement:
    """Where a result lands: on ``rect``, fitted inside it (``fit``), filling it (``fill``) or mapped onto it
    (``region``: the result is the region itself), then cut to ``mask`` (the selection it was made for,
    ``rect``-sized uint8) with a ``feather``-pixel soft edge. ``source`` is the region's own pixels when the
    result started from them (From canvas, Inpaint), whose fine detail comes back weighted by ``1 - strength``
    (inpainting keeps strength 1: it replaces what was there); ``cutout`` keys out a plain background (Generate without
    *keep background*)."""

    rect: Rect
    mask: np.ndarray | None = field(default=None, repr=False)
    fit: str = "region"
    source: np.ndarray | None = field(default=None, repr=False)
    strength: float = 1.0  # image-to-image: the source's fine detail comes back weighted by 1 - strength
    feather: int = 0
    cutout: bool = False

    def __post_init__(self) -> None:
        """Refuse a placement that cannot land (one read back from a damaged file) before anything uses it."""
        if self.fit not in (*FITS, "region"):
            raise InputError(f"Unknown placement {self.fit!r}.")
        size = (self.rect.height, self.rect.width)
        for name, array in (("mask", self.mask), ("source", self.source)):
            if array is not None and tuple(np.shape(array)[:2]) != size:
                raise InputError(f"The placement's {name} does not match its {size[1]}x{size[0]} region.")
        if not (0.0 <= float(self.strength) <= 1.0 and 0 <= int(self.feather) <= 1024):
            raise InputError("The placement's strength or feather is out of range.")


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


def text_placement(doc: Document | None, size: tuple[int, int], fit: str = "fit", feather: int = 0,
                   cutout: bool = False) -> Placement:
    """Generate: into the selection's bounds (cut to its shape) when there is one, else fitted inside the canvas."""
    if doc is None:
        return Placement(Rect(0, 0, *size), cutout=cutout)
    if not doc.selection.is_empty:
        bounds = doc.selection.bounds()
        mask = np.array(doc.selection.mask[bounds.slices()], np.uint8)
        return Placement(bounds, mask, fit, feather=feather, cutout=cutout)
    return Placement(fit_inside(size[0], size[1], doc.rect), cutout=cutout)


def canvas_region(doc: Document, inpaint: bool) -> tuple[Rect, np.ndarray, np.ndarray | None]:
    """(region, a copy of its composite RGBA, the selection mask on it or None) read from the document now: the
    selection's bounds (grown by :data:`INPAINT_CONTEXT` to inpaint) or the whole canvas. Only copies, so live
    mode can read on the GUI thread and prepare the rest on a worker."""
    selected = not doc.selection.is_empty
    region = doc.selection.bounds() if selected else doc.rect
    if inpaint:
        pad_x = max(8, round(region.width * INPAINT_CONTEXT))
        pad_y = max(8, round(region.height * INPAINT_CONTEXT))
        region = Rect(region.x - pad_x, region.y - pad_y, region.width + 2 * pad_x,
                      region.height + 2 * pad_y).intersect(doc.rect)
    selection = np.array(doc.selection.mask[region.slices()], np.uint8) if selected else None
    return region, np.array(doc.composite(region), copy=True), selection


def region_source(region: Rect, pixels: np.ndarray, selection: np.ndarray | None, inpaint: bool, info: ModelInfo,
                  long_side: int, feather: int = 0, strength: float = 1.0) -> tuple[
                      np.ndarray, np.ndarray | None, Placement]:
    """(init pixels at the working size, pipeline mask in [0, 1] or None, placement) for a region read by
    :func:`canvas_region`."""
    region_pixels = flatten_alpha(pixels)
    size = working_size(info, (region.width, region.height), long_side)
    init = resize(region_pixels, *size)
    mask = resize_mask(selection, *size).astype(np.float32) / 255.0 if inpaint else None
    detail = 1.0 if inpaint else float(strength)  # inpainting replaces what was there: no detail comes back
    return init, mask, Placement(region, selection, "region", region_pixels, detail, int(feather))


def canvas_source(doc: Document, inpaint: bool, info: ModelInfo, long_side: int, feather: int = 0,
                  strength: float = 1.0) -> tuple[np.ndarray, np.ndarray | None, Placement]:
    """:func:`region_source` of the region :func:`canvas_region` reads from the document now."""
    return region_source(*canvas_region(doc, inpaint), inpaint, info, long_side, feather, strength)


def lanczos(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """The default :data:`Scaler` (and the one for previews): plain Lanczos, no model."""
    return resize(pixels, width, height)


def _scaled(rgba: np.ndarray, width: int, height: int, scale: Scaler) -> np.ndarray:
    """RGB through ``scale`` (the upscaler), alpha through Lanczos (a mask needs no learned detail). A picture with
    transparency (a model's cut-out) is scaled premultiplied, so no hidden colour bleeds into its edge."""
    alpha = rgba[..., 3]
    if alpha.min() == 255:
        out = np.empty((height, width, 4), np.uint8)
        out[..., :3] = np.asarray(scale(np.ascontiguousarray(rgba[..., :3]), width, height), np.uint8)[..., :3]
        out[..., 3] = 255
        return out
    colour = np.ascontiguousarray(premultiply(rgba)[..., :3])
    levels = np.empty((height, width, 4), np.float32)
    levels[..., :3] = np.asarray(scale(colour, width, height), np.uint8)[..., :3]
    levels[..., 3] = resize_mask(alpha, width, height)
    levels[..., :3] = np.minimum(levels[..., :3], levels[..., 3:])  # premultiplied colour never exceeds alpha
    return unpremultiply(levels)


def _on_region(rgba: np.ndarray, placement: Placement, scale: Scaler,
               finish: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The picture on the region's rectangle, by the placement's fit (``finish`` applied to the scaled picture
    before it is cropped or framed); uncovered pixels transparent."""
    rect = placement.rect
    h, w = rgba.shape[:2]
    if placement.fit == "fill":
        factor = max(rect.width / w, rect.height / h)
        cw, ch = max(rect.width, round(w * factor)), max(rect.height, round(h * factor))
        big = finish(_scaled(rgba, cw, ch, scale))
        x0, y0 = (cw - rect.width) // 2, (ch - rect.height) // 2
        return np.ascontiguousarray(big[y0:y0 + rect.height, x0:x0 + rect.width])
    if placement.fit == "fit":
        box = fit_inside(w, h, Rect(0, 0, rect.width, rect.height))
        out = np.zeros((rect.height, rect.width, 4), np.uint8)
        out[box.slices()] = finish(_scaled(rgba, box.width, box.height, scale))
        return out
    return finish(_scaled(rgba, rect.width, rect.height, scale))


def placed_pixels(pixels: np.ndarray, placement: Placement, scale: Scaler = lanczos) -> np.ndarray:
    """The result as (rect.height, rect.width, 4) uint8 ready to land on ``placement.rect``: never stretched,
    scaled by ``scale``, its background keyed out when asked (a 4-channel model's own alpha is used instead: RGBA
    ``pixels`` with no source land as the cut-out the model drew), fine detail and tone from the source, cut to the
    feathered selection."""
    pixels = np.asarray(pixels, np.uint8)
    rgba = np.empty((*pixels.shape[:2], 4), np.uint8)
    rgba[..., :3] = flatten_alpha(pixels) if pixels.shape[2] == 4 and placement.source is not None else \
        pixels[..., :3]
    rgba[..., 3] = pixels[..., 3] if pixels.shape[2] == 4 and placement.source is None else 255
    backdrop = background_colour(pixels) if placement.cutout and pixels.shape[2] == 3 else None
    # keyed at the region's resolution, so the cut-out's edge is as sharp as the enlarged picture
    out = _on_region(rgba, placement, scale,
                     (lambda big: cut_out(pixels, big, backdrop)) if backdrop is not None else (lambda big: big))
    soft = None if placement.mask is None else inward_feather(placement.mask, placement.feather)
    if placement.source is not None:
        out = reinject_detail(out, placement.source, (pixels.shape[1], pixels.shape[0]), 1.0 - placement.strength,
                              lanczos)
        if soft is not None:
            band = max(2, feather_radius(placement.mask, placement.feather))
            out = match_tone(out, placement.source, soft, band)
    if soft is not None:
        out[..., 3] = np.round(out[..., 3].astype(np.float32) * soft).astype(np.uint8)
    return out
