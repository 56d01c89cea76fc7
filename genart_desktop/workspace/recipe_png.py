"""PNG files that carry their diffusion recipe: written atomically, read back with every value checked.

The recipe format and the text chunk live in :mod:`genart_desktop.engine.pipelines.recipe` (shared with
``genart generate``); this module adds what the app needs on top: an atomic export, a reader that returns the
pixels with the recipe, and range checks, so a damaged or hand-edited file is refused with a clear message before
anything in the panel changes.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import check_pixel_image, open_image_rgba
from genart_desktop.core.text import shown
from genart_desktop.engine.pipelines.limits import MAX_GUIDANCE, MAX_SEED, MAX_SIDE, MAX_STEPS
from genart_desktop.engine.pipelines.recipe import Recipe, encode_png, read_png_recipe
from genart_desktop.engine.samplers import SAMPLERS, make_sampler, sampler_names

MAX_TEXT = 4000


def check_recipe(recipe: Recipe) -> Recipe:
    """Raise :class:`InputError` naming the first value no generation could use; returns the recipe (sampler
    aliases normalised) otherwise."""
    if not isinstance(recipe, Recipe):
        raise InputError(f"Expected a recipe, got {type(recipe).__name__}.")
    if not recipe.model_id.strip():
        raise InputError("The recipe names no model.")
    if not 1 <= recipe.steps <= MAX_STEPS:
        raise InputError(f"Recipe steps must be between 1 and {MAX_STEPS}, got {recipe.steps}.")
    if not 0 <= recipe.seed <= MAX_SEED:
        raise InputError(f"The recipe seed must be between 0 and {MAX_SEED}, got {recipe.seed}.")
    if not 0.0 <= recipe.guidance <= MAX_GUIDANCE:
        raise InputError(f"Recipe guidance must be between 0 and {MAX_GUIDANCE:g}, got {recipe.guidance:g}.")
    if not 0.0 <= recipe.strength <= 1.0:
        raise InputError(f"Recipe strength must be between 0 and 1, got {recipe.strength:g}.")
    if not 0.0 <= recipe.eta <= 1.0:
        raise InputError(f"Recipe eta must be between 0 and 1, got {recipe.eta:g}.")
    if not (1 <= recipe.width <= MAX_SIDE and 1 <= recipe.height <= MAX_SIDE):
        raise InputError(f"The recipe size {recipe.width}x{recipe.height} is outside 1-{MAX_SIDE} pixels.")
    for name in ("prompt", "negative_prompt", "model_id", "model_hash"):
        if len(getattr(recipe, name)) > MAX_TEXT:
            raise InputError(f"The recipe's {name.replace('_', ' ')} is longer than {MAX_TEXT} characters.")
    if recipe.class_label is not None and len(recipe.class_label) > MAX_TEXT:
        raise InputError(f"The recipe's class label is longer than {MAX_TEXT} characters.")
    try:
        sampler = make_sampler(recipe.sampler)
    except (ValueError, AttributeError):
        raise InputError(f"The recipe's sampler {recipe.sampler!r} is not one of {', '.join(sampler_names())}.") \
            from None
    for region in recipe.regions:  # each mask decodes, in the picture's shape
        region.pixels(recipe.width, recipe.height)
    if recipe.control is not None:  # so does the control picture
        recipe.control.pixels(recipe.width, recipe.height)
    key = next(name for name, cls in SAMPLERS.items() if type(sampler) is cls)
    return dataclasses.replace(recipe, sampler=key) if key != recipe.sampler else recipe


def write_recipe_png(path: str | os.PathLike[str], pixels: np.ndarray, recipe: Recipe) -> Path:
    """Write ``pixels`` ((H, W, 3|4) uint8) as a PNG carrying ``recipe``; atomic, so a failure leaves no file behind
    and an existing file intact."""
    check_pixel_image(pixels)
    recipe = check_recipe(recipe)
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"Recipes are stored in PNG files; {path.name} does not end in .png.")
    atomic_write_bytes(path, encode_png(np.ascontiguousarray(pixels), recipe))
    return path


def read_recipe(path: str | os.PathLike[str] | bytes) -> Recipe:
    """The checked recipe of a PNG; :class:`InputError` when the file has none or a damaged one."""
    name = "image data" if isinstance(path, bytes) else shown(Path(path).name)
    try:
        recipe = read_png_recipe(path)
    except InputError as exc:
        raise exc if name in str(exc) else InputError(f"{name}: {exc}") from exc
    if recipe is None:
        raise InputError(f"{name} carries no GenArt recipe (only PNGs exported by GenArt Desktop or "
                         "`genart generate` have one).")
    try:
        return check_recipe(recipe)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from exc


def read_recipe_png(path: str | os.PathLike[str]) -> tuple[np.ndarray, Recipe]:
    """The pixels ((H, W, 4) uint8) and the checked recipe of a PNG written by :func:`write_recipe_png`."""
    recipe = read_recipe(path)
    return open_image_rgba(path), recipe
