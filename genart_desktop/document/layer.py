"""A raster layer: canvas-sized straight-alpha RGBA pixels plus the properties the layer stack shows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError

BLEND_MODES = ("normal", "multiply", "screen", "overlay", "darken", "lighten", "add")

_ids = itertools.count(1)


@dataclass(eq=False)
class Layer:
    """Layers are compared by identity: undo commands hold the very object they removed or changed."""

    name: str
    pixels: np.ndarray
    opacity: float = 1.0
    visible: bool = True
    blend_mode: str = "normal"
    locked: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    uid: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        if not isinstance(self.pixels, np.ndarray) or self.pixels.dtype != np.uint8 or self.pixels.ndim != 3 \
                or self.pixels.shape[2] != 4:
            raise InputError(f"Layer pixels must be an (H, W, 4) uint8 array, got {getattr(self.pixels, 'shape', None)}.")
        check_blend_mode(self.blend_mode)
        self.opacity = check_opacity(self.opacity)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def properties(self) -> dict[str, Any]:
        return {"name": self.name, "opacity": self.opacity, "visible": self.visible,
                "blend_mode": self.blend_mode, "locked": self.locked}

    def copy(self, name: str | None = None) -> Layer:
        return Layer(name if name is not None else self.name, self.pixels.copy(), self.opacity, self.visible,
                     self.blend_mode, self.locked, dict(self.metadata))


def check_blend_mode(mode: str) -> str:
    if mode not in BLEND_MODES:
        raise InputError(f"Unknown blend mode {mode!r}; choose one of {', '.join(BLEND_MODES)}.")
    return mode


def check_opacity(value: float) -> float:
    try:
        opacity = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Layer opacity must be a number from 0 to 1, got {value!r}.") from exc
    if not 0.0 <= opacity <= 1.0:
        raise InputError(f"Layer opacity must be from 0 to 1, got {opacity}.")
    return opacity
