"""The diffusion dock as a Qt-free controller: settings in, jobs through the workspace, results staged, then a layer.

- :attr:`DiffusionController.settings` (a :class:`DiffusionSettings`) is the single source of truth for every
  control; the panel binds to :attr:`~DiffusionController.settings_changed` and writes edits back with
  :meth:`~DiffusionController.set_settings`.
- :meth:`DiffusionController.submit` reads the document on the caller's thread (the canvas or selection for
  *From canvas*, the selection mask for *Inpaint selection*), turns the settings into one :class:`DiffusionJob`
  (a frozen request holding the :class:`Recipe`) per image with :meth:`~DiffusionController.jobs`, and submits
  each through the workspace. ``genart generate`` calls the same :meth:`~DiffusionController.jobs` and runs them
  inline with ``workspace.run``, through the same executor, so a CLI image and a dock image with the same recipe
  are the same pixels.
- The workspace dispatches each job's events to the ``on_*`` methods here (on the GUI thread in the app); results
  wait in a staging strip (:class:`StagedResult`, announced by :attr:`~DiffusionController.staged_changed`) until
  the user accepts one, which lands as one undoable layer cut to the selection it was made for, with the recipe in
  the layer's metadata. Every finished result also goes to a bounded history (:attr:`history_changed`). The
  document is never touched by a job, so cancelling or failing leaves it exactly as it was.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.images import flatten_alpha, resize
from genart_desktop.core.observable import Signal
from genart_desktop.document.document import Document
from genart_desktop.engine.alpha import tensor_pixels
from genart_desktop.engine.events import Cancelled, Error, Preview, Progress, Result
from genart_desktop.engine.jobs import JobContext, JobHandle
from genart_desktop.engine.pipelines.control import RecipeControl
from genart_desktop.engine.pipelines.generator import GenerationOutput, StepControl
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import MAX_REGIONS, RecipeRegion
from genart_desktop.workspace.diffusion_control import (
    control_layer_picture,
    layer_control,
)
from genart_desktop.workspace.diffusion_models import (
    FAMILIES,
    ModelInfo,
    load_generator,
    model_info,
)
from genart_desktop.workspace.diffusion_placement import (
    FITS,
    Placement,
    Scaler,
    canvas_source,
    placed_pixels,
    text_placement,
    working_size,
)
from genart_desktop.workspace.diffusion_regions import document_regions, restore_regions
from genart_desktop.workspace.diffusion_settings import (
    MAX_BATCH_COUNT,
    MAX_FEATHER,
    SEED_MODES,
    DiffusionSettings,
    plan_seeds,
    recipe_for,
    settings_from_recipe,
)
from genart_desktop.workspace.recipe_png import read_recipe_png, write_recipe_png

__all__ = ["ACTION_MODES", "FITS", "FROM_CANVAS", "GENERATE", "INPAINT", "LAYER_METADATA_KEY", "MAX_BATCH_COUNT",
           "MAX_FEATHER", "SEED_MODES", "DiffusionController", "DiffusionJob", "DiffusionSettings", "GenerationOutput",
           "HistoryItem", "ModelInfo", "PlacedOutput", "Placement", "StagedResult", "model_info"]

GENERATE, FROM_CANVAS, INPAINT = "generate", "from_canvas", "inpaint"
ACTION_MODES = {GENERATE: "txt2img", FROM_CANVAS: "img2img", INPAINT: "inpaint"}
MAX_HISTORY = 100
THUMBNAIL_SIDE = 96
LAYER_METADATA_KEY = "diffusion_recipe"


@dataclass(frozen=True, eq=False)
class DiffusionJob:
    """One image to make: the only request from the dock or the CLI down to the pipeline. ``init`` is (h, w, 3)
    uint8 at the recipe's size, ``mask`` (h, w) float32 in [0, 1] (1 = repaint)."""

    recipe: Recipe
    init: np.ndarray | None = field(default=None, repr=False)
    mask: np.ndarray | None = field(default=None, repr=False)
    preview_every: int = 0
    placement: Placement | None = field(default=None, repr=False)  # where the result lands (None: nowhere)


@dataclass(frozen=True)
class PlacedOutput(GenerationOutput):
    """A generated image and the same picture ready to land on its region (scaled there on the worker, through
    the upscaler when one is installed)."""

    placed: np.ndarray | None = field(default=None, repr=False)


@dataclass
class StagedResult:
    """One image of a submission, from queued to finished; only the thread that delivers events changes it."""

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
    placed: np.ndarray | None = field(default=None, repr=False)  # (rect h, rect w, 4): what accept lands

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


class DiffusionController:
    """State of one diffusion dock (settings, staged results, history) on a workspace; one per workspace.

    Signals: ``settings_changed(settings)``; ``staged_changed(entry)`` with the staged result whose state,
    progress or preview changed, or None when results were added or removed; ``history_changed()``;
    ``control_changed()`` when a layer becomes (or stops being) the control.
    """

    def __init__(self, workspace: Any, *, preview_every: int | None = None, max_history: int = MAX_HISTORY,
                 loader: Callable[[Any, str], Any] | None = None, scale: Scaler | None = None) -> None:
        self.workspace = workspace
        self.scale: Scaler = scale or self._upscale  # how a small result is enlarged onto its region
        self.preview_every = preview_every  # steps between previews; None: about six per image, 0: none
        self.max_history = max_history
        self._loader = loader or load_generator
        self._infos: dict[str, ModelInfo] = {}
        self._models: dict[str, Any] = {}
        self._model_lock = threading.Lock()
        self._jobs_lock = threading.RLock()  # events may be delivered on a worker thread (Qt-free use)
        self._ids = itertools.count(1)
        self.settings = DiffusionSettings()
        self.staged: list[StagedResult] = []
        self.history: list[HistoryItem] = []  # newest first
        self._by_job: dict[int, StagedResult] = {}
        self.settings_changed = Signal()
        self.staged_changed = Signal()
        self.history_changed = Signal()
        self.control_layer_uid: int | None = None  # the layer whose drawing is the control picture
        self.control_changed = Signal()
        workspace.register(DiffusionJob, self.render)

    @property
    def registry(self) -> Any:
        return self.workspace.registry

    def _upscale(self, pixels: np.ndarray, width: int, height: int) -> np.ndarray:
        """The installed upscaler when enlarging (Lanczos without one, and when shrinking)."""
        from genart_desktop.workspace.upscale import upscale_to

        return upscale_to(pixels, width, height, self.registry)

    @property
    def runner(self) -> Any:
        return self.workspace.runner

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

    def generator(self, model_id: str) -> Any:
        """The loaded pipeline (jobs call this on their thread; the CLI first, to refuse a broken model before it
        writes anything); one model is kept loaded at a time."""
        with self._model_lock:
            model = self._models.get(model_id)
            if model is None:
                model = self._loader(self.registry, model_id)
                self._models.clear()
                self._models[model_id] = model
            return model

    # -- settings ------------------------------------------------------------------------------------------------
    def set_settings(self, settings: DiffusionSettings) -> None:
        """Make ``settings`` the dock's settings; ``settings_changed`` tells the controls when they differ."""
        if settings != self.settings:
            self.settings = settings
            self.settings_changed.emit(settings)

    # -- control ------------------------------------------------------------------------------------------------
    def use_layer_as_control(self, doc: Document, index: int | None = None) -> Any:
        """Make a layer (the active one by default) the control picture of the next generations."""
        layer = doc.layers[doc.active_index if index is None else index]
        if not layer.pixels[..., 3].any():
            raise InputError(f"The layer \u201c{layer.name}\u201d is empty: draw lines or colour blocks on it first.")
        self.control_layer_uid = layer.uid
        self.control_changed.emit()
        return layer

    def clear_control(self) -> None:
        if self.control_layer_uid is not None:
            self.control_layer_uid = None
            self.control_changed.emit()

    def control_layer(self, doc: Document | None) -> Any:
        """The control layer if it is still in ``doc`` (None when none is chosen or it was deleted)."""
        if doc is None or self.control_layer_uid is None:
            return None
        return next((layer for layer in doc.layers if layer.uid == self.control_layer_uid), None)

    def chosen_control(self, doc: Document | None) -> Any:
        """The control layer of ``doc`` (None when none is chosen); InputError when it was deleted."""
        if self.control_layer_uid is None or doc is None:
            return None
        layer = self.control_layer(doc)
        if layer is None:
            raise InputError("The control layer was deleted; choose another one or clear the control.")
        return layer

    def document_control(self, doc: Document | None, settings: DiffusionSettings, placement: Placement,
                         size: tuple[int, int]) -> RecipeControl | None:
        """The control the chosen layer gives a ``size`` picture on ``placement`` (None without one). The dock
        applies it only to models that take a control (its control section is disabled for the others)."""
        layer = self.chosen_control(doc)
        if layer is None:
            return None
        return layer_control(layer.pixels, placement, size, settings.control_mode, settings.control_strength)

    def restore_control(self, recipe: Recipe, doc: Document) -> Any:
        """A restored recipe's control as a new layer "Control (mode)" (one undo step), chosen as the control; None
        (the choice left as it is) when the recipe has none. InputError, nothing changed, when it is damaged."""
        picture = control_layer_picture(recipe, doc.rect)
        if picture is None or recipe.control is None:
            return None
        rect, rgba = picture
        layer = doc.add_result_layer(rgba, f"Control ({recipe.control.mode})", {"source": "control"},
                                     use_selection=False, origin=(rect.x, rect.y))
        self.control_layer_uid = layer.uid
        self.control_changed.emit()
        return layer

    # -- requests ------------------------------------------------------------------------------------------------
    def jobs(self, settings: DiffusionSettings, mode: str, size: tuple[int, int], init: np.ndarray | None = None,
             mask: np.ndarray | None = None, placement: Placement | None = None,
             regions: tuple[RecipeRegion, ...] = (), control: RecipeControl | None = None) -> tuple[
            list[DiffusionJob], int]:
        """One request per image of ``settings`` (checked first: InputError before anything runs) at ``size``,
        with ``regions`` (regional prompts cut to that picture) and ``control`` (its control picture), and the
        seed to show afterwards. The dock and ``genart generate`` both build their requests here."""
        info = self.info(settings.model_id)
        settings.check_for(info)
        self.check_regions(info, regions)
        info.check_control(control)
        seeds, shown = plan_seeds(settings)
        every = self.preview_every
        if every is None:  # about six previews over the steps that run
            every = max(1, round(settings.steps / 6))
            every = max(1, round(every * settings.strength)) if mode != "txt2img" else every
        works = info.snap_size(*size)
        if works != tuple(size):  # a size the graphs refuse never reaches the steps
            raise InputError(f"{info.size_rule()}; {size[0]}\u00d7{size[1]} would fail. Generate at "
                             f"{works[0]}\u00d7{works[1]} and scale.")
        return [DiffusionJob(recipe_for(settings, info, seed, mode, size, regions, control), init, mask, every,
                             placement) for seed in seeds], shown

    @staticmethod
    def check_regions(info: ModelInfo, regions: tuple[RecipeRegion, ...]) -> None:
        """InputError when ``info``'s model cannot follow these regional prompts (before anything runs)."""
        if not regions:
            return
        if info.conditioning == "none":
            raise InputError(f"{info.name} takes no prompt, so regional prompts cannot change its picture.")
        if len(regions) > MAX_REGIONS:
            raise InputError(f"At most {MAX_REGIONS} regions can share a picture, got {len(regions)}.")
        if info.conditioning == "class":
            for region in regions:
                info.class_named(region.prompt)

    def restore_regions(self, recipe: Recipe, doc: Document | None) -> int:
        """Put a restored recipe's regional prompts back on ``doc`` (how many; 0 without a document)."""
        return 0 if doc is None else restore_regions(doc, recipe)

    def restore_onto(self, recipe: Recipe, doc: Document | None) -> Any:
        """Put a restored recipe's regional prompts and control back on ``doc`` (Open PNG, history) as one undo
        step: the control layer made, or None. A damaged recipe leaves the document as it was."""
        if doc is None:
            return None
        with doc.history.grouped("Restore Recipe"):
            self.restore_regions(recipe, doc)
            return self.restore_control(recipe, doc)

    def submit(self, action: str, settings: DiffusionSettings | None = None, doc: Document | None = None) -> tuple[
            list[StagedResult], int]:
        """Queue ``settings.batch_count`` images (the current settings when None) for ``action`` (generate,
        from_canvas, inpaint); returns the new staged results and the seed to show, which the settings take on.
        Bad settings or a missing selection raise InputError before anything is queued; the document is only
        read."""
        if action not in ACTION_MODES:
            raise InputError(f"Unknown action {action!r}.")
        settings = settings or self.settings
        settings.check()
        info = self.info(settings.model_id)
        settings.check_for(info)
        init = mask = None
        if action == GENERATE:
            if doc is not None and not doc.selection.is_empty:  # the selection's shape, on the model's grid
                bounds = doc.selection.bounds()
                size = working_size(info, (bounds.width, bounds.height), max(settings.width, settings.height))
            else:
                size = info.snap_size(settings.width, settings.height)
            fit = settings.fit if info.fixed_size is not None else "fill"  # grid rounding: crop a few pixels
            placement = text_placement(doc, size, fit, cutout=not settings.keep_background)
            regions = document_regions(doc, placement, size)
        else:
            if doc is None:
                raise InputError("Open a document first.")
            if not info.can_start_from_image:
                raise InputError(f"{info.name} cannot start from an image (it has no image encoder).")
            if action == INPAINT and doc.selection.is_empty:
                raise InputError("Select the area to repaint first.")
            init, mask, placement = canvas_source(doc, action == INPAINT, info, max(settings.width, settings.height),
                                                  settings.feather, settings.strength)
            size = (init.shape[1], init.shape[0])
            regions = document_regions(doc, placement, size)
        control = self.document_control(doc, settings, placement, size) if info.control else None
        jobs, shown = self.jobs(settings, ACTION_MODES[action], size, init, mask, placement, regions, control)
        entries = [self._queue(job, placement, f"{info.name} \u00b7 seed {job.recipe.seed}") for job in jobs]
        self.set_settings(dataclasses.replace(settings, seed=shown))
        self.staged_changed.emit(None)
        return entries, shown

    def _queue(self, job: DiffusionJob, placement: Placement, label: str) -> StagedResult:
        entry = StagedResult(next(self._ids), job.recipe, placement, label)
        with self._jobs_lock:  # the entry is findable before its first event can arrive
            self.staged.append(entry)
            entry.handle = self.workspace.submit(job, f"Diffusion: {label}", owner=self)
            entry.job_id = entry.handle.job_id
            self._by_job[entry.job_id] = entry
        return entry

    def render(self, job: DiffusionJob, context: JobContext) -> GenerationOutput:
        """The workspace's executor for :class:`DiffusionJob` (a worker thread, or the CLI's thread, where Ctrl+C
        cancels through the context like the Cancel button); live mode's frames run through it too."""
        context.progress(0.0, "Loading the model")
        model = self.generator(job.recipe.model_id)
        context.check_cancelled()

        def on_step(event: Any) -> None:
            context.progress(event.step / max(1, event.total), f"Step {event.step} of {event.total}")
            if event.preview is not None:
                context.preview(tensor_pixels(event.preview[:1]))

        control = StepControl(on_step, lambda: context.cancelled, job.preview_every, context.run_options)
        output = model.render(job.recipe, job.init, job.mask, control)
        if job.placement is None:
            return output
        context.check_cancelled()
        context.progress(1.0, "Placing the result")
        return PlacedOutput(output.pixels, output.recipe, placed_pixels(output.pixels, job.placement, self.scale))

    # -- events (dispatched by the workspace; the GUI thread in the app) ------------------------------------------
    def _live(self, job_id: int) -> StagedResult | None:
        with self._jobs_lock:
            entry = self._by_job.get(job_id)
        return entry if entry is not None and not entry.finished else None

    def _finished(self, job_id: int) -> StagedResult | None:
        with self._jobs_lock:
            return self._by_job.pop(job_id, None)

    def on_progress(self, event: Progress) -> None:
        entry = self._live(event.job_id)
        if entry is not None:
            entry.state, entry.progress, entry.message = "running", float(event.fraction), event.message
            self.staged_changed.emit(entry)

    def on_preview(self, event: Preview) -> None:
        entry = self._live(event.job_id)
        if entry is not None:
            entry.preview = np.asarray(event.image)
            self.staged_changed.emit(entry)

    def on_result(self, event: Result) -> None:
        entry = self._finished(event.job_id)
        output = event.value
        if entry is None or not isinstance(output, GenerationOutput):
            return
        entry.state, entry.progress, entry.message = "done", 1.0, ""
        entry.pixels, entry.recipe, entry.preview = output.pixels, output.recipe, None
        entry.placed = getattr(output, "placed", None)
        self.remember(output.recipe, output.pixels)
        self.staged_changed.emit(entry)

    def on_error(self, event: Error) -> None:
        """A failed result leaves the strip at once; listeners get it (state failed, the message) to report."""
        entry = self._finished(event.job_id)
        if entry is not None:
            entry.state, entry.message, entry.preview = "failed", event.message, None
            if entry in self.staged:
                self.staged.remove(entry)
            self.staged_changed.emit(entry)

    def on_cancelled(self, event: Cancelled) -> None:
        entry = self._finished(event.job_id)
        if entry is not None:
            entry.state, entry.message = "cancelled", "Cancelled"
            if entry in self.staged:
                self.staged.remove(entry)
            self.staged_changed.emit(None)

    # -- staging ------------------------------------------------------------------------------------------------
    def staged_result(self, result_id: int) -> StagedResult:
        for entry in self.staged:
            if entry.id == result_id:
                return entry
        raise InputError("That result is no longer in the staging strip.")

    @property
    def busy(self) -> bool:
        return any(not entry.finished for entry in self.staged)

    @property
    def unaccepted(self) -> list[StagedResult]:
        """Finished results still in the strip: what quitting would lose unless accepted or saved in the file."""
        return [entry for entry in self.staged if entry.state == "done"]

    def adopt(self, staged: list[tuple[Recipe, Placement, str, np.ndarray]],
              history: list[tuple[Recipe, np.ndarray]]) -> None:
        """Take back results and history read from a document's file (:mod:`diffusion_store`), replacing the
        finished ones; results still being made stay."""
        self.staged = [e for e in self.staged if not e.finished] + [
            StagedResult(next(self._ids), recipe, placement, label, state="done", progress=1.0, pixels=pixels)
            for recipe, placement, label, pixels in staged]
        self.history = [HistoryItem(next(self._ids), recipe, thumb) for recipe, thumb in history][:self.max_history]
        self.staged_changed.emit(None)
        self.history_changed.emit()

    def cancel(self, result_id: int) -> bool:
        entry = self.staged_result(result_id)
        return entry.job_id is not None and not entry.finished and self.workspace.cancel(entry.job_id)

    def cancel_all(self) -> None:
        for entry in list(self.staged):
            if not entry.finished and entry.job_id is not None:
                self.workspace.cancel(entry.job_id)

    def discard(self, result_id: int) -> None:
        """Remove a result from the strip (cancelling it if it is still queued or running)."""
        entry = self.staged_result(result_id)
        if not entry.finished and entry.job_id is not None:
            self.workspace.cancel(entry.job_id)
            self._finished(entry.job_id)
        self.staged.remove(entry)
        self.staged_changed.emit(None)

    def discard_finished(self) -> None:
        self.staged = [entry for entry in self.staged if not entry.finished]
        self.staged_changed.emit(None)

    def landing(self, entry: StagedResult) -> np.ndarray | None:
        """What accepting ``entry`` would land on its region (for the canvas preview): placed on the worker, or,
        for a result read back from a file, placed now with Lanczos and kept."""
        if entry.state != "done" or entry.pixels is None:
            return None
        if entry.placed is None:
            entry.placed = placed_pixels(entry.pixels, entry.placement)
        return entry.placed

    def accept(self, result_id: int, doc: Document) -> Any:
        """Land a finished result as one new undoable layer (cut to the selection it was made for, else to the
        current selection), its recipe in the layer's metadata; the result leaves the strip."""
        entry = self.staged_result(result_id)
        if entry.state != "done" or entry.pixels is None:
            raise InputError("This result is not finished yet.")
        if doc is None:
            raise InputError("Open a document first.")
        layer = self.land(entry.recipe, entry.placement, entry.pixels, doc, entry.placed)
        self.staged.remove(entry)
        self.staged_changed.emit(None)
        return layer

    def land(self, recipe: Recipe, placement: Placement, pixels: np.ndarray, doc: Document,
             placed: np.ndarray | None = None) -> Any:
        """One new undoable layer from a result on its placement (``placed`` when already placed, else placed now
        through :attr:`scale`), its recipe in the layer's metadata: staging's Accept and live mode's Keep."""
        pixels = placed if placed is not None else placed_pixels(pixels, placement, self.scale)
        subject = recipe.class_label or recipe.prompt
        name = f"{recipe.model_id}: {subject[:32]}" if subject else recipe.model_id
        metadata = {"source": "diffusion", LAYER_METADATA_KEY: recipe.to_dict()}
        return doc.add_result_layer(pixels, f"{name} ({recipe.seed})", metadata,
                                    use_selection=placement.mask is None,
                                    origin=(placement.rect.x, placement.rect.y))

    # -- history and PNG files ----------------------------------------------------------------------------------
    def remember(self, recipe: Recipe, pixels: np.ndarray) -> HistoryItem:
        item = HistoryItem(next(self._ids), recipe, thumbnail_of(pixels))
        self.history.insert(0, item)
        del self.history[self.max_history:]
        self.history_changed.emit()
        return item

    def history_item(self, item_id: int) -> HistoryItem:
        for item in self.history:
            if item.id == item_id:
                return item
        raise InputError("That history entry is gone.")

    def restore(self, item_id: int, current: DiffusionSettings | None = None) -> DiffusionSettings:
        """The settings that repeat a history entry (``current`` supplies what the recipe does not say)."""
        return self._settings_of(self.history_item(item_id).recipe, current)

    def _settings_of(self, recipe: Recipe, current: DiffusionSettings | None) -> DiffusionSettings:
        """:func:`settings_from_recipe`, a control taken as drawn: the recipe stores the map the model was given
        (lines or blocks already derived), which :meth:`restore_control` makes the control layer, and deriving
        it again would change it."""
        settings = settings_from_recipe(recipe, current or self.settings)
        return dataclasses.replace(settings, control_mode="sketch") if recipe.control else settings

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
        settings = self._settings_of(recipe, current)
        return settings, self.remember(recipe, pixels)
