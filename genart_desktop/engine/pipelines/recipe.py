"""The recipe of a generated image: everything needed to make it again, stored as JSON in a PNG text chunk.

Exported PNGs carry it under the ``genart-recipe`` key (plus a human-readable ``parameters`` line); opening such a
PNG gives the recipe back so the diffusion panel or ``genart generate`` can repeat or vary it. Regional prompts
(:mod:`regions`) ride along as a ``regions`` list and a control picture (:mod:`control`) as ``control``, each
written only when there is one.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.engine.pipelines.control import RecipeControl, control_from_data
from genart_desktop.engine.pipelines.regions import RecipeRegion, regions_from_data

RECIPE_KEY = "genart-recipe"
RECIPE_FORMAT = "genart-recipe/1"
MODES = ("txt2img", "img2img", "inpaint")
MAX_RECIPE_DEPTH = 8  # a recipe is one flat object


@dataclass(frozen=True)
class Recipe:
    model_id: str
    model_hash: str = ""
    seed: int = 0
    steps: int = 25
    sampler: str = "dpmpp_2m"
    guidance: float = 1.0
    prompt: str = ""
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    strength: float = 1.0
    mode: str = "txt2img"
    eta: float = 0.0
    class_label: str | None = None
    regions: tuple[RecipeRegion, ...] = ()
    control: RecipeControl | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"format": RECIPE_FORMAT, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}
        regions, control = data.pop("regions"), data.pop("control")
        if regions:
            data["regions"] = [region.to_dict() for region in regions]
        if control is not None:
            data["control"] = control.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    def describe(self) -> str:
        """One line for people (and for tools that read A1111-style ``parameters`` chunks)."""
        parts = [self.prompt or "(no prompt)"]
        if self.negative_prompt:
            parts.append(f"Negative prompt: {self.negative_prompt}")
        parts.append(f"Steps: {self.steps}, Sampler: {self.sampler}, CFG scale: {self.guidance:g}, Seed: {self.seed}, "
                     f"Size: {self.width}x{self.height}, Model: {self.model_id}"
                     + (f", Model hash: {self.model_hash}" if self.model_hash else "")
                     + (f", Denoising strength: {self.strength:g}" if self.mode != "txt2img" else "")
                     + "".join(f", Region {i}: {r.prompt}" for i, r in enumerate(self.regions, 1))
                     + (f", Control: {self.control.mode} {self.control.strength:g}" if self.control else ""))
        return "\n".join(parts)

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """Validate a recipe read from a file; raises InputError naming the bad field."""
        if not isinstance(data, dict):
            raise InputError("A recipe must be a JSON object.")
        if data.get("format", RECIPE_FORMAT) != RECIPE_FORMAT:
            raise InputError(f"Unknown recipe format {data.get('format')!r}; expected {RECIPE_FORMAT}.")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                if f.default is dataclasses.MISSING:
                    raise InputError(f"The recipe has no {f.name!r}.")
                continue
            value = data[f.name]
            if f.name == "regions":
                values[f.name] = regions_from_data(value)
                continue
            if f.name == "control":
                values[f.name] = control_from_data(value)
                continue
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            if kind == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise InputError(f"Recipe field {f.name!r} must be a whole number, got {value!r}.")
            elif kind == "float":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                    raise InputError(f"Recipe field {f.name!r} must be a number, got {value!r}.")
                value = float(value)
            elif kind == "str":
                if not isinstance(value, str):
                    raise InputError(f"Recipe field {f.name!r} must be text, got {value!r}.")
            elif value is not None and not isinstance(value, str):
                raise InputError(f"Recipe field {f.name!r} must be text or null, got {value!r}.")
            values[f.name] = value
        recipe = cls(**values)
        if recipe.mode not in MODES:
            raise InputError(f"Recipe mode must be one of {', '.join(MODES)}, got {recipe.mode!r}.")
        if recipe.steps < 1 or recipe.width < 1 or recipe.height < 1 or recipe.seed < 0:
            raise InputError("Recipe steps, width and height must be positive and the seed not negative.")
        return recipe

    @classmethod
    def from_json(cls, text: str, source: str = "the recipe") -> Recipe:
        """Parse with bounded JSON (size, nesting, integer digits, finite numbers), then check every field."""
        from genart_desktop.core.bounded_json import parse_json

        return cls.from_dict(parse_json(text, source, max_depth=MAX_RECIPE_DEPTH))


def encode_png(pixels: np.ndarray, recipe: Recipe | None = None) -> bytes:
    """PNG bytes of an (H, W, 3|4) uint8 image, with the recipe in text chunks when given."""
    from PIL.PngImagePlugin import PngInfo

    from genart_desktop.core.images import rgba_to_pil

    info = PngInfo()
    if recipe is not None:
        info.add_itxt(RECIPE_KEY, recipe.to_json())
        info.add_itxt("parameters", recipe.describe())
    buffer = io.BytesIO()
    rgba_to_pil(pixels).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def read_png_recipe(source: str | os.PathLike[str] | bytes) -> Recipe | None:
    """The recipe stored in a PNG, or None when it has none. A damaged recipe raises InputError."""
    from genart_desktop.core.images import open_image
    from genart_desktop.core.text import shown

    name = "image data" if isinstance(source, bytes) else Path(source).name
    with open_image(source) as image:
        # Our writer puts the chunk before the pixels, so the header usually has it. Otherwise the first frame is
        # decoded (text after the pixels lands in ``info``); never ``image.text``, which decodes every APNG frame.
        raw = image.info.get(RECIPE_KEY)
        if raw is None and image.format == "PNG" and getattr(image, "n_frames", 1) == 1:
            image.load()
            raw = image.info.get(RECIPE_KEY)
    if raw is None:
        return None
    return Recipe.from_json(str(raw), f"the recipe in {shown(name)}")
