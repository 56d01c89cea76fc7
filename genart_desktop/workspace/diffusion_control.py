"""Control pictures between the canvas (or a file) and the recipe.

A control layer is drawn on the canvas; a job makes a picture of some size that lands on a placement. Here the
layer is cut to the part of the canvas the picture covers (white where it leaves the canvas, transparent pixels on
white, as on paper), scaled to the picture and, for a photo rather than a sketch, turned into lines or colour blocks
with the same map functions training used (:mod:`genart_desktop.engine.control_maps`). The result is the recipe's
:class:`RecipeControl`. ``genart generate --control`` does the same with an image file, so both make the same
recipe from the same picture. Restoring a recipe goes the other way (:func:`control_layer_picture`): its stored
control becomes a layer again.
"""

from __future__ import annotations

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, resize
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.control_maps import CONTROL_MODES, control_picture
from genart_desktop.engine.pipelines.control import RecipeControl, check_strength
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.workspace.diffusion_placement import Placement, fit_inside
from genart_desktop.workspace.diffusion_regions import crop_mask, picture_rect

CONTROL_MODE_LABELS = {"sketch": "Control is a sketch", "edges": "Derive lines", "colour-blocks": "Derive colour blocks"}


def check_mode(mode: str) -> str:
    if mode not in CONTROL_MODES:
        raise InputError(f"The control mode must be one of {', '.join(CONTROL_MODES)}, got {mode!r}.")
    return mode


def control_from_pixels(pixels: np.ndarray, size: tuple[int, int], mode: str = "sketch",
                        strength: float = 1.0) -> RecipeControl:
    """The control of a ``size`` picture from an (h, w, 3|4) uint8 picture of the same view (scaled to ``size``,
    transparent pixels on white), derived by ``mode``."""
    check_mode(mode)
    strength = check_strength(strength)
    rgb = flatten_alpha(np.ascontiguousarray(pixels, np.uint8))
    if rgb.shape[1::-1] != tuple(size):
        rgb = resize(rgb, *size)
    return RecipeControl.from_picture(control_picture(rgb, mode), strength, mode)


def placed_control(layer_pixels: np.ndarray, placement: Placement, size: tuple[int, int], mode: str = "sketch",
                   strength: float = 1.0) -> RecipeControl:
    """The control a layer's pixels (canvas-sized, or the part under a live region) give a ``size`` picture landing
    on ``placement``; where nothing is drawn the control is blank paper."""
    return control_from_pixels(crop_mask(np.asarray(layer_pixels, np.uint8), picture_rect(placement, size)), size,
                               mode, strength)


def layer_control(layer_pixels: np.ndarray, placement: Placement, size: tuple[int, int], mode: str = "sketch",
                  strength: float = 1.0) -> RecipeControl:
    """:func:`placed_control` of a canvas-sized layer, refused when nothing at all is drawn on it."""
    if not np.asarray(layer_pixels)[..., 3].any():
        raise InputError("The control layer is empty: draw lines or colour blocks on it first.")
    return placed_control(layer_pixels, placement, size, mode, strength)


def control_layer_picture(recipe: Recipe, canvas: Rect) -> tuple[Rect, np.ndarray] | None:
    """(where, RGBA) of the layer that gives ``recipe``'s control back on ``canvas`` (None without one): the
    stored map fitted inside the canvas like restored regions, pure white left transparent (white is paper, and
    transparent reads as white, so the layer gives the same control). InputError when the picture is damaged."""
    if recipe.control is None:
        return None
    rect = fit_inside(recipe.width, recipe.height, canvas)
    rgb = recipe.control.pixels(rect.width, rect.height)
    rgba = np.empty((rect.height, rect.width, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = np.where((rgb == 255).all(axis=2), 0, 255)
    return rect, rgba
