"""The style palette's work as data: what a style job restyles (a snapshot of the canvas), the request types of a
full render and of a preview, and the executors the workspace runs them with.

Document reads happen on the caller's (GUI) thread when a request is built: the pixels of the region to restyle
(the composite or the active layer, the selection's bounds plus a margin of context) and the selection mask are
copied into a frozen request, so the worker never touches the document. The dock (queued) and ``genart style``
(inline) run the same request type with the same executor, so both get the same pixels.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import resize, resize_mask
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.document.selection import feather
from genart_desktop.engine.jobs import JobContext
from genart_desktop.engine.pipelines.arbitrary_style import (
    ArbitraryStyleModel,
    StyleStats,
    blend_stats,
)
from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings

SOURCES = ("canvas", "layer")  # restyle what you see, or only the active layer's paint
PREVIEW_SIDE = 384  # a preview runs on a copy no larger than this
LIVE_PREVIEW_SIDE = 192  # the look a full render shows in the jobs panel while its tiles run
CONTEXT_MARGIN = 32  # canvas px (times the stroke scale) the network sees around a selection, so edges match
EDGE_FEATHER = 4.0  # px of inner softening where a selection has a hard edge
TILE_MESSAGE = "Tile {done} of {total}"  # a full render's progress message per tile
_TILE_PATTERN = re.compile(r"Tile (\d+) of (\d+)")


@dataclass(frozen=True, eq=False)
class StylePick:
    """One style of a blend for the arbitrary model: the ``choice`` it came from ("preset:<id>", "user:<id>", a
    fixed network's id), its shown ``name`` and ``weight``, and what the model measures: a ``preset`` id of the
    model, or the style picture's ``pixels`` (copied when the request is built)."""

    choice: str
    name: str
    weight: float
    preset: str | None = None
    pixels: np.ndarray | None = None


@dataclass(frozen=True)
class StyleRecipe:
    """Everything needed to render the same style again; stored in the result layer's metadata.

    ``model_id`` is the network that runs: a fixed style network alone (no ``picks``), or the arbitrary model
    with the blend of ``picks``; ``model_name`` says what the user chose ("Starry Night 70% + Great Wave 30%").
    """

    model_id: str
    model_name: str
    settings: StyleSettings
    source: str = "layer"
    picks: tuple[StylePick, ...] = ()

    @property
    def key(self) -> tuple[tuple[str, float], ...]:
        """The chosen styles and weights (what a preview must still match to be shown)."""
        if not self.picks:
            return ((self.model_id, 1.0),)
        return tuple((pick.choice, float(pick.weight)) for pick in self.picks)

    def metadata(self, region: Rect) -> dict[str, Any]:
        data = {
            "source": "style-palette",
            "model_id": self.model_id,
            "model_name": self.model_name,
            "strength": float(self.settings.strength),
            "preserve_colors": bool(self.settings.preserve_colors),
            "scale": float(self.settings.scale),
            "input": self.source,
            "region": [region.x, region.y, region.width, region.height],
        }
        if self.picks:
            data["styles"] = [{"choice": p.choice, "name": p.name, "weight": float(p.weight)} for p in self.picks]
        return data


@dataclass(frozen=True)
class StyleSnapshot:
    """What a job works on: a copy of the pixels of ``region`` and, with a selection, the mask over it."""

    pixels: np.ndarray
    region: Rect
    mask: np.ndarray | None = None

    @classmethod
    def of_image(cls, pixels: np.ndarray) -> StyleSnapshot:
        """A whole RGBA image (an image file on the command line) as the dock would snapshot a one-layer canvas."""
        frozen = np.array(pixels, copy=True)
        frozen.flags.writeable = False
        return cls(frozen, Rect(0, 0, frozen.shape[1], frozen.shape[0]))


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


class _Terminable:
    """A model session whose every run can be stopped mid-graph through a job's RunOptions."""

    def __init__(self, session: Any, run_options: Any) -> None:
        self._session = session
        self._run_options = run_options
        self.inputs = session.inputs
        self.outputs = session.outputs

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self._session.run(feeds, self._run_options)


class RegistryForJob:
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


@dataclass(frozen=True)
class StyleRequest:
    """A full render: the recipe and the snapshot it restyles; the only argument from the dock or ``genart style``
    down to the pipeline. ``tile`` overrides the model's tile size (the command line's ``--tile``)."""

    recipe: StyleRecipe
    snapshot: StyleSnapshot
    tile: int | None = None

    @property
    def label(self) -> str:
        return f"Style: {self.recipe.model_name}" + (" (selection)" if self.snapshot.mask is not None else "")


@dataclass(frozen=True)
class StylePreviewRequest:
    """A quick look: the recipe on a copy of the snapshot no larger than ``max_side``."""

    recipe: StyleRecipe
    snapshot: StyleSnapshot
    max_side: int = PREVIEW_SIDE


def open_pipeline(registry: Any, recipe: StyleRecipe, context: JobContext | None = None,
                  tile: int | None = None) -> StylePipeline:
    """The pipeline of a recipe: its fixed network, or the arbitrary model with the blend of its picks; inside a
    job its sessions stop mid-graph when the job is cancelled."""
    overrides = {"tile": tile} if tile else {}
    source = registry if context is None else RegistryForJob(registry, context.run_options)
    if not recipe.picks:
        return StylePipeline.from_registry(source, recipe.model_id, **overrides)
    model = ArbitraryStyleModel.from_registry(source, recipe.model_id, **overrides)
    return model.pipeline(blend_stats([(pick_stats(model, source, recipe.model_id, pick), pick.weight)
                                       for pick in recipe.picks]))


class _MeasuredStyles:
    """Statistics of style pictures already measured, per model file and picture (a preview per slider move must
    not run the encoder on every picture again)."""

    def __init__(self, size: int = 32) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._stats: OrderedDict[tuple[str, str], StyleStats] = OrderedDict()

    def get(self, model: ArbitraryStyleModel, model_key: str, pixels: np.ndarray) -> StyleStats:
        digest = hashlib.sha256(np.ascontiguousarray(pixels).tobytes() + str(pixels.shape).encode()).hexdigest()
        key = (model_key, digest)
        with self._lock:
            if key in self._stats:
                self._stats.move_to_end(key)
                return self._stats[key]
        stats = model.measure(pixels)
        with self._lock:
            self._stats[key] = stats
            while len(self._stats) > self._size:
                self._stats.popitem(last=False)
        return stats


_MEASURED = _MeasuredStyles()


def pick_stats(model: ArbitraryStyleModel, registry: Any, model_id: str, pick: StylePick) -> StyleStats:
    """The statistics of one pick: the model's preset, or its picture measured (remembered per model file)."""
    if pick.preset is not None:
        return model.preset(pick.preset).stats
    if pick.pixels is None:
        raise InputError(f"The style {pick.name} has neither a preset nor a picture.")
    card = registry.get(model_id).card
    model_key = card.files["encoder"].sha256 if card is not None else model_id
    return _MEASURED.get(model, model_key, pick.pixels)


def render_style(request: StyleRequest, context: JobContext, registry: Any) -> StyleRender:
    """Executor of :class:`StyleRequest`: a live look for the jobs panel, then the tiles, cut to the selection."""
    recipe, snapshot = request.recipe, request.snapshot
    pipeline = open_pipeline(registry, recipe, context, request.tile)
    if recipe.settings.strength > 0:
        look = pipeline.preview(snapshot.pixels, recipe.settings, max_side=LIVE_PREVIEW_SIDE,
                                cancelled=lambda: context.cancelled)
        context.preview(look.pixels)

    def tile_done(done: int, total: int) -> None:
        context.progress(done / max(total, 1) * 0.98, TILE_MESSAGE.format(done=done, total=total))

    pixels = pipeline.apply(snapshot.pixels, recipe.settings, progress=tile_done, cancelled=lambda: context.cancelled)
    context.check_cancelled()
    if pixels.shape[2] == 3:
        pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    pixels = cut_to_mask(pixels, snapshot.mask)
    context.progress(1.0, "Done")
    return StyleRender(pixels, snapshot.region, recipe)


def tile_counts(message: str) -> tuple[int, int] | None:
    """``(done, total)`` from a full render's progress message, None for other messages."""
    match = _TILE_PATTERN.fullmatch(message)
    return None if match is None else (int(match[1]), int(match[2]))


def render_preview(request: StylePreviewRequest, context: JobContext, registry: Any) -> StylePreviewImage:
    """Executor of :class:`StylePreviewRequest`; with a selection, the cut result is shown over the original."""
    recipe, snapshot = request.recipe, request.snapshot
    pipeline = open_pipeline(registry, recipe, context)
    preview = pipeline.preview(snapshot.pixels, recipe.settings, max_side=request.max_side,
                               cancelled=lambda: context.cancelled)
    pixels = preview.pixels
    if snapshot.mask is not None:
        small_mask = resize_mask(snapshot.mask, pixels.shape[1], pixels.shape[0])
        pixels = _over_original(resize(snapshot.pixels, pixels.shape[1], pixels.shape[0]),
                                cut_to_mask(pixels, small_mask, edge=EDGE_FEATHER * pixels.shape[1]
                                            / max(1, snapshot.region.width)))
    return StylePreviewImage(pixels, snapshot.region, recipe, preview.exact)


def _over_original(original: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """The preview of a selection-limited apply: the cut RGBA result drawn over the RGBA original."""
    alpha = cut[..., 3:4].astype(np.float32) / 255.0
    out = np.array(original, copy=True)
    out[..., :3] = np.rint(cut[..., :3] * alpha + original[..., :3] * (1.0 - alpha)).astype(np.uint8)
    out[..., 3] = np.maximum(original[..., 3], cut[..., 3])
    return out
