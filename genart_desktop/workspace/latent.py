"""The latent explorer as a Qt-free controller: state, history and the render requests the panel submits.

The panel only turns clicks and drags into calls here and shows what the jobs return. Every render is a
:class:`JobRequest` with a coalesce key, so while one grid is being rendered, newer requests replace each other in
the queue and only the latest is computed. Document reads (encoding a selection) happen on the caller's thread;
only the pixel snapshot travels to the worker.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, resize
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.jobs import JobContext, JobRequest
from genart_desktop.engine.latent import animation, crossbreed, interpolate, neighbours
from genart_desktop.engine.latent.bookmarks import METADATA_KEY, Bookmark, BookmarkLibrary, metadata_value, read_metadata
from genart_desktop.engine.latent.directions import (
    Direction,
    UserDirections,
    cached_principal_directions,
    combine,
    direction_between,
    load_cached,
)
from genart_desktop.engine.latent.space import GAN, VAE, LatentSpace, space_from_registry

MAX_HISTORY = 200
PRINCIPAL_COUNT = 8
PRINCIPAL_SAMPLES = 512
RENDER_BATCH = 32


@dataclass(frozen=True)
class Place:
    """One entry of the back/forward history: where the explorer was centred and how its sliders stood."""

    centre: np.ndarray = field(compare=False)
    seed: int | None
    grid_seed: int
    sliders: tuple[float, ...] = ()


@dataclass(frozen=True)
class GridResult:
    """What a grid render returns: the latents shown (untruncated, so clicks recentre exactly) and their images."""

    latents: np.ndarray
    images: np.ndarray
    size: int


def _new_seed() -> int:
    return secrets.randbelow(2**31)


class LatentExplorer:
    """State of one explorer panel over one model at a time."""

    def __init__(self, registry: Any, library: BookmarkLibrary | None = None) -> None:
        self.registry = registry
        self.library = library if library is not None else BookmarkLibrary()
        self.space: LatentSpace | None = None
        self.principal: list[Direction] = []
        self.user_directions: list[Direction] = []
        self.sliders: list[float] = []
        self.grid_size = 3
        self.spread = 0.6
        self.truncation = 1.0
        self.centre = np.zeros(0, np.float32)
        self.seed: int | None = None
        self.grid_seed = 0
        self.children: np.ndarray = np.zeros((0, 0), np.float32)
        self.path_ids: list[str] = []
        self.encoded_region: Rect | None = None
        self._history: list[Place] = []
        self._index = -1
        self._key = id(self)

    # -- models ----------------------------------------------------------------------------------------------------
    def models(self) -> list[Any]:
        """Registered GAN and VAE models the explorer can open."""
        return [e for e in self.registry.models() if e.family in (GAN, VAE)]

    def open_model(self, model_id: str, seed: int | None = None) -> LatentSpace:
        """Load a model (sessions from the registry), its saved directions and cached principal directions."""
        return self.use_space(space_from_registry(self.registry, model_id), seed)

    def load_request(self, model_id: str) -> JobRequest:
        """Creating sessions can take a moment for a real model, so the panel loads it as a job."""
        registry = self.registry
        return JobRequest(lambda context: space_from_registry(registry, model_id), f"Loading {model_id}",
                          ("latent-load", self._key))

    def use_space(self, space: LatentSpace, seed: int | None = None) -> LatentSpace:
        """Start exploring ``space`` from a random (or the given) seed, with its directions."""
        self.space = space
        self.user_directions = UserDirections(space.model_id, space.latent_dim).load()
        self.principal = load_cached(space, PRINCIPAL_COUNT, PRINCIPAL_SAMPLES) or []
        self.sliders = [0.0] * len(self.directions)
        self.truncation = 1.0
        self.children = np.zeros((0, space.latent_dim), np.float32)
        self.path_ids = []
        self.encoded_region = None
        self._history, self._index = [], -1
        self.randomise(seed)
        return space

    def _space(self) -> LatentSpace:
        if self.space is None:
            raise InputError("Choose a GAN or VAE model first.")
        return self.space

    @property
    def directions(self) -> list[Direction]:
        return list(self.principal) + list(self.user_directions)

    def principal_request(self) -> JobRequest:
        """Find (or load from the cache) the principal directions: slow the first time, so it is a job."""
        space = self._space()

        def work(context: JobContext) -> list[Direction]:
            return cached_principal_directions(space, PRINCIPAL_COUNT, PRINCIPAL_SAMPLES,
                                               progress=context.progress, cancelled=lambda: context.cancelled)

        return JobRequest(work, f"Finding directions in {space.name}", ("latent-directions", self._key))

    def set_principal(self, directions: Sequence[Direction], model_id: str) -> bool:
        """Install principal directions found by a job (ignored if the model changed meanwhile)."""
        if self.space is None or self.space.model_id != model_id:
            return False
        user = self.sliders[len(self.principal):]
        self.principal = list(directions)
        self.sliders = [0.0] * len(self.principal) + user
        return True

    # -- where we are ----------------------------------------------------------------------------------------------
    def current(self) -> np.ndarray:
        """The centre moved along every direction by its slider (before truncation)."""
        self._space()
        return combine(self.centre, self.directions, self.sliders)

    def effective(self, latents: np.ndarray) -> np.ndarray:
        """What is rendered: GAN latents pulled toward the mean by the truncation setting."""
        if self.space is not None and self.space.kind == GAN and self.truncation < 1.0:
            return crossbreed.truncate(latents, self.truncation)
        return np.asarray(latents, np.float32)

    def grid_latents(self) -> np.ndarray:
        return neighbours.neighbour_grid(self.current(), self.grid_size, self.spread, self.grid_seed,
                                         self._space().shape_noise)

    def set_grid(self, size: int | None = None, spread: float | None = None) -> None:
        if size is not None:
            neighbours.neighbour_offsets(1, size, 0.0, 0)  # validates the size
            self.grid_size = int(size)
        if spread is not None:
            if not np.isfinite(spread) or spread < 0:
                raise InputError(f"The spread must be a non-negative number; got {spread}.")
            self.spread = float(spread)

    def set_truncation(self, psi: float) -> None:
        if not 0.0 <= psi <= 1.0:
            raise InputError(f"Truncation must be between 0 and 1; got {psi}.")
        self.truncation = float(psi)

    def set_slider(self, index: int, value: float) -> None:
        if not 0 <= index < len(self.sliders):
            raise InputError(f"There is no direction slider {index}.")
        self.sliders[index] = float(np.clip(value, -1.0, 1.0))

    def reset_sliders(self) -> None:
        self.sliders = [0.0] * len(self.sliders)

    # -- history ---------------------------------------------------------------------------------------------------
    def _place(self) -> Place:
        return Place(self.centre.copy(), self.seed, self.grid_seed, tuple(self.sliders))

    def _restore(self, place: Place) -> None:
        self.centre = place.centre.copy()
        self.seed = place.seed
        self.grid_seed = place.grid_seed
        sliders = list(place.sliders)[: len(self.directions)]
        self.sliders = sliders + [0.0] * (len(self.directions) - len(sliders))

    def move_to(self, latent: np.ndarray, seed: int | None = None) -> None:
        """Make ``latent`` the new centre (sliders reset) and remember the move in the history."""
        z = self._space().check_latents(latent)[0]
        if 0 <= self._index < len(self._history):
            self._history[self._index] = replace(self._history[self._index], sliders=tuple(self.sliders))
        self.centre = z.copy()
        self.seed = seed
        self.grid_seed = (self.grid_seed + 1) % (2**31)
        self.sliders = [0.0] * len(self.directions)
        del self._history[self._index + 1:]
        self._history.append(self._place())
        if len(self._history) > MAX_HISTORY:
            del self._history[0]
        self._index = len(self._history) - 1

    def recentre(self, index: int, shown: np.ndarray | None = None) -> None:
        """Clicking a neighbour: it becomes the centre. ``shown`` are the latents on screen (default: recomputed)."""
        latents = shown if shown is not None else self.grid_latents()
        if not 0 <= index < len(latents):
            raise InputError(f"There is no grid cell {index}.")
        if index == neighbours.centre_index(int(round(np.sqrt(len(latents))))) and shown is None:
            return
        self.move_to(latents[index])

    def randomise(self, seed: int | None = None) -> int:
        """A fresh random centre; the seed is kept so the same image can be found again."""
        space = self._space()
        seed = _new_seed() if seed is None else int(seed)
        if not 0 <= seed < 2**63:
            raise InputError(f"A seed is a whole number from 0 to {2**63 - 1}; got {seed}.")
        self.move_to(space.sample(seed)[0], seed=seed)
        return seed

    @property
    def can_go_back(self) -> bool:
        return self._index > 0

    @property
    def can_go_forward(self) -> bool:
        return self._index < len(self._history) - 1

    def back(self) -> bool:
        if not self.can_go_back:
            return False
        self._history[self._index] = replace(self._history[self._index], sliders=tuple(self.sliders))
        self._index -= 1
        self._restore(self._history[self._index])
        return True

    def forward(self) -> bool:
        if not self.can_go_forward:
            return False
        self._history[self._index] = replace(self._history[self._index], sliders=tuple(self.sliders))
        self._index += 1
        self._restore(self._history[self._index])
        return True

    def shuffle(self) -> None:
        """New neighbours around the same centre."""
        self.grid_seed = (self.grid_seed + 7919) % (2**31)

    # -- rendering -------------------------------------------------------------------------------------------------
    def render(self, latents: np.ndarray, context: JobContext | None = None) -> np.ndarray:
        """(N, H, W, 3) images of ``latents`` with the current model and truncation (see :meth:`renderer`)."""
        return self.renderer()(latents, context)

    def renderer(self) -> Callable[[np.ndarray, JobContext | None], np.ndarray]:
        """A render function bound to the model and truncation of *now*, safe to run on a worker thread even if
        the user switches models meanwhile. It renders batch by batch so a cancel stops it soon."""
        space = self._space()
        psi = self.truncation if space.kind == GAN else 1.0

        def render(latents: np.ndarray, context: JobContext | None = None) -> np.ndarray:
            z = space.check_latents(latents)
            if psi < 1.0:
                z = crossbreed.truncate(z, psi)
            parts = []
            for start in range(0, len(z), RENDER_BATCH):
                if context is not None:
                    context.check_cancelled()
                parts.append(space.decode(z[start : start + RENDER_BATCH]))
            return np.concatenate(parts) if parts else np.zeros((0, 1, 1, 3), np.uint8)

        return render

    def _render_request(self, latents: np.ndarray, label: str, key: str) -> JobRequest:
        snapshot = np.array(latents, np.float32, copy=True)
        size = self.grid_size
        render = self.renderer()

        def work(context: JobContext) -> GridResult:
            return GridResult(snapshot, render(snapshot, context), size)

        return JobRequest(work, label, (key, self._key))

    def grid_request(self) -> JobRequest:
        return self._render_request(self.grid_latents(), "Rendering the neighbour grid", "latent-grid")

    def current_request(self) -> JobRequest:
        """Render just the current image (e.g. to place it on the canvas)."""
        return self._render_request(self.current()[None], "Rendering the current image", "latent-current")

    # -- directions ------------------------------------------------------------------------------------------------
    def _user_store(self) -> UserDirections:
        space = self._space()
        return UserDirections(space.model_id, space.latent_dim)

    def _add_user_direction(self, direction: Direction) -> Direction:
        saved = self._user_store().save(direction)
        values = dict(zip((d.name for d in self.user_directions), self.sliders[len(self.principal):]))
        self.user_directions = self._user_store().load()
        self.sliders = self.sliders[: len(self.principal)] + [values.get(d.name, 0.0) for d in self.user_directions]
        return saved

    def save_current_direction(self, name: str) -> Direction:
        """Name the move the sliders make now (current minus centre) and keep it as a direction of its own."""
        offset = self.current() - self.centre
        length = float(np.linalg.norm(offset))
        if length < 1e-6:
            raise InputError("Move some sliders first: the direction to save is where they take the image.")
        return self._add_user_direction(Direction(name.strip(), offset / length, length, "user"))

    def define_direction(self, a: np.ndarray, b: np.ndarray, name: str) -> Direction:
        """A direction from image A to image B (e.g. two bookmarks), saved under ``name``."""
        space = self._space()
        za, zb = space.check_latents(a)[0], space.check_latents(b)[0]
        return self._add_user_direction(direction_between(za, zb, name.strip()))

    def delete_direction(self, name: str) -> None:
        self._user_store().delete(name)
        values = dict(zip((d.name for d in self.user_directions), self.sliders[len(self.principal):]))
        self.user_directions = self._user_store().load()
        self.sliders = self.sliders[: len(self.principal)] + [values.get(d.name, 0.0) for d in self.user_directions]

    # -- bookmarks -------------------------------------------------------------------------------------------------
    def bookmarks(self, doc: Document | None = None) -> list[Bookmark]:
        """This model's bookmarks: the document's first, then the user library's (no duplicates)."""
        if self.space is None:
            return []
        found: dict[str, Bookmark] = {}
        if doc is not None:
            for mark in read_metadata(doc.metadata):
                if mark.model_id == self.space.model_id:
                    found.setdefault(mark.bookmark_id, mark)
        for mark in self.library.for_model(self.space.model_id):
            found.setdefault(mark.bookmark_id, mark)
        return list(found.values())

    def bookmark(self, name: str, doc: Document | None = None, latent: np.ndarray | None = None) -> Bookmark:
        """Bookmark the current image (as rendered, truncation included) in the library and in the document."""
        space = self._space()
        name = name.strip() or f"{space.name} {len(self.bookmarks(doc)) + 1}"
        z = self.effective(self.current() if latent is None else space.check_latents(latent)[0])
        exact = self.truncation >= 1.0 and latent is None and bool(np.allclose(self.current(), self.centre))
        mark = Bookmark(name, space.model_id, z, self.seed if exact else None)
        self.library.add(mark)
        if doc is not None:
            self._store_in_document(doc, read_metadata(doc.metadata) + [mark])
        return mark

    def delete_bookmark(self, bookmark_id: str, doc: Document | None = None) -> None:
        self.library.remove(bookmark_id)
        if doc is not None:
            marks = read_metadata(doc.metadata)
            if any(m.bookmark_id == bookmark_id for m in marks):
                self._store_in_document(doc, [m for m in marks if m.bookmark_id != bookmark_id])
        self.path_ids = [i for i in self.path_ids if i != bookmark_id]

    @staticmethod
    def _store_in_document(doc: Document, marks: list[Bookmark]) -> None:
        doc.metadata[METADATA_KEY] = metadata_value(marks)
        doc.dirty = True

    def _latents_of(self, bookmark_ids: Sequence[str], doc: Document | None) -> list[np.ndarray]:
        by_id = {m.bookmark_id: m for m in self.bookmarks(doc)}
        missing = [i for i in bookmark_ids if i not in by_id]
        if missing:
            raise InputError("Some chosen bookmarks no longer exist or belong to another model.")
        return [np.asarray(by_id[i].latent, np.float32) for i in bookmark_ids]

    def recall(self, bookmark_id: str, doc: Document | None = None) -> None:
        """Go to a bookmark (truncation back to 1, since the bookmark holds the latent as it was rendered)."""
        mark = next((m for m in self.bookmarks(doc) if m.bookmark_id == bookmark_id), None)
        if mark is None:
            raise InputError("That bookmark no longer exists.")
        self.truncation = 1.0
        self.move_to(mark.latent, seed=mark.seed)

    # -- crossbreeding ---------------------------------------------------------------------------------------------
    def breed(self, bookmark_ids: Sequence[str], mode: str, ratio: float | Sequence[float] | None, count: int,
              seed: int | None = None, mutation: float = 0.0, doc: Document | None = None) -> np.ndarray:
        """Children of two or more bookmarks. A single ``ratio`` r gives the first parent r and the rest share 1-r."""
        parents = self._latents_of(bookmark_ids, doc)
        if len(parents) < 2:
            raise InputError("Choose at least two bookmarks to crossbreed.")
        if ratio is None:
            weights = None
        elif isinstance(ratio, (int, float)):
            r = float(ratio)
            if not 0.0 <= r <= 1.0:
                raise InputError(f"The ratio must be between 0 and 1; got {ratio}.")
            weights = [r] + [(1.0 - r) / (len(parents) - 1)] * (len(parents) - 1)
        else:
            weights = list(ratio)
        gaussian = self._space().kind == GAN
        self.children = crossbreed.children(parents, count, mode, weights, seed if seed is not None else _new_seed(),
                                            mutation, gaussian)
        return self.children

    def children_request(self) -> JobRequest:
        if not len(self.children):
            raise InputError("Breed some children first.")
        return self._render_request(self.children, "Rendering children", "latent-children")

    # -- interpolation ---------------------------------------------------------------------------------------------
    def set_path(self, bookmark_ids: Sequence[str], doc: Document | None = None) -> None:
        self._latents_of(bookmark_ids, doc)
        if len(bookmark_ids) < 2:
            raise InputError("An interpolation path needs at least two bookmarks.")
        self.path_ids = list(bookmark_ids)

    def path_keys(self, doc: Document | None = None) -> list[np.ndarray]:
        if len(self.path_ids) < 2:
            raise InputError("Choose at least two bookmarks for the path.")
        return self._latents_of(self.path_ids, doc)

    def scrub_request(self, position: float, doc: Document | None = None) -> JobRequest:
        latent = interpolate.path_point(self.path_keys(doc), position, self._space().interpolation)
        return self._render_request(latent[None], "Rendering the path", "latent-scrub")

    def export_request(self, path: str | Path, fmt: str, frames: int, fps: float, size: int | None = None,
                       loop: bool = False, doc: Document | None = None) -> JobRequest:
        """Render the path's frames and write GIF / MP4 / PNG sequence; all checks happen before the job starts."""
        space = self._space()
        if fmt not in animation.FORMATS:
            raise InputError(f"Unknown animation format '{fmt}'.")
        if not 2 <= frames <= 2000:
            raise InputError(f"Choose between 2 and 2000 frames; got {frames}.")
        if fmt == animation.MP4:
            animation.ffmpeg_executable()
        latents = interpolate.path_frames(self.path_keys(doc), frames, space.interpolation, loop)
        target = Path(path)
        render = self.renderer()

        def work(context: JobContext):
            images = []
            for start in range(0, len(latents), RENDER_BATCH):
                images.extend(render(latents[start : start + RENDER_BATCH], context))
                yield 0.8 * min(1.0, (start + RENDER_BATCH) / len(latents))
            if size is not None and size != images[0].shape[1]:
                height = max(1, round(size * images[0].shape[0] / images[0].shape[1]))
                images = animation.scale_frames(images, size, height)
            yield 0.85, "Writing"
            return animation.export_animation(images, target, fps, fmt)

        return JobRequest(work, f"Exporting {target.name}", None)

    # -- VAE and the canvas ----------------------------------------------------------------------------------------
    @staticmethod
    def source_pixels(doc: Document, source: str = "selection") -> tuple[np.ndarray, Rect]:
        """Pixels to encode and where they came from: the visible image (``selection``) or the active layer,
        cut to the selection's bounds when there is a selection."""
        bounds = doc.selection.bounds() if not doc.selection.is_empty else None
        region = bounds or doc.rect
        if source == "layer":
            pixels = doc.active_layer.pixels[region.slices()]
        elif source == "selection":
            pixels = doc.composite(region)
        else:
            raise InputError(f"Encode the 'selection' or the active 'layer', not '{source}'.")
        if pixels.size == 0 or not pixels[..., 3].any():
            raise InputError("There is nothing to encode there: the region is empty or fully transparent.")
        return np.array(pixels, copy=True), region

    def encode_request(self, doc: Document, source: str = "selection") -> JobRequest:
        space = self._space()
        if not space.can_encode:
            raise InputError(f"{space.name} has no encoder: only VAE models can bring the canvas into their space.")
        pixels, region = self.source_pixels(doc, source)

        def work(context: JobContext) -> tuple[np.ndarray, Rect, str]:
            mean, _ = space.encode(pixels)
            return mean, region, space.model_id

        return JobRequest(work, f"Encoding into {space.name}", ("latent-encode", self._key))

    def apply_encoded(self, mean: np.ndarray, region: Rect | None, model_id: str) -> bool:
        """Make the encoded image the centre (ignored if the model changed meanwhile)."""
        if self.space is None or self.space.model_id != model_id:
            return False
        self.move_to(mean)
        self.encoded_region = region
        return True

    def default_placement(self, doc: Document) -> Rect:
        """Where 'Place on canvas' puts the image: where it was encoded from, else the selection, else a centred
        square four times the model's size (fitting in the canvas)."""
        if self.encoded_region is not None and not self.encoded_region.intersect(doc.rect).is_empty():
            return self.encoded_region
        if not doc.selection.is_empty:
            bounds = doc.selection.bounds()
            if bounds is not None:
                return bounds
        width, height = self._space().image_size
        scale = max(1, min(4, doc.width // width, doc.height // height))
        w, h = width * scale, height * scale
        return Rect((doc.width - w) // 2, (doc.height - h) // 2, w, h)

    def place_on_canvas(self, doc: Document, image: np.ndarray, width: int, height: int,
                        origin: tuple[int, int] | None = None, name: str | None = None,
                        latent: np.ndarray | None = None) -> Any:
        """Add ``image`` (a rendered RGB result) as a new, undoable layer, resampled with Lanczos to the size."""
        if width < 1 or height < 1 or width > 16384 or height > 16384:
            raise InputError(f"Choose a size between 1 and 16384 pixels; got {width}x{height}.")
        space = self._space()
        rgb = flatten_alpha(np.asarray(image, np.uint8))
        pixels = resize(rgb, int(width), int(height))
        if origin is None:
            origin = ((doc.width - width) // 2, (doc.height - height) // 2)
        metadata = {"source": "latent-explorer", "model_id": space.model_id, "seed": self.seed,
                    "latent": [float(v) for v in self.effective(self.current() if latent is None else latent)]}
        return doc.add_result_layer(pixels, name or f"{space.name} latent", metadata, use_selection=True,
                                    origin=(int(origin[0]), int(origin[1])))

