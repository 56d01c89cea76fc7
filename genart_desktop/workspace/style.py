"""The style palette as a Qt-free controller: which style, which settings, what part of the canvas, and the jobs.

The panel turns clicks into calls here. A choice is a string (see ``style_choices``): one fixed network runs as
itself, anything else (presets, the user's pictures, blends of 2 to 4) runs the arbitrary model. The controller
registers the executors of the style request types (``style_jobs``, ``style_thumbnails``) with the workspace,
builds requests on the thread that owns the document and submits them; its jobs' events come back on ``on_*`` and
leave through its signals. Previews share one coalesce
key, so clicking through styles only renders the latest click. A full render lands as one undoable layer carrying
its recipe; a cancelled or failed render changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.core.observable import Signal
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Cancelled, Error, Progress, Result
from genart_desktop.engine.jobs import JobHandle
from genart_desktop.engine.pipelines.arbitrary_style import MAX_STYLES
from genart_desktop.engine.pipelines.style import StyleSettings
from genart_desktop.workspace.executors import WithRegistry
from genart_desktop.workspace.style_choices import (
    STYLE_FAMILY,
    USER,
    StyleChoices,
    StyleOption,
)
from genart_desktop.workspace.style_jobs import (
    PREVIEW_SIDE,
    SOURCES,
    StylePreviewImage,
    StylePreviewRequest,
    StyleRecipe,
    StyleRender,
    StyleRequest,
    StyleSnapshot,
    open_pipeline,
    render_preview,
    render_style,
    take_snapshot,
)
from genart_desktop.workspace.style_library import StyleLibrary
from genart_desktop.workspace.style_thumbnails import (
    THUMB_SIDE,
    StyleThumbnailRequest,
    fit_thumbnail,
    render_thumbnail,
)

__all__ = ["STYLE_FAMILY", "StyleController", "StyleOption", "layer_name"]


def layer_name(recipe: StyleRecipe, taken: list[str]) -> str:
    """A name that tells applied styles apart: the style(s), the strength and stroke size, and a counter when the
    same settings were applied before ("Style: Starry Night 70% + Great Wave 30%, strength 80%, strokes 1.5x",
    "... (2)")."""
    settings = recipe.settings
    base = f"Style: {recipe.model_name}, strength {settings.strength:.0%}"
    if abs(settings.scale - 1.0) > 1e-6:
        base += f", strokes {settings.scale:g}\u00d7"
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base} ({count})"
    return name


@dataclass
class _PendingApply:
    document: Document
    recipe: StyleRecipe
    region: Rect


class StyleController:
    """State of one style palette (the chosen style, its settings) and the jobs it has running.

    Constructed with the workspace, it registers the executors of the three style request types, submits through
    the workspace and receives its jobs' events on ``on_*`` (from ``engine.events.dispatch``). A widget binds to
    its signals: ``settings_changed()``, ``preview_ready(StylePreviewImage, final)``, ``preview_failed(message)``,
    ``thumbnail_ready(model_id, pixels)``, ``thumbnail_failed(model_id, message)``, ``progress(fraction,
    message)`` of a full render, ``applied(layer)``, ``status(message, error)`` and ``jobs_changed()``.
    ``current_document`` says which document is shown now: a render for one that was replaced is dropped.
    """

    def __init__(self, workspace: Any, preview_side: int = PREVIEW_SIDE,
                 current_document: Callable[[], Document | None] | None = None,
                 library: StyleLibrary | None = None) -> None:
        self.workspace = workspace
        self.registry = workspace.registry
        for request_type, function in ((StyleRequest, render_style), (StylePreviewRequest, render_preview),
                                       (StyleThumbnailRequest, render_thumbnail)):
            workspace.register(request_type, WithRegistry(function, self.registry))
        self.preview_side = int(preview_side)
        self.current_document = current_document
        self.library = library if library is not None else StyleLibrary()
        self.choices_of = StyleChoices(self.registry, self.library)
        self.choices: tuple[tuple[str, float], ...] = ()  # (choice, weight), 1 to 4 of them
        self.settings = StyleSettings()
        self.source = "layer"  # the active layer: restyling the canvas would restyle earlier style layers too
        self.settings_changed = Signal()
        self.preview_ready = Signal()
        self.preview_failed = Signal()
        self.thumbnail_ready = Signal()
        self.thumbnail_failed = Signal()
        self.progress = Signal()
        self.applied = Signal()
        self.status = Signal()
        self.jobs_changed = Signal()
        self._pending: dict[int, _PendingApply] = {}
        self._previews: set[int] = set()
        self._shown_preview = 0  # job id of the preview on screen: an older one finishing late is not shown
        self._thumbs: dict[int, str] = {}
        self._key = id(self)

    # -- models and settings ---------------------------------------------------------------------------------------
    def models(self) -> list[Any]:
        """The usable style models of the registry."""
        if self.registry is None:
            return []
        return list(self.registry.models(STYLE_FAMILY))

    def options(self) -> list[StyleOption]:
        """Every style the palette shows: fixed networks, presets and the user's styles (with the arbitrary model)."""
        return self.choices_of.options()

    @property
    def model_id(self) -> str | None:
        """The first chosen style (None when nothing is chosen)."""
        return self.choices[0][0] if self.choices else None

    def select(self, choice: str) -> None:
        """Choose one style (a fixed network's id, ``preset:<id>``, ``user:<id>``, ``picture:<n>``)."""
        self.select_many([choice])

    def select_many(self, choices: list[str], weights: list[float] | None = None) -> None:
        """Choose 1 to 4 styles to blend; a style chosen before keeps its weight, a new one gets weight 1 (or
        ``weights``). A bad choice raises and changes nothing."""
        if not 1 <= len(choices) <= MAX_STYLES or len(set(choices)) != len(choices):
            raise InputError(f"Choose 1 to {MAX_STYLES} different styles to blend.")
        if weights is not None and len(weights) != len(choices):
            raise InputError(f"Give one weight per style ({len(choices)}), not {len(weights)}.")
        for choice in choices:
            self.choices_of.check(choice)
            if len(choices) > 1:
                self.choices_of.pick(choice, 1.0, pixels=False)  # a network blends only as its painting
        old = dict(self.choices)
        picked = [float(weights[i]) if weights is not None else old.get(c, 1.0) for i, c in enumerate(choices)]
        if any(w < 0 for w in picked) or not sum(picked) > 0:
            raise InputError("Style weights must be at least 0, and one above 0.")
        self.choices = tuple(zip(choices, picked))
        self.settings_changed.emit()

    def set_weight(self, choice: str, weight: float) -> None:
        """One chosen style's share of the blend (any value >= 0; the blend normalises them)."""
        if choice not in dict(self.choices):
            raise InputError(f"{choice!r} is not among the chosen styles.")
        if not float(weight) >= 0:
            raise InputError(f"A style weight must be at least 0, got {weight!r}.")
        self.choices = tuple((c, float(weight) if c == choice else w) for c, w in self.choices)
        self.settings_changed.emit()

    def forget_missing(self, choices: list[str]) -> None:
        """After a rescan or a removal: chosen styles no longer among ``choices`` are dropped."""
        kept = tuple((c, w) for c, w in self.choices if c in choices)
        if kept != self.choices:
            self.choices = kept if sum(w for _c, w in kept) > 0 else ()
            self.settings_changed.emit()

    # -- the user's styles -----------------------------------------------------------------------------------------
    def add_style_from_image(self, path: str | os.PathLike[str], name: str | None = None) -> StyleOption:
        """A new user style from an image file (refused with one line, nothing written, when it is not one)."""
        self.choices_of.needs_arbitrary()
        style = self.library.add_image(path, name)
        return StyleOption(style.choice, style.name, "user", "Your style")

    def add_style_from_layer(self, document: Document) -> StyleOption:
        """A new user style from the active layer's pixels (call on the thread that owns the document)."""
        self.choices_of.needs_arbitrary()
        layer = document.active_layer
        style = self.library.add_pixels(np.array(layer.pixels, copy=True), layer.name)
        return StyleOption(style.choice, style.name, "user", "Your style")

    def add_picture(self, name: str, pixels: np.ndarray) -> str:
        """A picture used as a style for this session only (``genart style --style-image``; nothing is saved)."""
        self.choices_of.needs_arbitrary()
        return self.choices_of.add_picture(name, pixels)

    def remove_style(self, choice: str) -> None:
        if not choice.startswith(USER):
            raise InputError("Only your own styles can be removed here.")
        self.library.remove(choice[len(USER):])
        self.forget_missing([c for c, _w in self.choices if c != choice])

    def rename_style(self, choice: str, name: str) -> None:
        if not choice.startswith(USER):
            raise InputError("Only your own styles can be renamed.")
        self.library.rename(choice[len(USER):], name)

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
        self.settings_changed.emit()
        return self.settings

    def set_source(self, source: str) -> None:
        if source not in SOURCES:
            raise InputError(f"Style source must be one of {', '.join(SOURCES)}, not {source!r}.")
        self.source = source
        self.settings_changed.emit()

    def recipe(self) -> StyleRecipe:
        return self.choices_of.recipe(self.choices, self.settings, self.source)

    def check_model(self, tile: int | None = None) -> None:
        """Load the chosen style's network now, and measure its pictures (a broken or wrong model or picture raises
        before any work starts)."""
        open_pipeline(self.registry, self.recipe(), tile=tile)

    # -- requests: data, built on the thread that owns the document ---------------------------------------------------
    def style_request(self, snapshot: StyleSnapshot, tile: int | None = None) -> StyleRequest:
        """The full render of ``snapshot`` with the current recipe (the dock and ``genart style`` both use it)."""
        return StyleRequest(self.recipe(), snapshot, tile)

    def preview_request(self, document: Document) -> StylePreviewRequest:
        recipe = self.recipe()
        return StylePreviewRequest(recipe, take_snapshot(document, recipe.source, recipe.settings.scale),
                                   self.preview_side)

    # -- running through the workspace ---------------------------------------------------------------------------------
    def preview(self, document: Document) -> JobHandle:
        """A quick look at the chosen style on a downscaled copy of the region (replaces any waiting preview)."""
        request = self.preview_request(document)
        handle = self.workspace.submit(request, f"Style preview: {request.recipe.model_name}", self,
                                       coalesce_key=("style-preview", self._key), listed=False)
        self._previews.add(handle.job_id)
        self.jobs_changed.emit()
        return handle

    def apply(self, document: Document) -> JobHandle:
        """The full-resolution render of the region, tile by tile; it lands as a layer when it finishes."""
        recipe = self.recipe()
        request = self.style_request(take_snapshot(document, recipe.source, recipe.settings.scale))
        handle = self.workspace.submit(request, request.label, self)
        self._pending[handle.job_id] = _PendingApply(document, recipe, request.snapshot.region)
        self.status.emit(f"Rendering {request.label[len('Style: '):]} at full resolution\u2026", False)
        self.jobs_changed.emit()
        return handle

    def thumbnail(self, choice: str) -> JobHandle | None:
        """The style's thumbnail (housekeeping: not listed in the jobs panel). A user style's is its own picture,
        delivered at once; a preset's is the arbitrary model's render of the sample scene."""
        if choice.startswith(USER):
            try:
                self.thumbnail_ready.emit(choice, fit_thumbnail(self.library.pixels(choice[len(USER):]), THUMB_SIDE))
            except GenArtError as exc:
                self.thumbnail_failed.emit(choice, str(exc))
            return None
        request = StyleThumbnailRequest(choice)
        if not self.choices_of.is_network(choice):
            entry = self.choices_of.arbitrary()
            if entry is None:
                return None
            request = StyleThumbnailRequest(entry.id, choice.split(":", 1)[1])
        handle = self.workspace.submit(request, f"Style thumbnail: {choice}", self,
                                       coalesce_key=("style-thumbnail", self._key, choice), listed=False)
        self._thumbs[handle.job_id] = choice
        return handle

    @property
    def applying(self) -> list[int]:
        """Ids of full renders started here that have not landed or been dropped yet."""
        return list(self._pending)

    @property
    def previewing(self) -> bool:
        return bool(self._previews)

    @property
    def thumbnails_pending(self) -> bool:
        return bool(self._thumbs)

    @property
    def busy(self) -> bool:
        """True while a preview or render of this controller is waiting or running."""
        return bool(self._previews) or bool(self._pending)

    def is_apply(self, job_id: int) -> bool:
        return job_id in self._pending

    def cancel_applies(self) -> None:
        for job_id in list(self._pending):
            self.workspace.cancel(job_id)

    def land(self, job_id: int, render: StyleRender | None, current: Document | None = None) -> Any:
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
        name = layer_name(render.recipe, [layer.name for layer in document.layers])
        return document.add_result_layer(render.pixels, name, metadata=render.recipe.metadata(render.region),
                                         use_selection=False, origin=(region.x, region.y))

    def drop(self, job_id: int) -> None:
        """Forget a render that failed or was cancelled (the document was never touched)."""
        self._pending.pop(job_id, None)

    # -- events of this controller's jobs (engine.events.dispatch) ---------------------------------------------------
    def on_progress(self, event: Progress) -> None:
        if event.job_id in self._pending:
            self.progress.emit(event.fraction, event.message)

    def on_result(self, event: Result) -> None:
        job_id, value = event.job_id, event.value
        if job_id in self._thumbs:
            self.thumbnail_ready.emit(self._thumbs.pop(job_id), value)
        elif job_id in self._previews:
            self._previews.discard(job_id)
            if isinstance(value, StylePreviewImage) and job_id > self._shown_preview \
                    and value.recipe.key == self._key_now():
                self._shown_preview = job_id
                self.preview_ready.emit(value, not self._previews)
            self.jobs_changed.emit()
        elif job_id in self._pending:
            self._land(job_id, value)

    def _key_now(self) -> tuple[tuple[str, float], ...]:
        """The key a preview of the current choice has (a fixed network alone always weighs 1)."""
        if len(self.choices) == 1 and self.choices_of.is_network(self.choices[0][0]):
            return ((self.choices[0][0], 1.0),)
        return self.choices

    def _land(self, job_id: int, value: Any) -> None:
        current = self.current_document() if self.current_document is not None else None
        try:
            layer = self.land(job_id, value if isinstance(value, StyleRender) else None, current)
        except GenArtError as exc:
            self.status.emit(str(exc), True)
        else:
            if layer is None:
                self.status.emit("The document was replaced before the style finished; the result was dropped.",
                                 False)
            else:
                self.status.emit(f"Added the layer \u201c{layer.name}\u201d. Undo removes it.", False)
                self.applied.emit(layer)
        self.jobs_changed.emit()

    def on_error(self, event: Error) -> None:
        job_id = event.job_id
        if job_id in self._thumbs:
            self.thumbnail_failed.emit(self._thumbs.pop(job_id), event.message)
        elif job_id in self._previews:
            self._previews.discard(job_id)
            self.preview_failed.emit(event.message)
            self.status.emit(event.message, True)
            self.jobs_changed.emit()
        elif job_id in self._pending:
            self.drop(job_id)
            self.status.emit(f"{event.message} The canvas is unchanged.", True)
            self.jobs_changed.emit()

    def on_cancelled(self, event: Cancelled) -> None:
        job_id = event.job_id
        self._thumbs.pop(job_id, None)
        if job_id in self._previews:
            self._previews.discard(job_id)
            self.jobs_changed.emit()
        elif job_id in self._pending:
            self.drop(job_id)
            self.status.emit("Cancelled; the canvas is unchanged.", False)
            self.jobs_changed.emit()
