"""The latent explorer's controller: composes the parts (history, directions, bookmarks, breeding, animation,
encoding) over one shared :class:`ExplorerState`, and runs their requests through the workspace.

Renders go to the workspace's interactive lane (they never wait behind a diffusion batch) and each kind shares one
coalesce key, so while a slider is dragged only the latest position is rendered; a render older than the one
already shown is dropped. Results come back on ``on_*`` (``engine.events.dispatch``) and leave through signals the
panel and its tabs bind to: ``model_changed(space)``, ``grid_ready``, ``children_ready``, ``scrub_ready``,
``current_ready`` (each a :class:`GridResult`), ``exported(paths)``, ``encoded()``, ``status(text, error)``,
``progress(fraction)`` of a long job and ``jobs_changed()``. Any change of what the grid shows (the state's
``changed``) re-renders the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.observable import Signal
from genart_desktop.engine.events import Cancelled, Error, Progress, Result
from genart_desktop.engine.jobs import MAIN_LANE, JobHandle
from genart_desktop.engine.latent.bookmarks import Bookmark, BookmarkLibrary
from genart_desktop.engine.latent.space import GAN, VAE, LatentSpace
from genart_desktop.workspace.executors import WithRegistry
from genart_desktop.workspace.latent.animate import Animation
from genart_desktop.workspace.latent.bookmarks import Bookmarks
from genart_desktop.workspace.latent.breed import Breeding
from genart_desktop.workspace.latent.directions import Directions
from genart_desktop.workspace.latent.encode import Encoding
from genart_desktop.workspace.latent.history import History
from genart_desktop.workspace.latent.requests import (
    EncodeImage,
    ExportAnimation,
    FindDirections,
    LoadModel,
    PlaceLatent,
    RenderLatents,
    encode_image,
    export_animation,
    find_directions,
    load_model,
    place_latent,
    render_latents,
)
from genart_desktop.workspace.latent.state import ExplorerState
from genart_desktop.workspace.workspace import INTERACTIVE_LANE


@dataclass(frozen=True)
class JobKind:
    """How one kind of explorer job runs: its label, lane, whether newer requests replace waiting ones, whether it
    shows the progress bar (``long``), whether an older result must not replace a newer one (``ordered``) and
    whether the jobs list shows it (``listed``: only an export, which may wait behind a diffusion batch; every
    slider step's render is not worth a row)."""

    label: str
    lane: str = INTERACTIVE_LANE
    coalesce: bool = True
    long: bool = False
    ordered: bool = False
    listed: bool = False


KINDS = {
    "load": JobKind("Loading {r.model_id}", long=True),
    "directions": JobKind("Finding directions in {r.space.name}", long=True),
    "grid": JobKind("Rendering the neighbour grid", ordered=True),
    "current": JobKind("Rendering the current image", long=True),
    "children": JobKind("Rendering children", ordered=True),
    "scrub": JobKind("Rendering the path", ordered=True),
    "export": JobKind("Exporting {r.target.name}", MAIN_LANE, coalesce=False, long=True, listed=True),
    "encode": JobKind("Encoding into {r.space.name}"),
    "thumbnails": JobKind("Rendering bookmark thumbnails", ordered=True),
}


class LatentController:
    """The explorer over one model at a time; ``state`` is shared by every part."""

    def __init__(self, workspace: Any, library: BookmarkLibrary | None = None) -> None:
        self.workspace = workspace
        self.registry = workspace.registry
        workspace.register(LoadModel, WithRegistry(load_model, self.registry))
        workspace.register(PlaceLatent, WithRegistry(place_latent, self.registry))
        for request_type, executor in ((FindDirections, find_directions), (RenderLatents, render_latents),
                                       (ExportAnimation, export_animation), (EncodeImage, encode_image)):
            workspace.register(request_type, executor)
        self.state = ExplorerState()
        self.history = History(self.state)
        self.directions = Directions(self.state)
        self.bookmarks = Bookmarks(self.state, self.history, library)
        self.breeding = Breeding(self.state, self.bookmarks)
        self.animation = Animation(self.state, self.bookmarks)
        self.encoding = Encoding(self.state, self.history)
        self.model_changed = Signal()
        self.grid_ready = Signal()
        self.children_ready = Signal()
        self.scrub_ready = Signal()
        self.current_ready = Signal()
        self.exported = Signal()
        self.encoded = Signal()
        self.status = Signal()
        self.progress = Signal()
        self.jobs_changed = Signal()
        self.thumbnails_ready = Signal()  # (GridResult): one image per bookmark of request_thumbnails, in order
        self._ready = {"grid": self.grid_ready, "current": self.current_ready, "children": self.children_ready,
                       "scrub": self.scrub_ready, "export": self.exported, "thumbnails": self.thumbnails_ready}
        self._jobs: dict[int, tuple[str, Any]] = {}
        self._shown: dict[str, int] = {}
        self._loading: tuple[str, int | None] | None = None
        self._key = id(self)
        self.state.changed.connect(self.request_grid)

    # -- models ----------------------------------------------------------------------------------------------------
    def models(self) -> list[Any]:
        """Registered GAN and VAE models the explorer can open."""
        return [e for e in self.registry.models() if e.family in (GAN, VAE)]

    def open_model(self, model_id: str, seed: int | None = None) -> JobHandle:
        """Load a model in the background (sessions can take a moment), then explore it from ``seed``."""
        self._loading = (model_id, seed)
        self.status.emit(f"Loading {model_id}\u2026", False)
        return self.submit(LoadModel(model_id), "load")

    def use_space(self, space: LatentSpace, seed: int | None = None) -> None:
        """Start exploring ``space`` from a random (or the given) seed, with its directions."""
        state = self.state
        state.space = space
        state.truncation = 1.0
        state.encoded_region = None
        self.breeding.clear()
        self.animation.path_ids = []
        self.history.clear()
        self.directions.load(space)
        self.history.randomise(seed)
        self.model_changed.emit(space)
        if not state.principal:
            self.submit(self.directions.principal_request(), "directions")

    # -- jobs ------------------------------------------------------------------------------------------------------
    def submit(self, request: Any, kind: str) -> JobHandle:
        """Run an explorer request of ``kind`` (a key of :data:`KINDS`); its result leaves through that kind's
        signal."""
        how = KINDS[kind]
        handle = self.workspace.submit(request, how.label.format(r=request), self, lane=how.lane, listed=how.listed,
                                       coalesce_key=(f"latent-{kind}", self._key) if how.coalesce else None)
        self._jobs[handle.job_id] = (kind, request)
        self.jobs_changed.emit()
        return handle

    def request_grid(self) -> JobHandle | None:
        """Render the neighbour grid for the current state (coalesced: only the latest request is computed)."""
        if self.state.space is None:
            return None
        try:
            return self.submit(self.history.grid_request(), "grid")
        except GenArtError as exc:
            self.status.emit(str(exc), True)
            return None

    def request_thumbnails(self, marks: Sequence[Bookmark]) -> JobHandle | None:
        """Render a thumbnail of each bookmark (their latents are stored as rendered, so no truncation again)."""
        space = self.state.space
        if space is None or not marks:
            return None
        latents = np.stack([space.check_latents(mark.latent)[0] for mark in marks])
        return self.submit(RenderLatents(space, latents, 1.0, len(marks)), "thumbnails")

    def pending(self, kind: str) -> bool:
        return any(k == kind for k, _ in self._jobs.values())

    @property
    def busy(self) -> bool:
        """True while any job of this explorer is waiting or running."""
        return bool(self._jobs)

    @property
    def long_running(self) -> bool:
        return any(KINDS[k].long for k, _ in self._jobs.values())

    def shutdown(self) -> None:
        """Cancel this explorer's jobs (the workspace's runner itself belongs to the window)."""
        for job_id in list(self._jobs):
            self.workspace.cancel(job_id)

    # -- events (engine.events.dispatch) ---------------------------------------------------------------------------
    def on_progress(self, event: Progress) -> None:
        entry = self._jobs.get(event.job_id)
        if entry is not None and KINDS[entry[0]].long:
            self.progress.emit(event.fraction)

    def on_result(self, event: Result) -> None:
        entry = self._jobs.pop(event.job_id, None)
        if entry is None:
            return
        kind, request = entry
        self.jobs_changed.emit()
        if KINDS[kind].ordered and event.job_id < self._shown.get(kind, 0):
            return  # an older render finished after a newer one was shown
        self._shown[kind] = event.job_id
        try:
            self._take(kind, request, event.value)
        except GenArtError as exc:
            self.status.emit(str(exc), True)

    def _take(self, kind: str, request: Any, value: Any) -> None:
        """What a finished job of ``kind`` does: loads and finds change the state, renders are shown."""
        if kind == "load":
            if self._loading is not None and value.model_id == self._loading[0]:
                self.use_space(value, self._loading[1])
        elif kind == "directions":
            self.directions.set_principal(value, request.space.model_id)
        elif kind == "encode":
            if self.encoding.apply_encoded(value):
                self.encoded.emit()
        else:
            self._ready[kind].emit(value)

    def on_error(self, event: Error) -> None:
        if self._jobs.pop(event.job_id, None) is not None:
            self.jobs_changed.emit()
            self.status.emit(event.message, True)

    def on_cancelled(self, event: Cancelled) -> None:
        if self._jobs.pop(event.job_id, None) is not None:
            self.jobs_changed.emit()
