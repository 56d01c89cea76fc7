"""Every control of the diffusion dock as one value (:class:`DiffusionSettings`), and its two conversions:
settings -> one :class:`Recipe` per image (seeds planned here), and a past recipe -> the settings that repeat it.

The dock and ``genart generate`` both describe a picture with these settings, so the recipes they make (and so
their pixels) are the same for the same values.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from dataclasses import dataclass

from genart_desktop.core.errors import InputError
from genart_desktop.engine.control_maps import CONTROL_MODES
from genart_desktop.engine.pipelines.control import RecipeControl, check_strength
from genart_desktop.engine.pipelines.limits import (
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_SIDE,
    MAX_STEPS,
)
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import RecipeRegion
from genart_desktop.engine.samplers import DEFAULT_SAMPLER, sampler_names
from genart_desktop.workspace.diffusion_models import ModelInfo
from genart_desktop.workspace.diffusion_placement import FITS
from genart_desktop.workspace.recipe_png import check_recipe

SEED_MODES = ("random", "fixed", "increment")
MAX_BATCH_COUNT = 64
MAX_FEATHER = 128


@dataclass(frozen=True)
class DiffusionSettings:
    """Every control of the diffusion dock."""

    model_id: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    class_label: str = ""
    steps: int = 25
    sampler: str = DEFAULT_SAMPLER
    guidance: float = 7.5
    eta: float = 0.0
    seed: int = 0
    seed_mode: str = "random"
    width: int = 512
    height: int = 512
    batch_count: int = 1
    strength: float = 0.6
    fit: str = "fit"  # a fixed-size model's result in a region of another shape: "fit" inside or "fill" (crop)
    keep_background: bool = False  # False: a plain background around a generated subject is keyed out
    feather: int = 8  # pixels of soft edge inside the selection when inpainting or repainting from the canvas
    control_strength: float = 1.0  # how strongly a control picture steers the model (0: not at all)
    control_mode: str = "sketch"  # the control layer is a sketch, or a picture to derive lines or colour blocks from

    def check(self) -> None:
        """InputError naming the first control whose value cannot be used."""
        if not self.model_id:
            raise InputError("Choose a diffusion model first.")
        if self.seed_mode not in SEED_MODES:
            raise InputError(f"The seed mode must be one of {', '.join(SEED_MODES)}, got {self.seed_mode!r}.")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise InputError(f"Steps must be between 1 and {MAX_STEPS}, got {self.steps}.")
        if self.sampler not in sampler_names():
            raise InputError(f"Unknown sampler {self.sampler!r}; choose one of {', '.join(sampler_names())}.")
        if not math.isfinite(self.guidance) or not 0.0 <= self.guidance <= MAX_GUIDANCE:
            raise InputError(f"Guidance must be between 0 and {MAX_GUIDANCE:g}, got {self.guidance}.")
        if not math.isfinite(self.eta) or not 0.0 <= self.eta <= 1.0:
            raise InputError(f"Eta must be between 0 and 1, got {self.eta}.")
        if not isinstance(self.batch_count, int) or not 1 <= self.batch_count <= MAX_BATCH_COUNT:
            raise InputError(f"The batch count must be between 1 and {MAX_BATCH_COUNT}, got {self.batch_count}.")
        if not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED - MAX_BATCH_COUNT:
            raise InputError(f"The seed must be a whole number between 0 and {MAX_SEED - MAX_BATCH_COUNT}.")
        if not (1 <= self.width <= MAX_SIDE and 1 <= self.height <= MAX_SIDE):
            raise InputError(f"The size must be between 1 and {MAX_SIDE} pixels a side, got {self.width}x{self.height}.")
        if not math.isfinite(self.strength) or not 0.0 <= self.strength <= 1.0:
            raise InputError(f"Strength must be between 0 and 1, got {self.strength}.")
        if self.fit not in FITS:
            raise InputError(f"Placement must be one of {', '.join(FITS)}, got {self.fit!r}.")
        if not isinstance(self.feather, int) or not 0 <= self.feather <= MAX_FEATHER:
            raise InputError(f"The edge feather must be between 0 and {MAX_FEATHER} pixels, got {self.feather}.")
        check_strength(self.control_strength)
        if self.control_mode not in CONTROL_MODES:
            raise InputError(f"The control mode must be one of {', '.join(CONTROL_MODES)}, got {self.control_mode!r}.")

    def check_for(self, info: ModelInfo) -> None:
        """:meth:`check`, then what this model in particular cannot do (too many steps, an unknown class)."""
        self.check()
        if self.steps > info.max_steps:
            raise InputError(f"{info.name} was trained with {info.max_steps} timesteps, so it can take at most "
                             f"{info.max_steps} steps; got {self.steps}.")
        if info.conditioning == "class":
            info.class_named(self.class_label)


def plan_seeds(settings: DiffusionSettings) -> tuple[list[int], int]:
    """(the seed of each image, the seed the panel shows afterwards). Images of one click use consecutive seeds, so
    *fixed* with the shown seed repeats the whole batch; *increment* moves on past it."""
    count = settings.batch_count
    if settings.seed_mode == "random":
        base = secrets.randbelow(2**32)
        return [base + i for i in range(count)], base
    seeds = [settings.seed + i for i in range(count)]
    return seeds, settings.seed + count if settings.seed_mode == "increment" else settings.seed


def recipe_for(settings: DiffusionSettings, info: ModelInfo, seed: int, mode: str, size: tuple[int, int],
               regions: tuple[RecipeRegion, ...] = (), control: RecipeControl | None = None) -> Recipe:
    """The recipe of one image: what the model's conditioning reads from the settings, at ``size``, with the
    regional prompts and the control picture already cut to that picture."""
    if info.conditioning == "class":
        label = info.class_named(settings.class_label)
        prompt, negative = label, ""
    elif info.conditioning == "text":
        prompt, negative, label = settings.prompt, settings.negative_prompt, None
    else:
        prompt, negative, label = "", "", None
    guidance = float(settings.guidance) if info.conditioning != "none" else 1.0
    return Recipe(model_id=info.id, model_hash=info.fingerprint, seed=int(seed), steps=int(settings.steps),
                  sampler=settings.sampler, guidance=guidance, prompt=prompt, negative_prompt=negative,
                  width=int(size[0]), height=int(size[1]),
                  strength=float(settings.strength) if mode != "txt2img" else 1.0, mode=mode,
                  eta=float(settings.eta), class_label=label, regions=tuple(regions), control=control)


def settings_from_recipe(recipe: Recipe, current: DiffusionSettings | None = None) -> DiffusionSettings:
    """The controls that reproduce ``recipe`` (seed mode fixed). Raises InputError for values no control can hold,
    before anything changes."""
    recipe = check_recipe(recipe)
    base = current or DiffusionSettings()
    return dataclasses.replace(
        base, model_id=recipe.model_id, prompt=recipe.prompt if recipe.class_label is None else base.prompt,
        negative_prompt=recipe.negative_prompt, class_label=recipe.class_label or base.class_label,
        steps=recipe.steps, sampler=recipe.sampler, guidance=recipe.guidance, eta=recipe.eta,
        seed=min(recipe.seed, MAX_SEED - MAX_BATCH_COUNT), seed_mode="fixed", width=recipe.width,
        height=recipe.height, strength=recipe.strength if recipe.mode != "txt2img" else base.strength,
        control_strength=recipe.control.strength if recipe.control else base.control_strength,
        control_mode=recipe.control.mode if recipe.control else base.control_mode)
