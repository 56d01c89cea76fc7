"""The one generation call both diffusion families implement: a :class:`Recipe` in, the picture with its recipe out.

Our own card models and Stable Diffusion folders differ only in how a recipe's prompt becomes condition rows (a
class index, word ids, or CLIP hidden states); everything else (sizes, init image, mask, regional prompts, control, seeds,
previews, cancel) is read from the recipe here, once, and handed to the shared :class:`DiffusionPipeline`.
``generate`` is the same call for scripts and training previews that want keywords and batches instead of a recipe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import to_tensor
from genart_desktop.core.text import shown
from genart_desktop.engine.pipelines.diffusion import (
    DiffusionPipeline,
    DiffusionRequest,
    DiffusionResult,
    StepEvent,
)
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import RegionCondition
from genart_desktop.engine.samplers import DEFAULT_SAMPLER

Condition = np.ndarray | None


@dataclass(frozen=True)
class GenerationOutput:
    """One generated image: (h, w, 3) uint8 pixels ((h, w, 4) straight RGBA from a model with alpha) and the recipe
    that makes it again (model hash filled in)."""

    pixels: np.ndarray
    recipe: Recipe


@dataclass(frozen=True)
class StepControl:
    """How a caller follows and stops a run: step callback, cancel check, preview period, onnxruntime RunOptions."""

    on_step: Callable[[StepEvent], None] | None = None
    cancel: Any = None
    preview_every: int = 0
    run_options: Any = None


class RecipeGenerator:
    """Base of both diffusion families: subclasses set ``pipeline``, ``default_steps``, ``default_guidance`` and
    ``fingerprint``, and implement :meth:`conditions` and :meth:`default_size`."""

    pipeline: DiffusionPipeline
    default_steps: int = 25
    default_guidance: float = 7.5
    fingerprint: str = ""

    @property
    def takes_control(self) -> bool:
        """Whether the U-Net follows a control picture (a sketch or colour blocks)."""
        return bool(getattr(self.pipeline.denoiser, "takes_control", False))

    def check_control(self, recipe: Recipe) -> None:
        """InputError, naming the model, when the recipe brings a control this model cannot follow."""
        if recipe.control is not None and not self.takes_control:
            name = str(getattr(self, "model_id", "") or recipe.model_id)
            raise InputError(f"{shown(name)} takes no control picture; clear the control or choose a model trained "
                             "with one.")

    # -- what a family provides ------------------------------------------------------------------------------------
    def conditions(self, recipe: Recipe, starts_from_image: bool, run_options: Any) -> tuple[Condition, Condition]:
        """(cond, uncond) rows for the recipe's prompt or class; None for an unconditional model."""
        raise NotImplementedError

    def default_size(self) -> tuple[int, int]:
        raise NotImplementedError

    # -- the one call ------------------------------------------------------------------------------------------------
    def render(self, recipe: Recipe, init: np.ndarray | None = None, mask: np.ndarray | None = None,
               control: StepControl = StepControl()) -> GenerationOutput:
        """The image ``recipe`` describes. ``init`` is (h, w, 3) uint8 at the recipe's size (img2img, inpaint) and
        ``mask`` (h, w) in [0, 1], 1 = repaint. Raises InputError for bad input and JobCancelled when cancelled."""
        self.check_control(recipe)
        tensor = None if init is None else to_tensor(init)
        result = self.sample(recipe, tensor, mask, 1, control)
        fingerprint = str(self.fingerprint or recipe.model_hash)
        return GenerationOutput(result.pixels()[0], dataclasses.replace(recipe, model_hash=fingerprint))

    def sample(self, recipe: Recipe, init_image: np.ndarray | None, mask: np.ndarray | None, batch: int,
               control: StepControl) -> DiffusionResult:
        """``batch`` images (seeds ``recipe.seed + i``); ``init_image`` is a (1, 3, H, W) tensor in [-1, 1]."""
        cond, uncond = self.conditions(recipe, init_image is not None, control.run_options)
        regions = self.region_conditions(recipe, control.run_options)
        self.check_control(recipe)
        picture = None if recipe.control is None else to_tensor(recipe.control.pixels(recipe.width, recipe.height))
        request = DiffusionRequest(
            width=recipe.width, height=recipe.height, steps=recipe.steps, sampler=recipe.sampler, eta=recipe.eta,
            guidance=float(recipe.guidance) if cond is not None else 1.0, seed=recipe.seed, batch=batch, cond=cond,
            uncond=uncond, init_image=init_image, strength=float(recipe.strength) if init_image is not None else 1.0,
            mask=mask, regions=regions, control=picture,
            control_strength=recipe.control.strength if recipe.control is not None else 1.0)
        return self.pipeline.run(request, on_step=control.on_step, cancel=control.cancel,
                                 preview_every=control.preview_every, run_options=control.run_options)

    def region_conditions(self, recipe: Recipe, run_options: Any = None) -> tuple[RegionCondition, ...]:
        """Each of the recipe's regions as its prompt's condition row (read as the recipe reads its own prompt: a
        class name for a class model) and its mask at the recipe's size."""
        conditions = []
        for region in recipe.regions:
            own = dataclasses.replace(recipe, regions=(), prompt=region.prompt,
                                      class_label=None if recipe.class_label is None else region.prompt)
            cond = self.conditions(own, False, run_options)[0]
            conditions.append(RegionCondition(cond, region.pixels(recipe.width, recipe.height)))
        return tuple(conditions)

    def generate(self, prompt: str = "", negative_prompt: str = "", *, init_image: np.ndarray | None = None,
                 mask: np.ndarray | None = None, batch: int = 1, on_step: Callable[[StepEvent], None] | None = None,
                 cancel: Any = None, preview_every: int = 0, run_options: Any = None,
                 **values: Any) -> DiffusionResult:
        """Keyword form of :meth:`sample` for scripts and training previews: ``values`` are :class:`Recipe` fields
        (steps, sampler, guidance, seed, width, height, eta, strength); missing ones take the model's defaults."""
        recipe = self.recipe(prompt, negative_prompt, init_image, **values)
        return self.sample(recipe, init_image, mask, batch, StepControl(on_step, cancel, preview_every, run_options))

    def recipe(self, prompt: str = "", negative_prompt: str = "", init_image: np.ndarray | None = None,
               **values: Any) -> Recipe:
        """A recipe from keywords, the model's defaults filling the gaps (None counts as missing)."""
        values = {key: value for key, value in values.items() if value is not None}
        width, height = self.default_size()
        width, height = values.pop("width", width), values.pop("height", height)
        if init_image is not None:  # the image sets the size
            height, width = int(np.shape(init_image)[-2]), int(np.shape(init_image)[-1])
        return Recipe(model_id=str(getattr(self, "model_id", "")), prompt=prompt, negative_prompt=negative_prompt,
                      width=int(width), height=int(height),
                      **{"steps": self.default_steps, "guidance": float(self.default_guidance),
                         "sampler": DEFAULT_SAMPLER, "strength": 0.75, **values})
