"""Upscaling as a Qt-free controller: enlarge the active layer or the selection x2/x4 with a learned upscaler (or
Lanczos when none is installed) and land the result as one undoable layer; plus :func:`upscale_to`, which other
families call to put a small generated picture on a large canvas region through the upscaler.

The document is only read on the caller's thread (:func:`take_source` copies the pixels into a frozen
:class:`UpscaleRequest`); the work runs on the workspace's runner (or inline for ``genart upscale``), and the result
lands on the thread that owns the document, centred on the region it was read from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genart_desktop.core.errors import GenArtError, InputError, ModelError
from genart_desktop.core.images import check_pixel_image
from genart_desktop.core.observable import Signal
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.document.selection import mask_bounds
from genart_desktop.engine.events import Cancelled, Error, Progress, Result
from genart_desktop.engine.jobs import JobContext, JobHandle
from genart_desktop.engine.pipelines import upscale as engine_upscale
from genart_desktop.engine.pipelines.upscale import DEFAULT_OVERLAP, DEFAULT_TILE, UpscaleNetwork, UpscalePipeline
from genart_desktop.engine.pipelines.upscale_ensemble import check_ensemble
from genart_desktop.workspace.executors import WithRegistry

UPSCALER_FAMILY = "upscaler"
ROLE = "upscaler"
SOURCES = ("layer", "selection")
SCALES = (2, 4)
LANCZOS = "lanczos"  # the name shown when no model does the work


@dataclass(frozen=True, eq=False)
class UpscaleRequest:
    """Enlarge ``pixels`` (RGB/RGBA uint8, a copy) ``scale`` times, or to exactly ``size`` (w, h) when given.

    ``model_id`` None means plain Lanczos. ``region`` is where the pixels were read on the canvas (None for pixels
    that did not come from a document); ``source`` says what they were ("layer", "selection" or "pixels").
    ``ensemble`` is the network runs per tile (None: the card's ``self_ensemble``; 1 is the fastest).
    """

    model_id: str | None
    scale: int
    pixels: np.ndarray = field(repr=False)
    tile: int | None = None
    region: Rect | None = None
    source: str = "pixels"
    size: tuple[int, int] | None = None
    ensemble: int | None = None

    def __post_init__(self) -> None:
        if self.ensemble is not None:
            check_ensemble(self.ensemble)
        if self.size is None and self.scale not in SCALES:
            raise InputError(f"The upscale factor must be {' or '.join(map(str, SCALES))}, not {self.scale!r}.")
        if self.tile is not None and not 16 <= int(self.tile) <= 4096:
            raise InputError(f"The upscaler tile must be between 16 and 4096 px, not {self.tile}.")
        check_pixel_image(self.pixels)
        if self.pixels.flags.writeable:  # the request owns a read-only copy: the caller may keep painting
            frozen = np.array(self.pixels, np.uint8, copy=True)
            frozen.flags.writeable = False
            object.__setattr__(self, "pixels", frozen)

    @property
    def output_size(self) -> tuple[int, int]:
        if self.size is not None:
            return self.size
        return self.pixels.shape[1] * self.scale, self.pixels.shape[0] * self.scale

    @property
    def label(self) -> str:
        w, h = self.output_size
        return f"Upscale {self.source} to {w}x{h} ({self.model_id or LANCZOS})"


@dataclass(frozen=True, eq=False)
class UpscaleResult:
    pixels: np.ndarray = field(repr=False)
    request: UpscaleRequest

    def metadata(self) -> dict[str, Any]:
        r = self.request
        return {"upscale": {"model": r.model_id or LANCZOS, "scale": r.scale, "source": r.source,
                            "size": list(r.output_size)}}


def upscaler_models(registry: Any) -> list[Any]:
    return list(registry.models(UPSCALER_FAMILY)) if registry is not None else []


def model_scale(entry: Any) -> int:
    return int((entry.card.config if entry.card is not None else {}).get("scale", 0))


def pick_model(registry: Any, scale: int) -> str | None:
    """The id of the installed upscaler to use for ``scale``: one of exactly that scale first, else the largest
    (a x4 model then Lanczos down beats a x2 model run twice); None when none is installed."""
    models = upscaler_models(registry)
    if not models:
        return None
    exact = [m for m in models if model_scale(m) == scale]
    return (exact or sorted(models, key=model_scale, reverse=True))[0].id


def open_upscaler(registry: Any, model_id: str, tile: int | None = None, ensemble: int | None = None
                  ) -> UpscalePipeline:
    """The tiled pipeline of an installed upscaler, set up from its card (scale, value range, tile, overlap, runs
    per tile) unless ``tile`` or ``ensemble`` say otherwise."""
    entry = registry.get(model_id)
    if entry.family != UPSCALER_FAMILY or entry.card is None:
        raise ModelError(f"Model '{model_id}' is a {entry.family} model, not an upscaler.")
    config = entry.card.config
    declared = entry.card.io[ROLE].inputs
    value_range = next(iter(declared.values())).range or (0.0, 1.0)
    if ensemble is None:
        try:
            ensemble = check_ensemble(config.get("self_ensemble", 1), "card's config.self_ensemble")
        except InputError as exc:
            raise ModelError(f"Model '{model_id}': {exc}") from None
    network = UpscaleNetwork(registry.session(model_id, ROLE), model_scale(entry), value_range)
    return UpscalePipeline(network, tile=int(tile or config.get("tile", DEFAULT_TILE)),
                           overlap=int(config.get("overlap", DEFAULT_OVERLAP)), ensemble=ensemble)


def render_upscale(request: UpscaleRequest, context: JobContext, registry: Any) -> UpscaleResult:
    """The executor (worker thread, or the caller's for ``workspace.run``)."""
    pipeline = open_upscaler(registry, request.model_id, request.tile, request.ensemble) if request.model_id \
        else None
    width, height = request.output_size
    pixels = engine_upscale.upscale_to(
        request.pixels, width, height, pipeline,
        progress=lambda fraction: context.progress(fraction, "Upscaling"),
        cancelled=lambda: context.cancelled, run_options=context.run_options)
    return UpscaleResult(pixels, request)


def upscale_to(pixels: np.ndarray, width: int, height: int, registry: Any = None, model_id: str | None = None,
               context: JobContext | None = None) -> np.ndarray:
    """``pixels`` at exactly ``width`` x ``height``, enlarged by an installed upscaler when there is one (the given
    ``model_id``, else :func:`pick_model`'s) and by Lanczos otherwise. Runs on the calling thread: meant for an
    executor that already runs as a job (its ``context`` gives progress, cancel and the onnxruntime options)."""
    scale = max(width / pixels.shape[1], height / pixels.shape[0])
    chosen = model_id or (pick_model(registry, 4 if scale > 2 else 2) if scale > 1 else None)
    pipeline = open_upscaler(registry, chosen) if chosen else None
    return engine_upscale.upscale_to(
        pixels, width, height, pipeline,
        progress=(lambda f: context.progress(f, "Upscaling")) if context is not None else None,
        cancelled=(lambda: context.cancelled) if context is not None else None,
        run_options=context.run_options if context is not None else None)


def take_source(document: Document, source: str) -> tuple[np.ndarray, Rect]:
    """The active layer's pixels in the bounds of what it shows (``layer``) or of the selection, cut to the
    selection's coverage (``selection``), and where they are; an empty layer or selection raises InputError."""
    if source not in SOURCES:
        raise InputError(f"Upscale source must be one of {', '.join(SOURCES)}, not {source!r}.")
    pixels = document.active_layer.pixels
    if source == "selection":
        if document.selection.is_empty:
            raise InputError("Select the part of the picture to upscale first.")
        region = document.selection.bounds()
        cut = np.array(pixels[region.slices()], np.uint8)
        coverage = document.selection.mask[region.slices()].astype(np.uint32)
        cut[..., 3] = ((cut[..., 3].astype(np.uint32) * coverage + 127) // 255).astype(np.uint8)
        cut.flags.writeable = False
        return cut, region
    region = mask_bounds(pixels[..., 3])
    if region is None:
        raise InputError(f"The layer \u201c{document.active_layer.name}\u201d is empty; there is nothing to upscale.")
    cut = np.array(pixels[region.slices()], np.uint8)
    cut.flags.writeable = False
    return cut, region


def landing_origin(region: Rect, size: tuple[int, int], canvas: Rect) -> tuple[int, int]:
    """Top-left of a ``size`` result centred on ``region``, moved inside the canvas where it fits (a result larger
    than the canvas stays centred and is cropped by the layer)."""
    width, height = size
    x = region.x + (region.width - width) // 2
    y = region.y + (region.height - height) // 2
    if width <= canvas.width:
        x = min(max(x, 0), canvas.width - width)
    if height <= canvas.height:
        y = min(max(y, 0), canvas.height - height)
    return x, y


class UpscaleController:
    """Layer > Upscale without Qt: builds requests from the document, runs them through the workspace and lands
    results as layers.

    Signals: ``progress(fraction, message)``, ``applied(layer)``, ``status(message, error)``, ``jobs_changed()``.
    ``current_document`` says which document is shown now: a result for one that was replaced is dropped.
    """

    def __init__(self, workspace: Any, current_document: Callable[[], Document | None] | None = None) -> None:
        self.workspace = workspace
        self.registry = workspace.registry
        workspace.register(UpscaleRequest, WithRegistry(render_upscale, self.registry))
        self.current_document = current_document
        self.progress = Signal()
        self.applied = Signal()
        self.status = Signal()
        self.jobs_changed = Signal()
        self._pending: dict[int, Document] = {}
        self.ensemble: int | None = None  # network runs per tile for Layer > Upscale; None: the model card's

    def set_fast(self, fast: bool) -> None:
        """Fast upscaling runs each tile once; otherwise the card's self-ensemble (sharper, that many times
        slower) applies."""
        self.ensemble = 1 if fast else None

    def models(self) -> list[Any]:
        return upscaler_models(self.registry)

    def request(self, document: Document, source: str = "layer", scale: int = 2, model_id: str | None = None,
                tile: int | None = None) -> UpscaleRequest:
        """What to enlarge, read from the document now; ``model_id`` None picks the installed upscaler (Lanczos
        when there is none)."""
        pixels, region = take_source(document, source)
        chosen = model_id if model_id is not None else pick_model(self.registry, scale)
        return UpscaleRequest(chosen, scale, pixels, tile, region, source, ensemble=self.ensemble)

    def upscale(self, document: Document, source: str = "layer", scale: int = 2, model_id: str | None = None,
                tile: int | None = None) -> JobHandle:
        """Queue the enlargement; it lands as one undoable layer when it finishes."""
        request = self.request(document, source, scale, model_id, tile)
        handle = self.workspace.submit(request, request.label, self)
        self._pending[handle.job_id] = document
        self.status.emit(f"{request.label}\u2026", False)
        self.jobs_changed.emit()
        return handle

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def cancel(self) -> None:
        for job_id in list(self._pending):
            self.workspace.cancel(job_id)

    @staticmethod
    def land(document: Document, result: UpscaleResult) -> Any:
        """Add ``result`` to ``document`` as one undoable layer centred on the region it was read from."""
        request = result.request
        region = request.region or Rect(0, 0, document.width, document.height)
        size = (result.pixels.shape[1], result.pixels.shape[0])
        name = f"Upscaled {request.source} x{request.scale}" if request.size is None else f"Upscaled {request.source}"
        return document.add_result_layer(result.pixels, name, metadata=result.metadata(), use_selection=False,
                                         origin=landing_origin(region, size, document.rect))

    # -- events of this controller's jobs (engine.events.dispatch) ---------------------------------------------------
    def on_progress(self, event: Progress) -> None:
        if event.job_id in self._pending:
            self.progress.emit(event.fraction, event.message)

    def on_result(self, event: Result) -> None:
        document = self._pending.pop(event.job_id, None)
        if document is None or not isinstance(event.value, UpscaleResult):
            return
        current = self.current_document() if self.current_document is not None else document
        try:
            if current is not document:
                self.status.emit("The document was replaced before the upscale finished; the result was dropped.",
                                 False)
            else:
                layer = self.land(document, event.value)
                self.status.emit(f"Added the layer \u201c{layer.name}\u201d. Undo removes it.", False)
                self.applied.emit(layer)
        except GenArtError as exc:
            self.status.emit(str(exc), True)
        self.jobs_changed.emit()

    def on_error(self, event: Error) -> None:
        if self._pending.pop(event.job_id, None) is not None:
            self.status.emit(f"{event.message} The canvas is unchanged.", True)
            self.jobs_changed.emit()

    def on_cancelled(self, event: Cancelled) -> None:
        if self._pending.pop(event.job_id, None) is not None:
            self.status.emit("Cancelled; the canvas is unchanged.", False)
            self.jobs_changed.emit()
