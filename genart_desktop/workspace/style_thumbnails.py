"""Style thumbnails for the palette's grid: the card's image, else the network's render of a small sample scene
(for a preset of the arbitrary model: that model's render with the preset's statistics), cached on disk so it is
rendered once per model file and preset."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.core.images import open_image_rgba, resize
from genart_desktop.core.paths import cache_dir
from genart_desktop.core.text import shown
from genart_desktop.engine.jobs import JobContext
from genart_desktop.engine.pipelines.arbitrary_style import (
    ArbitraryStyleModel,
    load_presets,
)
from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings
from genart_desktop.workspace.style_jobs import RegistryForJob

log = logging.getLogger(__name__)

THUMB_SIDE = 96


@dataclass(frozen=True)
class StyleThumbnailRequest:
    """The thumbnail of a fixed network (``model_id``), or of the arbitrary model ``model_id``'s ``preset``."""

    model_id: str
    preset: str | None = None


def render_thumbnail(request: StyleThumbnailRequest, context: JobContext, registry: Any) -> np.ndarray:
    """Executor of :class:`StyleThumbnailRequest`: the card's image, else a cached or fresh render."""
    return load_or_render_thumbnail(RegistryForJob(registry, context.run_options), request.model_id,
                                    cancelled=lambda: context.cancelled, preset=request.preset)


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


def _thumb_cache_path(entry: Any, preset: Any = None) -> Path | None:
    card = getattr(entry, "card", None)
    if card is None or not card.files:
        return None
    files = ":".join(card.files[role].sha256 for role in sorted(card.files))
    stats = b"" if preset is None else preset.stats.mean.tobytes() + preset.stats.std.tobytes()
    digest = hashlib.sha256(f"{files}:{THUMB_SIDE}".encode() + stats).hexdigest()[:20]
    name = entry.id if preset is None else f"{entry.id}-{preset.id}"
    return cache_dir() / "style-thumbnails" / f"{name}-{digest}.png"


def fit_thumbnail(pixels: np.ndarray, side: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    factor = min(1.0, side / max(width, height))
    if factor == 1.0:
        return pixels
    return resize(pixels, max(1, round(width * factor)), max(1, round(height * factor)))


def load_or_render_thumbnail(registry: Any, model_id: str, cancelled: Callable[[], bool] | None = None,
                             preset: str | None = None) -> np.ndarray:
    """RGBA thumbnail of a style: the card's ``thumbnail`` PNG, a cached render, or a fresh render (then cached).
    With ``preset``, the arbitrary model ``model_id``'s render of the sample scene in that preset's style."""
    entry = registry.get(model_id)
    card = getattr(entry, "card", None)
    if preset is not None:
        found = next((p for p in load_presets(card) if p.id == preset), None)
        if found is None:
            raise InputError(f"{entry.name} has no preset {shown(preset)}.")
        return _cached_render(_thumb_cache_path(entry, found), model_id,
                              lambda: ArbitraryStyleModel.from_registry(registry, model_id).pipeline(found.stats)
                              .apply(sample_scene(THUMB_SIDE), StyleSettings(), cancelled=cancelled))
    if card is not None and card.thumbnail is not None:
        try:
            return fit_thumbnail(open_image_rgba(card.thumbnail), THUMB_SIDE)
        except GenArtError as exc:
            log.warning("Thumbnail of %s is unusable (%s); rendering one instead", model_id, exc)
    return _cached_render(_thumb_cache_path(entry), model_id,
                          lambda: StylePipeline.from_registry(registry, model_id).apply(
                              sample_scene(THUMB_SIDE), StyleSettings(), cancelled=cancelled))


def _cached_render(cached: Path | None, model_id: str, render: Callable[[], np.ndarray]) -> np.ndarray:
    """The thumbnail cached at ``cached``, else ``render()`` (then cached; a cache that cannot be written is
    only logged)."""
    if cached is not None and cached.is_file():
        try:
            return open_image_rgba(cached)
        except GenArtError:
            log.info("Rendering the damaged cached thumbnail of %s again", model_id)
    pixels = render()
    if cached is not None:
        try:
            buffer = io.BytesIO()
            Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(cached, buffer.getvalue())
        except (GenArtError, OSError) as exc:
            log.info("Could not cache the thumbnail of %s: %s", model_id, exc)
    return pixels
