"""Sample grids: a batch of image tensors in [-1, 1] tiled into one PNG."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import torch
from PIL import Image

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.training.data.alpha import over_white


def tensor_to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> (N, H, W, 3) uint8; premultiplied RGBA (N, 4, H, W) is shown over white."""
    x = over_white(images.detach().float().cpu().nan_to_num(0.0).clamp(-1, 1))
    return ((x + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def grid_image(images: torch.Tensor, columns: int | None = None, gap: int = 2, scale: int = 1) -> Image.Image:
    """Tile images row by row with a white gap; ``scale`` enlarges each one (nearest, so pixels stay crisp)."""
    pixels = tensor_to_uint8(images)
    if scale > 1:
        pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    count, height, width, _ = pixels.shape
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    canvas = np.full((rows * (height + gap) + gap, columns * (width + gap) + gap, 3), 255, np.uint8)
    for index in range(count):
        r, c = divmod(index, columns)
        y, x = gap + r * (height + gap), gap + c * (width + gap)
        canvas[y:y + height, x:x + width] = pixels[index]
    return Image.fromarray(canvas, "RGB")


def save_grid(path: str | os.PathLike[str], images: torch.Tensor, columns: int | None = None,
              scale: int = 1) -> None:
    buffer = io.BytesIO()
    grid_image(images, columns, scale=scale).save(buffer, "PNG")
    atomic_write_bytes(path, buffer.getvalue())
