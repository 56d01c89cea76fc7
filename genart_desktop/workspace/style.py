"""The style palette as a Qt-free controller: which style, which settings, what part of the canvas, and the jobs.

The panel turns clicks into calls here. Document reads happen on the caller's (GUI) thread when a request is built:
the pixels of the region to restyle (the composite or the active layer, the selection's bounds plus a margin of
context) and the selection mask are copied into the request, so the worker never touches the document. Previews
run on a downscaled copy and share one coalesce key, so clicking through styles only renders the latest click.
A full render lands with :meth:`StyleController.land` as one undoable layer carrying its recipe; a cancelled or
failed render changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import GenArtError, InputError, ModelError
from genart_desktop.core.images import open_image_rgba, resize
from genart_desktop.core.paths import cache_dir
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.document.selection import feather
from genart_desktop.engine.jobs import JobContext, JobHandle, JobRequest, JobRunner, Listener
from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings

log = logging.getLogger(__name__)

STYLE_FAMILY = "style"
SOURCES = ("canvas", "layer")  # restyle what you see, or only the active layer's paint
PREVIEW_SIDE = 384  # a preview runs on a copy no larger than this
LIVE_PREVIEW_SIDE = 192  # the look a full render shows in the jobs panel while its tiles run
THUMB_SIDE = 96
CONTEXT_MARGIN = 32  # canvas px (times the stroke scale) the network sees around a selection, so edges match
EDGE_FEATHER = 4.0  # px of inner softening where a selection has a hard edge


@dataclass(frozen=True)
class StyleRecipe:
    """Everything needed to render the same style again; stored in the result layer's metadata."""

    model_id: str
    model_name: str
    settings: StyleSettings
    source: str = "canvas"

    def metadata(self, region: Rect) -> dict[str, Any]:
        return {
            "source": "style-palette",
            "model_id": self.model_id,
            "model_name": self.model_name,
            "strength": float(self.settings.strength),
            "preserve_colors": bool(self.settings.preserve_colors),
            "scale": float(self.settings.scale),
            "input": self.source,
            "region": [region.x, region.y, region.width, region.height],
        }


@dataclass(frozen=True)
class StyleSnapshot:
    """What a job works on: a copy of the pixels of ``region`` and, with a selection, the mask over it."""

    pixels: np.ndarray
    region: Rect
    mask: np.ndarray | None = None


@dataclass(frozen=True)
class StylePreviewImage:
    """A preview: the restyled region at preview size; ``exact`` when the full render will look the same."""

    pixels: np.ndarray
    region: Rect
    recipe: StyleRecipe
    exact: bool


@dataclass(frozen=True)
class StyleRender:
    """A full-resolution result ready to land: RGBA pixels of ``region``, already cut to the selection."""

    pixels: np.ndarray
    region: Rect
    recipe: StyleRecipe


@dataclass
class _PendingApply:
    document: Document
    recipe: StyleRecipe
    region: Rect


def source_region(document: Document, scale: float = 1.0) -> Rect:
    """The canvas area a style request covers: the selection's bounds plus context, else the whole canvas."""
    bounds = document.selection.bounds()
    if bounds is None:
        return document.rect
    margin = int(math.ceil(CONTEXT_MARGIN * max(1.0, float(scale))))
    grown = Rect(bounds.x - margin, bounds.y - margin, bounds.width + 2 * margin, bounds.height + 2 * margin)
    return grown.clamp(document.width, document.height)


def take_snapshot(document: Document, source: str = "canvas", scale: float = 1.0) -> StyleSnapshot:
    """Copy what a job needs from the document (call on the thread that owns the document)."""
    if source not in SOURCES:
        raise InputError(f"Style source must be one of {', '.join(SOURCES)}, not {source!r}.")
    region = source_region(document, scale)
    if source == "canvas":
        pixels = document.composite(region)
    else:
        pixels = np.array(document.active_layer.pixels[region.slices()], copy=True)
    mask = None
    if not document.selection.is_empty:
        mask = np.array(document.selection.mask[region.slices()], copy=True)
    for array in (pixels, mask):
        if array is not None:
            array.flags.writeable = False
    return StyleSnapshot(pixels, region, mask)


def cut_to_mask(pixels: np.ndarray, mask: np.ndarray | None, edge: float = EDGE_FEATHER) -> np.ndarray:
    """``pixels`` (RGBA) with alpha multiplied by the selection ``mask``; a hard-edged mask gets a soft inner edge
    of about ``edge`` px so the restyled patch blends into the painting, and nothing reaches outside the mask."""
    out = np.array(pixels, copy=True)
    if mask is None:
        return out
    coverage = mask.astype(np.float32) / 255.0
    hard = bool(np.isin(mask, (0, 255)).all())
    if hard and edge > 0:
        radius = min(float(edge), max(1.0, min(mask.shape) / 8.0))
        # blur the hard mask (0.5 at its edge), then map 0.5..1 to 0..1: an inner ramp that never leaks outside
        blurred = feather(mask, radius).astype(np.float32) / 255.0
        coverage = np.minimum(coverage, np.clip(2.0 * blurred - 1.0, 0.0, 1.0))
    out[..., 3] = np.rint(out[..., 3].astype(np.float32) * coverage).astype(np.uint8)
    return out


def sample_scene(side: int = THUMB_SIDE) -> np.ndarray:
    """A small colourful scene (sky, sun, hills, texture) that shows what a style does to a painting."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / max(side - 1, 1)
    sky = np.stack([60 + 150 * yy, 110 + 90 * yy, 200 - 60 * yy], -1)
    image = sky
    sun = ((xx - 0.72) ** 2 + (yy - 0.3) ** 2) < 0.018
    image[sun] = (250, 214, 120)
    for base, amp, freq, colour in ((0.62, 0.06, 7.0, (86, 128, 84)), (0.78, 0.05, 11.0, (46, 86, 62))):
        hill = yy > base + amp * np.sin(xx * freq + base * 10)
        image[hill] = colour
    rng = np.random.default_rng(7)
    image = image + rng.normal(0, 6, image.shape)
    rgb = np.clip(image, 0, 255).astype(np.uint8)
    return np.dstack([rgb, np.full((side, side), 255, np.uint8)])


class _Terminable:
    """A model session whose every run can be stopped mid-graph through a job's RunOptions."""

    def __init__(self, session: Any, run_options: Any) -> None:
        self._session = session
        self._run_options = run_options
        self.inputs = session.inputs
        self.outputs = session.outputs

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self._session.run(feeds, self._run_options)


class _RegistryForJob:
    """The registry as one job sees it: same models, sessions wrapped so cancel stops a tile in progress."""

    def __init__(self, registry: Any, run_options: Any) -> None:
        self._registry = registry
        self._run_options = run_options

    def get(self, model_id: str) -> Any:
        return self._registry.get(model_id)

    def session(self, model_id: str, role: str) -> Any:
        session = self._registry.session(model_id, role)
        if self._run_options is None or not hasattr(session, "inputs"):
            return session
        return _Terminable(session, self._run_options)


class StyleController:
    """State of one style palette: the chosen style, its settings, and the jobs it has running."""

    def __init__(self, registry: Any, runner: JobRunner | None = None, preview_side: int = PREVIEW_SIDE) -> None:
        self.registry = registry
        self.runner = runner
        self.preview_side = int(preview_side)
        self.model_id: str | None = None
        self.settings = StyleSettings()
        self.source = "canvas"
        self._pending: dict[int, _PendingApply] = {}
        self._key = id(self)

    # -- models and settings ---------------------------------------------------------------------------------------
    def models(self) -> list[Any]:
        """The usable style models of the registry."""
        if self.registry is None:
            return []
        return list(self.registry.models(STYLE_FAMILY))

    def select(self, model_id: str) -> None:
        entry = self.registry.get(model_id)
        if entry.family != STYLE_FAMILY:
            raise ModelError(f"Model '{model_id}' is a {entry.family} model, not a style.")
        self.model_id = model_id

    def set_settings(self, strength: float | None = None, preserve_colors: bool | None = None,
                     scale: float | None = None) -> StyleSettings:
        """Change some settings (validated: a bad value raises :class:`InputError` and changes nothing)."""
        changes: dict[str, Any] = {}
        if strength is not None:
            changes["strength"] = float(strength)
        if preserve_colors is not None:
            changes["preserve_colors"] = bool(preserve_colors)
        if scale is not None:
            changes["scale"] = float(scale)
        self.settings = replace(self.settings, **changes)
        return self.settings

    def set_source(self, source: str) -> None:
        if source not in SOURCES:
            raise InputError(f"Style source must be one of {', '.join(SOURCES)}, not {source!r}.")
        self.source = source

    def recipe(self) -> StyleRecipe:
        if self.model_id is None:
            raise InputError("Choose a style first.")
        entry = self.registry.get(self.model_id)
        return StyleRecipe(entry.id, entry.name, self.settings, self.source)

    # -- requests ----------------------------------------------------------------------------------------------------
    def preview_request(self, document: Document) -> JobRequest:
        """A quick look at the chosen style on a downscaled copy of the region (replaces any waiting preview)."""
        recipe = self.recipe()
        snapshot = take_snapshot(document, recipe.source, recipe.settings.scale)
        registry, side = self.registry, self.preview_side

        def work(context: JobContext) -> StylePreviewImage:
            pipeline = StylePipeline.from_registry(_RegistryForJob(registry, context.run_options), recipe.model_id)
            preview = pipeline.preview(snapshot.pixels, recipe.settings, max_side=side,
                                       cancelled=lambda: context.cancelled)
            pixels = preview.pixels
            if snapshot.mask is not None:
                small_mask = _resize_mask(snapshot.mask, pixels.shape[1], pixels.shape[0])
                pixels = _over_original(resize(snapshot.pixels, pixels.shape[1], pixels.shape[0]),
                                        cut_to_mask(pixels, small_mask, edge=EDGE_FEATHER * pixels.shape[1]
                                                    / max(1, snapshot.region.width)))
            return StylePreviewImage(pixels, snapshot.region, recipe, preview.exact)

        return JobRequest(work, f"Style preview: {recipe.model_name}", ("style-preview", self._key))

    def apply_request(self, document: Document) -> tuple[JobRequest, _PendingApply]:
        """The full-resolution render of the region, tile by tile, as a job that reports each tile."""
        recipe = self.recipe()
        snapshot = take_snapshot(document, recipe.source, recipe.settings.scale)
        registry = self.registry

        def work(context: JobContext) -> StyleRender:
            pipeline = StylePipeline.from_registry(_RegistryForJob(registry, context.run_options), recipe.model_id)
            if recipe.settings.strength > 0:
                look = pipeline.preview(snapshot.pixels, recipe.settings, max_side=LIVE_PREVIEW_SIDE,
                                        cancelled=lambda: context.cancelled)
                context.preview(look.pixels)

            def tile_done(done: int, total: int) -> None:
                context.progress(done / max(total, 1) * 0.98, f"Tile {done} of {total}")

            pixels = pipeline.apply(snapshot.pixels, recipe.settings, progress=tile_done,
                                    cancelled=lambda: context.cancelled)
            context.check_cancelled()
            if pixels.shape[2] == 3:
                pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
            pixels = cut_to_mask(pixels, snapshot.mask)
            context.progress(1.0, "Done")
            return StyleRender(pixels, snapshot.region, recipe)

        pending = _PendingApply(document, recipe, snapshot.region)
        label = f"Style: {recipe.model_name}" + (" (selection)" if snapshot.mask is not None else "")
        return JobRequest(work, label), pending

    def thumbnail_request(self, model_id: str) -> JobRequest:
        """The style's thumbnail: the card's image, else rendered once by the network on a sample scene (cached)."""
        registry = self.registry

        def work(context: JobContext) -> np.ndarray:
            return load_or_render_thumbnail(_RegistryForJob(registry, context.run_options), model_id,
                                            cancelled=lambda: context.cancelled)

        return JobRequest(work, f"Style thumbnail: {model_id}", ("style-thumbnail", self._key, model_id),
                          listed=False)

    # -- running through the runner ----------------------------------------------------------------------------------
    def _runner(self) -> JobRunner:
        if self.runner is None:
            raise InputError("The style palette has no job runner.")
        return self.runner

    def preview(self, document: Document, listener: Listener | None = None) -> JobHandle:
        return self._runner().submit(self.preview_request(document), listener)

    def apply(self, document: Document, listener: Listener | None = None) -> JobHandle:
        request, pending = self.apply_request(document)
        handle = self._runner().submit(request, listener)
        self._pending[handle.job_id] = pending
        return handle

    def thumbnail(self, model_id: str, listener: Listener | None = None) -> JobHandle:
        return self._runner().submit(self.thumbnail_request(model_id), listener)

    @property
    def applying(self) -> list[int]:
        """Ids of full renders started here that have not landed or been dropped yet."""
        return list(self._pending)

    def is_apply(self, job_id: int) -> bool:
        return job_id in self._pending

    def cancel_applies(self) -> None:
        runner = self._runner()
        for job_id in list(self._pending):
            runner.cancel(job_id)

    def land(self, job_id: int, render: StyleRender, current: Document | None = None) -> Any:
        """Add a finished render to the document it was started on, as one undoable layer with its recipe.

        Returns the new layer, or None when the job is unknown or that document is no longer the one shown
        (``current``): the result is then dropped and nothing changes.
        """
        pending = self._pending.pop(job_id, None)
        if pending is None or not isinstance(render, StyleRender):
            return None
        document = pending.document
        if current is not None and current is not document:
            return None
        region = render.region.clamp(document.width, document.height)
        if region != render.region:
            raise InputError("The canvas changed size while the style was rendering; apply it again.")
        name = f"Style: {render.recipe.model_name}"
        return document.add_result_layer(render.pixels, name, metadata=render.recipe.metadata(render.region),
                                         use_selection=False, origin=(region.x, region.y))

    def drop(self, job_id: int) -> None:
        """Forget a render that failed or was cancelled (the document was never touched)."""
        self._pending.pop(job_id, None)


def _resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    if mask.shape == (height, width):
        return mask
    image = Image.fromarray(np.ascontiguousarray(mask), "L").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image)


def _over_original(original: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """The preview of a selection-limited apply: the cut RGBA result drawn over the RGBA original."""
    alpha = cut[..., 3:4].astype(np.float32) / 255.0
    out = np.array(original, copy=True)
    out[..., :3] = np.rint(cut[..., :3] * alpha + original[..., :3] * (1.0 - alpha)).astype(np.uint8)
    out[..., 3] = np.maximum(original[..., 3], cut[..., 3])
    return out


# -- thumbnails ---------------------------------------------------------------------------------------------------------
def _thumb_cache_path(entry: Any) -> Path | None:
    card = getattr(entry, "card", None)
    if card is None or "stylizer" not in card.files:
        return None
    digest = hashlib.sha256(f"{card.files['stylizer'].sha256}:{THUMB_SIDE}".encode()).hexdigest()[:20]
    return cache_dir() / "style-thumbnails" / f"{entry.id}-{digest}.png"


def _fit(pixels: np.ndarray, side: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    factor = min(1.0, side / max(width, height))
    if factor == 1.0:
        return pixels
    return resize(pixels, max(1, round(width * factor)), max(1, round(height * factor)))


def load_or_render_thumbnail(registry: Any, model_id: str, cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """RGBA thumbnail of a style: the card's ``thumbnail`` PNG, a cached render, or a fresh render (then cached)."""
    entry = registry.get(model_id)
    card = getattr(entry, "card", None)
    if card is not None and card.thumbnail is not None:
        try:
            return _fit(open_image_rgba(card.thumbnail), THUMB_SIDE)
        except GenArtError as exc:
            log.warning("Thumbnail of %s is unusable (%s); rendering one instead", model_id, exc)
    cached = _thumb_cache_path(entry)
    if cached is not None and cached.is_file():
        try:
            return open_image_rgba(cached)
        except GenArtError:
            log.info("Rendering the damaged cached thumbnail of %s again", model_id)
    pipeline = StylePipeline.from_registry(registry, model_id)
    pixels = pipeline.apply(sample_scene(THUMB_SIDE), StyleSettings(), cancelled=cancelled)
    if cached is not None:
        try:
            buffer = io.BytesIO()
            Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(cached, buffer.getvalue())
        except (GenArtError, OSError) as exc:
            log.info("Could not cache the thumbnail of %s: %s", model_id, exc)
    return pixels
