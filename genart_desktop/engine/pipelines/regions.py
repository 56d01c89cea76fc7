"""Regional prompts: a mask and a prompt per region, stored compactly in the recipe and combined at every step.

A :class:`RecipeRegion` keeps its mask as a small greyscale PNG (base64 text, at most :data:`MAX_MASK_SIDE` pixels a
side), so a recipe stays a flat, comparable value that fits a PNG text chunk, and the same recipe always decodes to
the same mask (the CLI and the dock make the same pixels). At sampling time :func:`region_weights` turns the masks
into per-cell weights on the U-Net's grid (MultiDiffusion, Bar-Tal et al. 2023): each region weighs by its mask,
normalised where regions overlap, and the base prompt fills whatever no region covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.engine.pipelines.embedded_png import from_png_text, to_png_text

MAX_REGIONS = 8
MAX_MASK_SIDE = 128  # the latent grid of a 1024-pixel Stable Diffusion picture; our pixel models are 64
MAX_MASK_TEXT = 64 * 1024  # base64 characters of one stored mask
MAX_REGION_PROMPT = 4000


def _mask_array(mask: Any, what: str) -> np.ndarray:
    """A 2-D mask as uint8 0..255 (floats are read as 0..1)."""
    array = np.asarray(mask)
    if array.ndim != 2 or array.size == 0:
        raise InputError(f"{what} must be a 2-D mask, got shape {tuple(array.shape)}.")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    values = array.astype(np.float32)
    if not np.isfinite(values).all():
        raise InputError(f"{what} holds NaN or infinite values.")
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)


def same_shape(mask_size: tuple[int, int], size: tuple[int, int]) -> bool:
    """Whether a ``mask_size`` (w, h) mask has the shape of a ``size`` picture (within a pixel of rounding)."""
    (mw, mh), (w, h) = mask_size, size
    return abs(mh - mw * h / w) <= 1.0 or abs(mw - mh * w / h) <= 1.0


@dataclass(frozen=True)
class RecipeRegion:
    """One region of a recipe: ``prompt`` (text, or a class name for a class model) and ``mask``, a base64 PNG."""

    prompt: str
    mask: str = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not isinstance(self.mask, str):
            raise InputError("A region needs a prompt and a mask, both text.")
        if len(self.prompt) > MAX_REGION_PROMPT:
            raise InputError(f"A region's prompt is longer than {MAX_REGION_PROMPT} characters.")
        if len(self.mask) > MAX_MASK_TEXT:
            raise InputError(f"A region's stored mask is larger than {MAX_MASK_TEXT // 1024} KiB.")

    @classmethod
    def from_mask(cls, mask: Any, prompt: str) -> RecipeRegion:
        """A region from a (h, w) mask (uint8 0..255, or floats in [0, 1]; 1 = the prompt applies), scaled down to
        at most :data:`MAX_MASK_SIDE` a side."""
        from genart_desktop.core.images import resize_mask

        values = _mask_array(mask, "A region's mask")
        h, w = values.shape
        scale = min(1.0, MAX_MASK_SIDE / max(h, w))
        if scale < 1.0:
            values = resize_mask(values, max(1, round(w * scale)), max(1, round(h * scale)))
        return cls(prompt, to_png_text(values, "L"))

    def pixels(self, width: int, height: int) -> np.ndarray:
        """The mask as (height, width) float32 in [0, 1]; InputError when it is damaged or of another shape."""
        from genart_desktop.core.images import resize_mask

        values = from_png_text(self.mask, "L", MAX_MASK_SIDE, "a region's mask", "A region's stored mask")
        size = (values.shape[1], values.shape[0])
        if not same_shape(size, (width, height)):
            raise InputError(f"A region's mask is {size[0]}x{size[1]}, not the shape of the {width}x{height} "
                             "picture; draw it on a canvas of the picture's shape.")
        return resize_mask(values, width, height).astype(np.float32) / 255.0

    def to_dict(self) -> dict[str, str]:
        return {"prompt": self.prompt, "mask": self.mask}


def regions_from_data(data: Any) -> tuple[RecipeRegion, ...]:
    """The regions of a recipe read from JSON (a list of ``{"prompt", "mask"}`` objects), checked and capped."""
    if not isinstance(data, list):
        raise InputError("Recipe field 'regions' must be a list.")
    if len(data) > MAX_REGIONS:
        raise InputError(f"A recipe holds at most {MAX_REGIONS} regions, this one {len(data)}.")
    regions = []
    for item in data:
        if not isinstance(item, dict) or set(item) != {"prompt", "mask"}:
            raise InputError("Each recipe region must be an object with a prompt and a mask.")
        regions.append(RecipeRegion(item["prompt"], item["mask"]))
    return tuple(regions)


@dataclass(frozen=True)
class RegionCondition:
    """What the pipeline needs of one region: its condition row and its (H, W) mask in [0, 1] at pixel size."""

    cond: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)


def region_weights(masks: list[np.ndarray], grid: tuple[int, int]) -> np.ndarray:
    """(K + 1, 1, 1, h, w) float32 weights on the sample ``grid``: the base prompt first, then each region.

    A pixel mask is averaged over each cell of the grid (a latent cell is as much the region's as its pixels are).
    Each region weighs by its mask, divided by the masks' sum where they overlap past 1; the base takes what is
    left (``1 - min(1, sum)``), so the weights sum to 1 everywhere.
    """
    h, w = grid
    cells = []
    for mask in masks:
        mask = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
        mh, mw = mask.shape
        if (mh, mw) != (h, w):
            if mh % h or mw % w or mh // h != mw // w:
                raise InputError(f"A region's mask is {mw}x{mh}; it must be the picture's size.")
            f = mh // h
            mask = mask.reshape(h, f, w, f).mean(axis=(1, 3))
        cells.append(mask)
    stack = np.stack(cells)
    total = stack.sum(axis=0)
    regions = stack / np.maximum(total, 1.0)
    base = 1.0 - np.minimum(total, 1.0)
    return np.concatenate([base[None], regions])[:, None, None].astype(np.float32)

