"""The style palette as a Qt-free controller: which style, which settings, what part of the canvas, and the jobs.

The panel turns clicks into calls here. The controller registers the executors of the style request types
(``style_jobs``, ``style_thumbnails``) with the workspace, builds requests on the thread that owns the document and
submits them; its jobs' events come back on ``on_*`` and leave through its signals. Previews share one coalesce
key, so clicking through styles only renders the latest click. A full render lands as one undoable layer carrying
its recipe; a cancelled or failed render changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from genart_desktop.core.errors import GenArtError, InputError, ModelError
from genart_desktop.core.observable import Signal
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Cancelled, Error, Progress, Result
from genart_desktop.engine.jobs import JobHandle
from genart_desktop.engine.pipelines.style import StyleSettings
from genart_desktop.workspace.executors import WithRegistry
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
from genart_desktop.workspace.style_thumbnails import StyleThumbnailRequest, render_thumbnail

STYLE_FAMILY = "style"


def layer_name(recipe: StyleRecipe, taken: list[str]) -> str:
    """A name that tells applied styles apart: the style, its strength and stroke size, and a counter when the
    same settings were applied before ("Style: Starry Night 80% 1.5x", "... (2)")."""
    settings = recipe.settings
    base = f"Style: {recipe.model_name} {settings.strength:.0%}"
    if abs(settings.scale - 1.0) > 1e-6:
        base += f" {settings.scale:g}\u00d7"
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
                 current_document: Callable[[], Document | None] | None = None) -> None:
        self.workspace = workspace
        self.registry = workspace.registry
        for request_type, function in ((StyleRequest, render_style), (StylePreviewRequest, render_preview),
                                       (StyleThumbnailRequest, render_thumbnail)):
            workspace.register(request_type, WithRegistry(function, self.registry))
        self.preview_side = int(preview_side)
        self.current_document = current_document
        self.model_id: str | None = None
        self.settings = StyleSettings()
        self.source = "canvas"
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

    def select(self, model_id: str) -> None:
        entry = self.registry.get(model_id)
        if entry.family != STYLE_FAMILY:
            raise ModelError(f"Model '{model_id}' is a {entry.family} model, not a style network.")
        self.model_id = model_id
        self.settings_changed.emit()

    def forget_missing(self, model_ids: list[str]) -> None:
        """After a rescan: the chosen style is dropped when it is no longer among ``model_ids``."""
        if self.model_id is not None and self.model_id not in model_ids:
            self.model_id = None
            self.settings_changed.emit()

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
        if self.model_id is None:
            raise InputError("Choose a style first.")
        entry = self.registry.get(self.model_id)
        return StyleRecipe(entry.id, entry.name, self.settings, self.source)

    def check_model(self, tile: int | None = None) -> None:
        """Load the chosen style's network now (a broken or wrong model raises before any work starts)."""
        open_pipeline(self.registry, self.recipe().model_id, tile=tile)

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
                                       coalesce_key=("style-preview", self._key))
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

    def thumbnail(self, model_id: str) -> JobHandle:
        """The style's thumbnail (housekeeping: not listed in the jobs panel)."""
        handle = self.workspace.submit(StyleThumbnailRequest(model_id), f"Style thumbnail: {model_id}", self,
                                       coalesce_key=("style-thumbnail", self._key, model_id), listed=False)
        self._thumbs[handle.job_id] = model_id
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
                    and value.recipe.model_id == self.model_id:
                self._shown_preview = job_id
                self.preview_ready.emit(value, not self._previews)
            self.jobs_changed.emit()
        elif job_id in self._pending:
            self._land(job_id, value)

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
