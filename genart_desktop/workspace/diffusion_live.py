"""Live mode: while the user paints, image-to-image of the region (the selection's bounds, or the canvas) re-renders
with a fixed seed and shows as a preview over it; *Keep* turns the frame shown into one undoable layer.

Why this shape: painting must never wait on a model, and a backlog of stale frames is worse than none. So a change
only bumps a revision and schedules one read (``later``: the GUI's next idle moment in the app, at once in tests);
the read copies the region's pixels (nothing else runs on the caller's thread) and at most one frame is in
flight. When it lands, the next frame starts from the newest canvas, so a burst of changes renders at most two
frames and the last one reflects the last change; when an edit is committed (the pen lifted), a frame still
rendering an older canvas is cancelled, so the finished stroke shows after one frame, not two. A frame works at
preview size (:data:`PREVIEW_SIDE`) and runs through :meth:`DiffusionController.render` (the same
``RecipeGenerator.render`` path as every dock image, for our U-Nets and Stable Diffusion folders alike); frames are
never layers: *Keep* lands the current one at full resolution through :meth:`DiffusionController.land`, like the
staging strip's Accept. A frame carries what a dock image of its region would: the regional prompts and, for a model
that takes one, the control layer's drawing on the region (read with the pixels, derived by the dock's control mode
and strength on the worker); painting the control layer, changing its strength or mode, or choosing or clearing it
renders a new frame, coalesced like any other change.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.core.images import flatten_alpha, resize, resize_mask
from genart_desktop.core.observable import Signal
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Cancelled, Error, Preview, Progress, Result
from genart_desktop.engine.jobs import JobContext
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.workspace.diffusion import DiffusionController
from genart_desktop.workspace.diffusion_control import placed_control
from genart_desktop.workspace.diffusion_placement import (
    Placement,
    canvas_region,
    lanczos,
    placed_pixels,
    region_source,
)
from genart_desktop.workspace.diffusion_regions import recipe_regions
from genart_desktop.workspace.diffusion_settings import DiffusionSettings

LIVE_STEPS = 8  # steps while live (the dock's steps are lowered to this and restored afterwards)
PREVIEW_SIDE = 512  # the preview is placed at most this large on a side and drawn scaled over its region
COALESCE_KEY = "diffusion-live"
WATCHED = ("pixels", "layers", "selection", "document", "regions")  # document changes that alter the region's picture


@dataclass(frozen=True, eq=False)
class LiveRequest:
    """One frame to render: the region's pixels as read at ``revision`` and the settings then (seed fixed)."""

    revision: int
    settings: DiffusionSettings
    region: Rect
    pixels: np.ndarray = field(repr=False)  # (h, w, 4) uint8 composite of the region
    selection: np.ndarray | None = field(default=None, repr=False)  # the selection on the region, or None
    regions: tuple[tuple[np.ndarray, str], ...] = field(default=(), repr=False)  # (mask on the region, prompt)
    control: np.ndarray | None = field(default=None, repr=False)  # the control layer's RGBA on the region, or None


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """A rendered frame: ``preview`` (RGBA, at most :data:`PREVIEW_SIDE` a side) to draw scaled over ``region``;
    ``pixels`` (the model's output) lands at full resolution on :meth:`placement` when kept."""

    revision: int
    recipe: Recipe
    request: LiveRequest = field(repr=False)
    pixels: np.ndarray = field(repr=False)
    preview: np.ndarray = field(repr=False)

    @property
    def region(self) -> Rect:
        return self.request.region

    def placement(self) -> Placement:
        """Where *Keep* lands the frame: on its region, cut to the selection it was made for, the canvas's fine
        detail kept by ``1 - strength`` (made only when kept: full resolution is too slow for every frame)."""
        settings = self.request.settings
        return Placement(self.region, self.request.selection, "region", flatten_alpha(self.request.pixels),
                         float(settings.strength), int(settings.feather))


def shrunk(request: LiveRequest, side: int = PREVIEW_SIDE) -> tuple[Rect, np.ndarray, np.ndarray | None, float]:
    """(preview rectangle, the region's pixels and selection at most ``side`` a side, the scale): frames are made
    from the region at preview size, so no step of a frame works at full resolution."""
    rect = request.region
    scale = min(1.0, side / float(max(rect.width, rect.height)))
    if scale >= 1.0:
        return Rect(0, 0, rect.width, rect.height), request.pixels, request.selection, 1.0
    width, height = max(1, round(rect.width * scale)), max(1, round(rect.height * scale))
    selection = None if request.selection is None else resize_mask(request.selection, width, height)
    return Rect(0, 0, width, height), resize(request.pixels, width, height), selection, scale


class LiveController:
    """Live mode of one diffusion dock. Signals: ``frame_changed(frame)`` with a :class:`LiveFrame`, or None when
    the preview goes away; ``enabled_changed(bool)``; ``failed(message)`` when a frame could not be made."""

    def __init__(self, diffusion: DiffusionController, later: Callable[[Callable[[], None]], None] | None = None,
                 steps: int = LIVE_STEPS) -> None:
        self.diffusion = diffusion
        self.workspace = diffusion.workspace
        self.live_steps = steps
        self._later = later or (lambda call: call())
        self.enabled = False
        self.document: Document | None = None
        self.frame: LiveFrame | None = None
        self._revision = 0  # bumped by every change that alters what a frame would show
        self._submitted = -1  # the revision of the newest frame submitted
        self._in_flight: int | None = None  # job id of the frame being made
        self._scheduled = False
        self._lock = threading.RLock()  # Qt-free use delivers events on the worker thread
        self._restore_steps: tuple[int, int] | None = None  # (steps before live, steps live set)
        self.frames_submitted = 0
        self.frame_changed = Signal()
        self.enabled_changed = Signal()
        self.failed = Signal()
        self.workspace.register(LiveRequest, self._execute)
        diffusion.settings_changed.connect(self._settings_changed)
        diffusion.control_changed.connect(self.invalidate)

    # -- state -------------------------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._document_changed)
        self.document = document
        if document is not None:
            document.changed.connect(self._document_changed)
        self._show(None)
        self.invalidate()

    def set_enabled(self, enabled: bool) -> None:
        """Start (InputError when the chosen model cannot start from an image) or stop live mode; stopping
        cancels the frame being made and clears the preview."""
        if enabled == self.enabled:
            return
        if enabled:
            self._start()
        else:
            self.enabled = False
            with self._lock:
                job, self._in_flight = self._in_flight, None
            if job is not None:
                self.workspace.cancel(job)
            self._show(None)
            self._put_steps_back()
        self.enabled_changed.emit(self.enabled)

    def _start(self) -> None:
        settings = self.diffusion.settings
        settings.check()
        info = self.diffusion.info(settings.model_id)
        if not info.can_start_from_image:
            raise InputError(f"{info.name} cannot start from an image (it has no image encoder), so it cannot "
                             "follow the painting.")
        self.enabled = True
        steps = min(self.live_steps, info.max_steps)
        if settings.steps > steps:  # fewer steps while live; the user's count comes back afterwards
            self._restore_steps = (settings.steps, steps)
            self.diffusion.set_settings(dataclasses.replace(settings, steps=steps))
        self.invalidate()

    def _put_steps_back(self) -> None:
        if self._restore_steps is not None:
            before, live = self._restore_steps
            self._restore_steps = None
            if self.diffusion.settings.steps == live:
                self.diffusion.set_settings(dataclasses.replace(self.diffusion.settings, steps=before))

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    # -- changes -> frames -------------------------------------------------------------------------------------
    def _document_changed(self, change: Any) -> None:
        if change.kind in WATCHED:
            self.invalidate()
        elif change.kind == "history":  # a stroke (or any edit) was committed: its frame should not wait
            self._restart_if_stale()

    def _restart_if_stale(self) -> None:
        """Cancel the frame in flight when it shows an older canvas, so the finished edit renders next at once
        instead of after it (the frame-to-frame flow while painting is unchanged: only commits restart)."""
        with self._lock:
            stale = self._in_flight if self._in_flight is not None and self._submitted < self._revision else None
        if stale is not None:
            self.workspace.cancel(stale)

    def _settings_changed(self, _settings: DiffusionSettings) -> None:
        self.invalidate()

    def invalidate(self) -> None:
        """The picture a frame would show has changed: render the newest state when the frame in flight lands."""
        self._revision += 1
        self._schedule()

    def _schedule(self) -> None:
        if self.enabled and not self._scheduled and self._in_flight is None:
            self._scheduled = True
            self._later(self._render)

    def _render(self) -> None:
        """Read the region now (copies only) and submit one frame of it, unless one is in flight or current."""
        self._scheduled = False
        doc = self.document
        if not self.enabled or doc is None or self._in_flight is not None or self._submitted == self._revision:
            return
        settings = dataclasses.replace(self.diffusion.settings, seed_mode="fixed", batch_count=1)
        region, pixels, selection = canvas_region(doc, inpaint=False)
        regions = tuple((np.array(r.mask[region.slices()]), r.prompt) for r in doc.regions)
        try:
            control = self._control_on(doc, region, settings)
        except GenArtError as exc:  # the control layer was deleted: said once, no frame until the next change
            self._submitted = self._revision
            self.failed.emit(str(exc))
            return
        request = LiveRequest(self._revision, settings, region, pixels, selection, regions, control)
        with self._lock:  # its events wait until the frame is known to be in flight
            self._submitted = self._revision
            self.frames_submitted += 1
            self._in_flight = self.workspace.submit(request, "Live diffusion", owner=self,
                                                    coalesce_key=COALESCE_KEY, listed=False).job_id

    def _control_on(self, doc: Document, region: Rect, settings: DiffusionSettings) -> np.ndarray | None:
        """A copy of the control layer's pixels on ``region``: None when none is chosen or the model takes none."""
        if not self.diffusion.info(settings.model_id).control:
            return None
        layer = self.diffusion.chosen_control(doc)
        return None if layer is None else np.array(layer.pixels[region.slices()])

    def _execute(self, request: LiveRequest, context: JobContext) -> LiveFrame:
        """The workspace's executor for :class:`LiveRequest` (a worker thread): shrink, render, place a preview."""
        settings = request.settings
        info = self.diffusion.info(settings.model_id)
        rect, pixels, selection, scale = shrunk(request)
        init, _mask, preview_placement = region_source(rect, pixels, selection, False, info,
                                                       max(settings.width, settings.height),
                                                       round(settings.feather * scale), settings.strength)
        size = (init.shape[1], init.shape[0])
        whole = Placement(Rect(0, 0, request.region.width, request.region.height))  # the region's own pixels
        regions = recipe_regions(request.regions, whole, size)
        control = None if request.control is None else placed_control(
            request.control, whole, size, settings.control_mode, settings.control_strength)
        jobs, _seed = self.diffusion.jobs(settings, "img2img", size, init, regions=regions, control=control)
        output = self.diffusion.render(dataclasses.replace(jobs[0], preview_every=0), context)
        context.check_cancelled()
        preview = placed_pixels(output.pixels, preview_placement, lanczos)
        return LiveFrame(request.revision, output.recipe, request, output.pixels, preview)

    # -- events (dispatched by the workspace; the GUI thread in the app) ----------------------------------------
    def _ended(self, job_id: int) -> bool:
        """True when ``job_id`` is the frame in flight (which has now ended)."""
        with self._lock:
            if job_id != self._in_flight:
                return False
            self._in_flight = None
            return True

    def on_progress(self, event: Progress) -> None:
        pass

    def on_preview(self, event: Preview) -> None:
        pass

    def on_result(self, event: Result) -> None:
        frame = event.value
        if not self._ended(event.job_id) or not self.enabled or not isinstance(frame, LiveFrame):
            return
        if frame.revision >= self._submitted:  # never older than the newest frame asked for
            self._show(frame)
        self._schedule()

    def on_error(self, event: Error) -> None:
        if self._ended(event.job_id) and self.enabled:
            self.failed.emit(event.message)  # no retry until the next change: a bad prompt must not loop

    def on_cancelled(self, event: Cancelled) -> None:
        if self._ended(event.job_id) and self.enabled:
            self._submitted = -1  # its revision never rendered
            self._schedule()

    def _show(self, frame: LiveFrame | None) -> None:
        if frame is not self.frame:
            self.frame = frame
            self.frame_changed.emit(frame)

    # -- keep ---------------------------------------------------------------------------------------------------
    def keep(self, doc: Document | None = None) -> Any:
        """Land the frame shown as one new undoable layer on its region (the same landing as Accept)."""
        doc = doc or self.document
        frame = self.frame
        if frame is None:
            raise InputError("There is no live frame to keep yet.")
        if doc is None:
            raise InputError("Open a document first.")
        return self.diffusion.land(frame.recipe, frame.placement(), frame.pixels, doc)
