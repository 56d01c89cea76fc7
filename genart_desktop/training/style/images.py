"""Image <-> tensor helpers for style training: RGB uint8 arrays to ``(1, 3, H, W)`` tensors in [-1, 1] and back."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, open_image_rgba, resize, rgba_to_pil

WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def load_rgb(path: str | os.PathLike[str], long_side: int | None = None, multiple: int = 1) -> np.ndarray:
    """Read any image as RGB uint8 (alpha flattened on white), optionally scaled to ``long_side`` with both
    sides rounded to ``multiple``."""
    rgb = flatten_alpha(open_image_rgba(path))
    if long_side is not None:
        rgb = fit_long_side(rgb, long_side, multiple)
    return rgb


def fit_long_side(rgb: np.ndarray, long_side: int, multiple: int = 1) -> np.ndarray:
    height, width = rgb.shape[:2]
    factor = long_side / max(height, width)
    new_w = max(multiple, round(width * factor / multiple) * multiple)
    new_h = max(multiple, round(height * factor / multiple) * multiple)
    return resize(rgb, new_w, new_h)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(rgb[..., :3], np.float32)).permute(2, 0, 1)[None].contiguous() / 127.5 - 1.0


def to_rgb(tensor: torch.Tensor) -> np.ndarray:
    x = tensor.detach().float().cpu().nan_to_num(0.0).clamp(-1, 1)[0]
    return ((x + 1.0) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()


def save_rgb(path: str | os.PathLike[str], rgb: np.ndarray) -> Path:
    """Write PNG/JPEG/WebP (by extension) atomically: a failure leaves no half-written file."""
    path = Path(path)
    fmt = WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"Cannot write {path.name}: use a .png, .jpg or .webp file name.")
    buffer = io.BytesIO()
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    rgba_to_pil(rgb).save(buffer, fmt, **options)
    atomic_write_bytes(path, buffer.getvalue())
    return path
