"""Fit any RGBA image into a square training tile: centre crop or pad, then flatten alpha on a background (or, with
no background, keep it: the tile stays straight RGBA)."""

from __future__ import annotations

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, resize

FITS = ("crop", "pad")


def parse_colour(text: str) -> tuple[int, int, int]:
    """``white``, ``black``, ``grey`` or ``#rrggbb``."""
    names = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128), "gray": (128, 128, 128)}
    value = text.strip().lower()
    if value in names:
        return names[value]
    if len(value) == 7 and value.startswith("#"):
        try:
            return tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
        except ValueError:
            pass
    raise InputError(f"Cannot read the colour {text!r}; use white, black, grey or #rrggbb.")


def parse_background(text: str) -> tuple[int, int, int] | None:
    """:func:`parse_colour`, or None for ``none`` / ``transparent``: keep the pictures' alpha channel."""
    return None if text.strip().lower() in ("none", "transparent") else parse_colour(text)


def fit_square(rgba: np.ndarray, resolution: int, fit: str = "crop",
               background: tuple[int, int, int] | None = (255, 255, 255)) -> np.ndarray:
    """(H, W, 3|4) uint8 -> (resolution, resolution, 3) uint8, or straight RGBA (R, R, 4) when ``background`` is None
    (padding transparent)."""
    if fit not in FITS:
        raise InputError(f"Unknown fit {fit!r}; choose crop or pad.")
    if rgba.shape[2] == 3:
        rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
    height, width = rgba.shape[:2]
    if fit == "crop":
        side = min(width, height)
        top, left = (height - side) // 2, (width - side) // 2
        tile = resize(rgba[top:top + side, left:left + side], resolution, resolution)
    else:
        scale = resolution / max(width, height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        tile = np.zeros((resolution, resolution, 4), np.uint8)
        top, left = (resolution - new_h) // 2, (resolution - new_w) // 2
        tile[top:top + new_h, left:left + new_w] = resize(rgba, new_w, new_h)
    tile = np.ascontiguousarray(tile)
    return tile if background is None else flatten_alpha(tile, background)
