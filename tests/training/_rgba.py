"""A tiny dataset of cut-outs: coloured discs and squares on a transparent background, stored premultiplied like
``genart-train dataset-emoji --background none``, captioned and grouped like the emoji (name, group, subgroup)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genart_desktop.engine.alpha import premultiply
from genart_desktop.training.data.store import caption_vocabulary, write_dataset

COLOURS = {"red": (220, 40, 40), "blue": (40, 60, 220), "green": (40, 180, 60), "yellow": (230, 210, 40)}


def cutout(size: int, colour: tuple[int, int, int], shape: str, offset: int = 0) -> np.ndarray:
    """Straight RGBA: the shape opaque, a one-pixel half-transparent rim, the rest fully transparent."""
    yy, xx = np.mgrid[0:size, 0:size]
    centre, radius = size / 2 + offset, size * 0.3

    def inside(r: float) -> np.ndarray:
        if shape == "square":
            return (np.abs(xx - centre) < r) & (np.abs(yy - centre) < r)
        return (xx - centre) ** 2 + (yy - centre) ** 2 < r ** 2

    pixels = np.zeros((size, size, 4), np.uint8)
    pixels[inside(radius + 1)] = (*colour, 128)
    pixels[inside(radius)] = (*colour, 255)
    return pixels


def make_rgba_dataset(folder: Path, size: int = 16, count: int = 16) -> Path:
    """``count`` cut-outs captioned '<colour> <shape>', grouped 'Round shapes' / 'shape-round' or 'Square shapes' /
    'shape-square'."""
    images, items = [], []
    for i in range(count):
        colour, shape = list(COLOURS)[i % 4], ("square", "circle")[(i // 4) % 2]
        images.append(premultiply(cutout(size, COLOURS[colour], shape, i % 3 - 1)))
        round_one = shape == "circle"
        items.append({"source": f"{i}.png", "caption": f"{colour} {shape}",
                      "label": "Round shapes" if round_one else "Square shapes",
                      "subgroup": "shape-round" if round_one else "shape-square"})
    extra = {"labels": ["Round shapes", "Square shapes"], "license": "CC0-1.0 (test shapes)",
             "vocabulary": caption_vocabulary([i["caption"] for i in items])}
    write_dataset(folder, np.stack(images), items, extra)
    return folder
