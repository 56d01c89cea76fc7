"""The diffusion dock as a Qt-free controller: settings in, background jobs out, results staged, then one layer.

The panel turns clicks into calls here and shows what the controller holds:

- :class:`DiffusionSettings` is everything a control shows (model, prompt or class, steps, sampler, guidance, seed
  and seed mode, size, batch count, strength); :meth:`DiffusionController.settings_from_recipe` rebuilds it from a
  past result or a PNG, so the history can restore every control.
- :meth:`DiffusionController.submit` reads the document on the caller's thread (the canvas or selection for
  *From canvas*, the selection mask for *Inpaint selection*), then queues one job per image on the shared runner.
  Jobs report progress, a preview every few steps, and return the pixels with their full recipe. The document is
  never touched by a job, so cancelling or failing leaves it exactly as it was.
- Results wait in a staging strip (:class:`StagedResult`) until the user accepts one, which lands as one undoable
  layer through ``Document.add_result_layer``, cut to the selection it was made for, with the recipe in the layer's
  metadata; every finished result is also kept in a bounded history of recipes and thumbnails.

Events from the runner are fed in with :meth:`DiffusionController.apply_event` (or the ``on_*`` methods the Qt
bridge's signals map onto) on one thread, the GUI thread in the app.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.images import flatten_alpha, from_tensor, resize, to_tensor
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Cancelled, Error, JobEvent, Preview, Progress, Result
from genart_desktop.engine.jobs import JobContext, JobHandle, JobRequest, JobRunner
from genart_desktop.engine.pipelines.diffusion import MAX_SEED, takes_run_options
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.samplers import DEFAULT_SAMPLER, sampler_names
from genart_desktop.workspace.recipe_png import MAX_GUIDANCE, MAX_SIDE, MAX_STEPS, check_recipe, read_recipe_png, \
    write_recipe_png

FAMILIES = ("diffusion", "sd-onnx")
SEED_MODES = ("random", "fixed", "increment")
GENERATE, FROM_CANVAS, INPAINT = "generate", "from_canvas", "inpaint"
ACTION_MODES = {GENERATE: "txt2img", FROM_CANVAS: "img2img", INPAINT: "inpaint"}
MAX_BATCH_COUNT = 64
MAX_HISTORY = 100
THUMBNAIL_SIDE = 96
INPAINT_CONTEXT = 0.25  # an inpaint region is the selection's bounds grown by this fraction, so the model sees context
LAYER_METADATA_KEY = "diffusion_recipe"


# ==================================================================================================== model facts
@dataclass(frozen=True)
class ModelInfo:
    """What the panel needs to know about a model before loading it (read from the card or the Optimum folder)."""

    id: str
    name: str
    family: str
    conditioning: str  # "none" | "class" | "text"
    classes: tuple[str, ...] = ()
    native_size: tuple[int, int] = (512, 512)
    size_step: int = 8  # width and height must be multiples of this
    fixed_size: tuple[int, int] | None = None  # the graph only accepts this size
    default_steps: int = 25
    default_guidance: float = 7.5
    can_start_from_image: bool = True
    fingerprint: str = ""
    description: str = ""
    max_steps: int = MAX_STEPS  # a sampler visits distinct training timesteps, so at most this many
    vocabulary: tuple[str, ...] = ()  # our text models read a fixed word list (Stable Diffusion: none, any text)
    max_tokens: int = 16
    examples: tuple[str, ...] = ()  # prompts the card suggests (config.conditioning.examples)

    def prompt_problems(self, prompt: str) -> str:
        """A short warning when a prompt uses words this model never learned (empty when all is well)."""
        if not self.vocabulary:
            return ""
        from genart_desktop.engine.pipelines.diffusion_model import Conditioning

        unknown = Conditioning("text", (), self.vocabulary, self.max_tokens).unknown_words(prompt)
        if not unknown:
            return ""
        shown = ", ".join(unknown[:8]) + (", \u2026" if len(unknown) > 8 else "")
        return (f"Words this model will not understand (not in its {len(self.vocabulary)}-word vocabulary, or past "
                f"its {self.max_tokens}-word limit): {shown}")

    def snap_size(self, width: float, height: float) -> tuple[int, int]:
        """The nearest size this model can generate (multiples of ``size_step``, at least one step)."""
        if self.fixed_size is not None:
            return self.fixed_size
        step = self.size_step
        w = int(min(MAX_SIDE // step * step, max(step, round(float(width) / step) * step)))
        h = int(min(MAX_SIDE // step * step, max(step, round(float(height) / step) * step)))
        return w, h


def model_info(entry: Any) -> ModelInfo:
    """:class:`ModelInfo` for a registry entry of family ``diffusion`` or ``sd-onnx``; ModelError otherwise."""
    if entry.family == "sd-onnx":
        from genart_desktop.engine.sd.folder import SDFolder
        from genart_desktop.engine.sd.pipeline import DEFAULT_GUIDANCE, DEFAULT_STEPS

        folder = SDFolder.open(entry.folder)
        native = folder.native_size
        return ModelInfo(entry.id, entry.name, "sd-onnx", "text", (), (native, native), folder.vae_factor * 8, None,
                         DEFAULT_STEPS, DEFAULT_GUIDANCE, folder.has("vae_encoder"), "",
                         "Stable Diffusion (ONNX export)", min(MAX_STEPS, folder.schedule.num_train_timesteps))
    if entry.family != "diffusion" or entry.card is None:
        raise ModelError(f"Model '{entry.id}' is a {entry.family} model, not a diffusion model.")
    from genart_desktop.engine.pipelines.diffusion_model import Conditioning
    from genart_desktop.engine.schedules import ScheduleConfig

    card = entry.card
    config = card.config if isinstance(card.config, dict) else {}
    conditioning = Conditioning.from_config(config.get("conditioning"))
    try:
        schedule = ScheduleConfig.from_dict(config.get("schedule", {}))
    except ValueError as exc:
        raise ModelError(f"{entry.id}: config.schedule: {exc}") from exc
    resolution = tuple(card.resolution or (64, 64))
    latent = "vae_decoder" in card.files
    factor = 1
    sample = card.io.get("unet").inputs.get("sample") if "unet" in card.io else None
    dims = tuple(sample.shape[2:4]) if sample is not None and len(sample.shape) == 4 else ()
    if latent:
        lat_cfg = config.get("latent") if isinstance(config.get("latent"), dict) else {}
        if dims and isinstance(dims[0], int) and dims[0] > 0:
            factor = max(1, resolution[1] // dims[0])
        else:
            factor = max(1, int(lat_cfg.get("factor", 1)))
    fixed = None
    if len(dims) == 2 and all(isinstance(d, int) for d in dims):
        fixed = (int(dims[1]) * factor, int(dims[0]) * factor)
    can_start = not latent or bool((config.get("latent") or {}).get("vae"))
    default_guidance = float(config.get("default_guidance", 3.0 if conditioning.kind != "none" else 1.0))
    fingerprint = card.files["unet"].sha256[:16] if "unet" in card.files else ""
    max_steps = min(MAX_STEPS, schedule.num_train_timesteps)
    return ModelInfo(entry.id, entry.name, "diffusion", conditioning.kind, conditioning.classes,
                     (int(resolution[0]), int(resolution[1])), 8 * factor, fixed,
                     min(max_steps, int(config.get("default_steps", 50))), default_guidance, can_start, fingerprint,
                     card.description, max_steps, conditioning.vocabulary, conditioning.max_tokens,
                     _examples(config.get("conditioning")))


def _examples(conditioning: Any, count: int = 4) -> tuple[str, ...]:
    examples = conditioning.get("examples") if isinstance(conditioning, dict) else None
    if not isinstance(examples, list):
        return ()
    return tuple(str(e) for e in examples if isinstance(e, str) and e.strip())[:count]


# ==================================================================================================== settings
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


# ==================================================================================================== results
@dataclass(frozen=True)
class Placement:
    """Where a result lands on the canvas: resized to ``rect`` (``cover`` crops the overflow), then cut to ``mask``
    (the selection it was made for, ``rect``-sized uint8) or, when None, to the selection at accept time."""

    rect: Rect
    mask: np.ndarray | None = field(default=None, repr=False)
    fit: str = "stretch"  # "stretch" | "cover"


@dataclass(frozen=True)
class GenerationOutput:
    """What a generation job returns."""

    pixels: np.ndarray  # (h, w, 3) uint8 at the working size
    recipe: Recipe


@dataclass
class StagedResult:
    """One image of a submission, from queued to finished; only the GUI thread changes it."""

    id: int
    recipe: Recipe
    placement: Placement
    label: str
    job_id: int | None = None
    handle: JobHandle | None = field(default=None, repr=False)
    state: str = "queued"  # queued -> running -> done | failed | cancelled
    progress: float = 0.0
    message: str = ""
    preview: np.ndarray | None = field(default=None, repr=False)
    pixels: np.ndarray | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def image(self) -> np.ndarray | None:
        """The best picture to show now: the result, else the latest preview."""
        return self.pixels if self.pixels is not None else self.preview


@dataclass(frozen=True)
class HistoryItem:
    id: int
    recipe: Recipe
    thumbnail: np.ndarray = field(repr=False)  # (h, w, 3) uint8, at most THUMBNAIL_SIDE a side

    @property
    def title(self) -> str:
        text = self.recipe.class_label or self.recipe.prompt or "(no prompt)"
        return text if len(text) <= 48 else text[:47] + "\u2026"

    @property
    def summary(self) -> str:
        r = self.recipe
        mode = {"txt2img": "", "img2img": f" \u00b7 from canvas {r.strength:.2f}",
                "inpaint": f" \u00b7 inpaint {r.strength:.2f}"}.get(r.mode, "")
        return (f"{r.model_id} \u00b7 seed {r.seed} \u00b7 {r.steps} steps \u00b7 {r.sampler} \u00b7 "
                f"guidance {r.guidance:g} \u00b7 {r.width}\u00d7{r.height}{mode}")


def thumbnail_of(pixels: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    rgb = flatten_alpha(np.asarray(pixels, np.uint8))
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    return resize(rgb, max(1, round(w * scale)), max(1, round(h * scale))) if scale < 1 else rgb.copy()


def _resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    if mask.shape == (height, width):
        return mask.copy()
    image = Image.fromarray(np.ascontiguousarray(mask), "L").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, np.uint8)


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


# ==================================================================================================== controller
class DiffusionController:
    """State of one diffusion dock: models, staged results, history; submits jobs to a shared runner."""

    def __init__(self, registry: Any, runner: JobRunner, *, preview_every: int | None = None,
                 max_history: int = MAX_HISTORY,
                 loader: Callable[[Any, str], Any] | None = None) -> None:
        self.registry = registry
        self.runner = runner
        self.preview_every = preview_every  # None: about six previews per image
        self.max_history = max_history
        self._loader = loader or load_generator
        self._infos: dict[str, ModelInfo] = {}
        self._models: dict[str, Any] = {}
        self._model_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.staged: list[StagedResult] = []
        self.history: list[HistoryItem] = []  # newest first
        self._by_job: dict[int, StagedResult] = {}

    # -- models -----------------------------------------------------------------------------------------------
    def models(self) -> list[Any]:
        """Usable models of the families this dock runs (our U-Nets and Stable Diffusion folders)."""
        if self.registry is None:
            return []
        return [e for e in self.registry.models() if e.family in FAMILIES]

    def info(self, model_id: str) -> ModelInfo:
        if model_id not in self._infos:
            if self.registry is None:
                raise ModelError("No model registry is available.")
            self._infos[model_id] = model_info(self.registry.get(model_id))
        return self._infos[model_id]

    def forget_models(self) -> None:
        """Drop cached model facts and loaded pipelines (after a rescan)."""
        with self._model_lock:
            self._models.clear()
        self._infos.clear()

    def default_settings(self, model_id: str, previous: DiffusionSettings | None = None) -> DiffusionSettings:
        """Settings for a newly chosen model: its defaults for steps, guidance and size; the prompt, seed and other
        choices carried over from ``previous``."""
        info = self.info(model_id)
        base = previous or DiffusionSettings()
        width, height = info.snap_size(*info.native_size)
        label = base.class_label if base.class_label in info.classes else (info.classes[0] if info.classes else "")
        return dataclasses.replace(base, model_id=model_id, steps=info.default_steps,
                                   guidance=info.default_guidance if info.conditioning != "none" else 1.0,
                                   width=width, height=height, class_label=label)

    def _generator(self, model_id: str) -> Any:
        """The loaded pipeline (called on the worker thread); one model is kept loaded at a time."""
        with self._model_lock:
            model = self._models.get(model_id)
            if model is None:
                model = self._loader(self.registry, model_id)
                self._models.clear()
                self._models[model_id] = model
            return model

    # -- seeds -------------------------------------------------------------------------------------------------
    @staticmethod
    def plan_seeds(settings: DiffusionSettings) -> tuple[list[int], int]:
        """(the seed of each image, the seed the panel shows afterwards). Images of one click use consecutive
        seeds, so *fixed* with the shown seed repeats the whole batch; *increment* moves on past it."""
        count = settings.batch_count
        if settings.seed_mode == "random":
            base = secrets.randbelow(2**32)
            return [base + i for i in range(count)], base
        seeds = [settings.seed + i for i in range(count)]
        return seeds, settings.seed + count if settings.seed_mode == "increment" else settings.seed

    # -- recipes and settings ------------------------------------------------------------------------------------
    def recipe_for(self, settings: DiffusionSettings, info: ModelInfo, seed: int, mode: str,
                   size: tuple[int, int]) -> Recipe:
        if info.conditioning == "class":
            prompt, negative, label = settings.class_label, "", settings.class_label
        elif info.conditioning == "text":
            prompt, negative, label = settings.prompt, settings.negative_prompt, None
        else:
            prompt, negative, label = "", "", None
        guidance = float(settings.guidance) if info.conditioning != "none" else 1.0
        return Recipe(model_id=info.id, model_hash=info.fingerprint, seed=int(seed), steps=int(settings.steps),
                      sampler=settings.sampler, guidance=guidance, prompt=prompt, negative_prompt=negative,
                      width=int(size[0]), height=int(size[1]),
                      strength=float(settings.strength) if mode != "txt2img" else 1.0, mode=mode,
                      eta=float(settings.eta), class_label=label)

    def settings_from_recipe(self, recipe: Recipe, current: DiffusionSettings | None = None) -> DiffusionSettings:
        """The controls that reproduce ``recipe`` (seed mode fixed). Raises InputError for values no control can
        hold, before anything changes."""
        recipe = check_recipe(recipe)
        base = current or DiffusionSettings()
        return dataclasses.replace(
            base, model_id=recipe.model_id, prompt=recipe.prompt if recipe.class_label is None else base.prompt,
            negative_prompt=recipe.negative_prompt, class_label=recipe.class_label or base.class_label,
            steps=recipe.steps, sampler=recipe.sampler, guidance=recipe.guidance, eta=recipe.eta,
            seed=min(recipe.seed, MAX_SEED - MAX_BATCH_COUNT), seed_mode="fixed", width=recipe.width,
            height=recipe.height, strength=recipe.strength if recipe.mode != "txt2img" else base.strength)

    # -- submitting ---------------------------------------------------------------------------------------------
    def submit(self, action: str, settings: DiffusionSettings, doc: Document | None = None) -> tuple[
            list[StagedResult], int]:
        """Queue ``settings.batch_count`` images for ``action`` (generate, from_canvas, inpaint); returns the new
        staged results and the seed to show. Bad settings or a missing selection raise InputError before anything
        is queued; the document is only read."""
        if action not in ACTION_MODES:
            raise InputError(f"Unknown action {action!r}.")
        settings.check()
        info = self.info(settings.model_id)
        if settings.steps > info.max_steps:
            raise InputError(f"{info.name} was trained with {info.max_steps} timesteps, so it can take at most "
                             f"{info.max_steps} steps; got {settings.steps}.")
        if info.conditioning == "class" and settings.class_label not in info.classes:
            raise InputError(f"Choose one of the classes {', '.join(info.classes)} for {info.name}.")
        mode = ACTION_MODES[action]
        size = info.snap_size(settings.width, settings.height)
        init = mask = None
        if action == GENERATE:
            placement = self._text_placement(doc, size)
        else:
            if doc is None:
                raise InputError("Open a document first.")
            if not info.can_start_from_image:
                raise InputError(f"{info.name} cannot start from an image (it has no image encoder).")
            if action == INPAINT and doc.selection.is_empty:
                raise InputError("Select the area to repaint first.")
            init, mask, placement = self._source(doc, action, info, settings)
            size = (init.shape[1], init.shape[0])
        seeds, shown = self.plan_seeds(settings)
        entries = []
        for seed in seeds:
            recipe = self.recipe_for(settings, info, seed, mode, size)
            entry = StagedResult(next(self._ids), recipe, placement, f"{info.name} \u00b7 seed {seed}")
            request = JobRequest(self._work(recipe, init, mask), f"Diffusion: {entry.label}")
            self.staged.append(entry)
            entry.handle = self.runner.submit(request)
            entry.job_id = entry.handle.job_id
            self._by_job[entry.job_id] = entry
            entries.append(entry)
        return entries, shown

    def _text_placement(self, doc: Document | None, size: tuple[int, int]) -> Placement:
        if doc is None:
            return Placement(Rect(0, 0, *size))
        if not doc.selection.is_empty:
            bounds = doc.selection.bounds()
            mask = np.array(doc.selection.mask[bounds.slices()], np.uint8)
            return Placement(bounds, mask, "cover")
        return Placement(fit_inside(size[0], size[1], doc.rect))

    def _source(self, doc: Document, action: str, info: ModelInfo,
                settings: DiffusionSettings) -> tuple[np.ndarray, np.ndarray | None, Placement]:
        """(init pixels at the working size, pipeline mask or None, placement) read from the document now."""
        selected = not doc.selection.is_empty
        region = doc.selection.bounds() if selected else doc.rect
        if action == INPAINT:
            pad_x = max(8, round(region.width * INPAINT_CONTEXT))
            pad_y = max(8, round(region.height * INPAINT_CONTEXT))
            region = Rect(region.x - pad_x, region.y - pad_y, region.width + 2 * pad_x,
                          region.height + 2 * pad_y).intersect(doc.rect)
        region_pixels = flatten_alpha(np.array(doc.composite(region), copy=True))
        selection = np.array(doc.selection.mask[region.slices()], np.uint8) if selected else None
        size = working_size(info, (region.width, region.height), max(settings.width, settings.height))
        init = resize(region_pixels, *size)
        mask = None
        if action == INPAINT:
            mask = _resize_mask(selection, *size).astype(np.float32) / 255.0
        return init, mask, Placement(region, selection, "stretch")

    def _work(self, recipe: Recipe, init: np.ndarray | None, mask: np.ndarray | None) -> Callable[[JobContext], Any]:
        preview_every = self.preview_every or max(1, round(recipe.steps / 6))
        if recipe.mode != "txt2img":
            preview_every = max(1, round(preview_every * recipe.strength)) if self.preview_every is None \
                else preview_every

        def work(context: JobContext) -> GenerationOutput:
            context.progress(0.0, "Loading the model")
            model = self._generator(recipe.model_id)
            context.check_cancelled()

            def on_step(event: Any) -> None:
                context.progress(event.step / max(1, event.total), f"Step {event.step} of {event.total}")
                if event.preview is not None:
                    context.preview(from_tensor(event.preview[:1]))

            result = model.generate(
                recipe.class_label if recipe.class_label is not None else recipe.prompt, recipe.negative_prompt,
                steps=recipe.steps, sampler=recipe.sampler, guidance=recipe.guidance, seed=recipe.seed,
                width=recipe.width, height=recipe.height, batch=1, eta=recipe.eta,
                init_image=None if init is None else to_tensor(init), strength=recipe.strength, mask=mask,
                on_step=on_step, cancel=lambda: context.cancelled, preview_every=preview_every,
                **run_options_for(model.generate, context))
            fingerprint = str(getattr(model, "fingerprint", "") or recipe.model_hash)
            return GenerationOutput(result.pixels()[0], dataclasses.replace(recipe, model_hash=fingerprint))

        return work

    # -- events (one thread: the GUI thread in the app) ---------------------------------------------------------
    def apply_event(self, event: JobEvent) -> StagedResult | None:
        """Feed one runner event; returns the staged result it changed, or None when it is not one of ours."""
        if isinstance(event, Progress):
            return self.on_progress(event.job_id, event.fraction, event.message)
        if isinstance(event, Preview):
            return self.on_preview(event.job_id, event.image)
        if isinstance(event, Result):
            return self.on_result(event.job_id, event.value)
        if isinstance(event, Error):
            return self.on_error(event.job_id, event.message)
        if isinstance(event, Cancelled):
            return self.on_cancelled(event.job_id)
        return None

    def _live(self, job_id: int) -> StagedResult | None:
        entry = self._by_job.get(job_id)
        return entry if entry is not None and not entry.finished else None

    def on_progress(self, job_id: int, fraction: float, message: str = "") -> StagedResult | None:
        entry = self._live(job_id)
        if entry is not None:
            entry.state, entry.progress, entry.message = "running", float(fraction), message
        return entry

    def on_preview(self, job_id: int, image: np.ndarray) -> StagedResult | None:
        entry = self._live(job_id)
        if entry is not None:
            entry.preview = np.asarray(image)
        return entry

    def on_result(self, job_id: int, value: Any) -> StagedResult | None:
        entry = self._by_job.pop(job_id, None)
        if entry is None or not isinstance(value, GenerationOutput):
            return None
        entry.state, entry.progress, entry.message = "done", 1.0, ""
        entry.pixels, entry.recipe, entry.preview = value.pixels, value.recipe, None
        self.remember(value.recipe, value.pixels)
        return entry

    def on_error(self, job_id: int, message: str) -> StagedResult | None:
        entry = self._by_job.pop(job_id, None)
        if entry is not None:
            entry.state, entry.message, entry.preview = "failed", message, None
        return entry

    def on_cancelled(self, job_id: int) -> StagedResult | None:
        entry = self._by_job.pop(job_id, None)
        if entry is not None:
            entry.state, entry.message = "cancelled", "Cancelled"
            if entry in self.staged:
                self.staged.remove(entry)
        return entry

    # -- staging ------------------------------------------------------------------------------------------------
    def staged_result(self, result_id: int) -> StagedResult:
        for entry in self.staged:
            if entry.id == result_id:
                return entry
        raise InputError("That result is no longer in the staging strip.")

    @property
    def busy(self) -> bool:
        return any(not entry.finished for entry in self.staged)

    def cancel(self, result_id: int) -> bool:
        entry = self.staged_result(result_id)
        return entry.job_id is not None and not entry.finished and self.runner.cancel(entry.job_id)

    def cancel_all(self) -> None:
        for entry in list(self.staged):
            if not entry.finished and entry.job_id is not None:
                self.runner.cancel(entry.job_id)

    def discard(self, result_id: int) -> None:
        """Remove a result from the strip (cancelling it if it is still queued or running)."""
        entry = self.staged_result(result_id)
        if not entry.finished and entry.job_id is not None:
            self.runner.cancel(entry.job_id)
            self._by_job.pop(entry.job_id, None)
        self.staged.remove(entry)

    def discard_finished(self) -> None:
        self.staged = [entry for entry in self.staged if not entry.finished]

    def accept(self, result_id: int, doc: Document) -> Any:
        """Land a finished result as one new undoable layer (cut to the selection it was made for, else to the
        current selection), its recipe in the layer's metadata; the result leaves the strip."""
        entry = self.staged_result(result_id)
        if entry.state != "done" or entry.pixels is None:
            raise InputError("This result is not finished yet.")
        if doc is None:
            raise InputError("Open a document first.")
        placement = entry.placement
        pixels = placed_pixels(entry.pixels, placement)
        recipe = entry.recipe
        subject = recipe.class_label or recipe.prompt
        name = f"{recipe.model_id}: {subject[:32]}" if subject else recipe.model_id
        metadata = {"source": "diffusion", LAYER_METADATA_KEY: recipe.to_dict()}
        layer = doc.add_result_layer(pixels, f"{name} ({recipe.seed})", metadata,
                                     use_selection=placement.mask is None,
                                     origin=(placement.rect.x, placement.rect.y))
        self.staged.remove(entry)
        return layer

    # -- history and PNG files ----------------------------------------------------------------------------------
    def remember(self, recipe: Recipe, pixels: np.ndarray) -> HistoryItem:
        item = HistoryItem(next(self._ids), recipe, thumbnail_of(pixels))
        self.history.insert(0, item)
        del self.history[self.max_history:]
        return item

    def history_item(self, item_id: int) -> HistoryItem:
        for item in self.history:
            if item.id == item_id:
                return item
        raise InputError("That history entry is gone.")

    def restore(self, item_id: int, current: DiffusionSettings | None = None) -> DiffusionSettings:
        return self.settings_from_recipe(self.history_item(item_id).recipe, current)

    def export_png(self, result_id: int, path: str | Path) -> Path:
        entry = self.staged_result(result_id)
        if entry.state != "done" or entry.pixels is None:
            raise InputError("Only finished results can be exported.")
        return write_recipe_png(path, entry.pixels, entry.recipe)

    def open_png(self, path: str | Path, current: DiffusionSettings | None = None) -> tuple[
            DiffusionSettings, HistoryItem]:
        """Read a PNG's recipe (checked in full first: a bad file changes nothing), add it to the history and
        return the settings that repeat it."""
        pixels, recipe = read_recipe_png(path)
        settings = self.settings_from_recipe(recipe, current)
        return settings, self.remember(recipe, pixels)


def run_options_for(generate: Any, context: JobContext) -> dict[str, Any]:
    """``{"run_options": context.run_options}`` when the generator takes them (both built-in families do), so a
    cancel terminates the U-Net or VAE run in progress instead of waiting for the step to end."""
    return {"run_options": context.run_options} if takes_run_options(generate) else {}


def load_generator(registry: Any, model_id: str) -> Any:
    """A ready pipeline (``generate(prompt, negative, ...)``) for a registry model of either family."""
    entry = registry.get(model_id)
    if entry.family == "sd-onnx":
        from genart_desktop.engine.sd import StableDiffusionOnnx

        return StableDiffusionOnnx.load(entry.folder, registry.settings)
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel

    return CardDiffusionModel.from_registry(registry, model_id)
