"""The latent explorer's jobs as data: one frozen request type per kind of work, and the executors that run them.

A request carries the :class:`LatentSpace` it was made for (the loaded model), so a queued render keeps its model
when the user switches to another one meanwhile; the latents are copied into it on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.document.geometry import Rect
from genart_desktop.engine.jobs import JobContext
from genart_desktop.engine.latent import animation, crossbreed
from genart_desktop.engine.latent.directions import Direction, cached_principal_directions
from genart_desktop.engine.latent.space import LatentSpace, space_from_registry
from genart_desktop.workspace.latent import mp4

PRINCIPAL_COUNT = 8
PRINCIPAL_SAMPLES = 512
RENDER_BATCH = 32


@dataclass(frozen=True)
class GridResult:
    """What a render returns: the latents shown (untruncated, so clicks recentre exactly) and their images."""

    latents: np.ndarray
    images: np.ndarray
    size: int


@dataclass(frozen=True)
class Encoded:
    """A VAE encoding of part of the canvas: the latent mean, where it came from and the model that made it."""

    mean: np.ndarray
    region: Rect
    model_id: str


@dataclass(frozen=True)
class LoadModel:
    model_id: str


@dataclass(frozen=True, eq=False)
class FindDirections:
    space: LatentSpace


@dataclass(frozen=True, eq=False)
class RenderLatents:
    """Images of ``latents`` (``size`` is the grid side the panel lays them out with)."""

    space: LatentSpace
    latents: np.ndarray
    truncation: float = 1.0
    size: int = 1


@dataclass(frozen=True, eq=False)
class PlaceLatent:
    """Render the current image and enlarge it to ``width`` x ``height`` for the canvas, on the worker: through the
    learned upscaler when one is installed (Lanczos otherwise), so a 64-pixel model's picture lands sharp."""

    render: RenderLatents
    width: int
    height: int


@dataclass(frozen=True, eq=False)
class ExportAnimation:
    """Render ``latents`` (the path's frames) and write them as GIF / WebP / APNG / MP4 / PNG sequence at ``target``."""

    space: LatentSpace
    latents: np.ndarray
    truncation: float
    target: Path
    fps: float
    fmt: str
    width: int | None = None


@dataclass(frozen=True, eq=False)
class EncodeImage:
    space: LatentSpace
    pixels: np.ndarray
    region: Rect


def render(space: LatentSpace, latents: np.ndarray, truncation: float, context: JobContext | None = None) -> np.ndarray:
    """(N, H, W, 3) images, batch by batch so a cancel stops the work soon."""
    z = space.check_latents(latents)
    if truncation < 1.0:
        z = crossbreed.truncate(z, truncation)
    parts = []
    for start in range(0, len(z), RENDER_BATCH):
        if context is not None:
            context.check_cancelled()
        parts.append(space.decode(z[start : start + RENDER_BATCH]))
    return np.concatenate(parts) if parts else np.zeros((0, 1, 1, 3), np.uint8)


def load_model(request: LoadModel, context: JobContext, registry: Any) -> LatentSpace:
    """Creating sessions can take a moment for a real model, so loading is a job."""
    return space_from_registry(registry, request.model_id)


def find_directions(request: FindDirections, context: JobContext) -> list[Direction]:
    """The principal directions (from the cache, else found: slow the first time)."""
    return cached_principal_directions(request.space, PRINCIPAL_COUNT, PRINCIPAL_SAMPLES, progress=context.progress,
                                       cancelled=lambda: context.cancelled)


def render_latents(request: RenderLatents, context: JobContext) -> GridResult:
    return GridResult(request.latents, render(request.space, request.latents, request.truncation, context),
                      request.size)


def place_latent(request: PlaceLatent, context: JobContext, registry: Any) -> GridResult:
    from genart_desktop.workspace.upscale import upscale_to

    shown = render_latents(request.render, context)
    image = upscale_to(np.asarray(shown.images[0]), request.width, request.height, registry, context=context)
    return GridResult(shown.latents, np.asarray(image)[None], 1)


def export_animation(request: ExportAnimation, context: JobContext):  # noqa: ANN201 - a generator job
    latents = request.latents
    images: list[np.ndarray] = []
    for start in range(0, len(latents), RENDER_BATCH):
        images.extend(render(request.space, latents[start : start + RENDER_BATCH], request.truncation, context))
        yield 0.8 * min(1.0, (start + RENDER_BATCH) / len(latents))
    if request.width is not None and request.width != images[0].shape[1]:
        height = max(1, round(request.width * images[0].shape[0] / images[0].shape[1]))
        images = animation.scale_frames(images, request.width, height)
    yield 0.85, "Writing"
    if request.fmt == mp4.MP4:
        return [mp4.export_mp4(images, request.target, request.fps, cancelled=lambda: context.cancelled)]
    return animation.export_animation(images, request.target, request.fps, request.fmt)


def encode_image(request: EncodeImage, context: JobContext) -> Encoded:
    mean, _ = request.space.encode(request.pixels)
    return Encoded(mean, request.region, request.space.model_id)


def frozen_copy(array: np.ndarray) -> np.ndarray:
    """A float32 copy nobody can change, for a request that crosses to a worker thread."""
    copy = np.array(array, np.float32, copy=True)
    copy.flags.writeable = False
    return copy
