"""A recipe's control picture: the sketch or colour blocks a control-conditioned model followed, stored compactly.

The control is kept as a small RGB PNG (base64 text, at most :data:`MAX_CONTROL_SIDE` pixels a side, like the
region masks of :mod:`regions`), together with its strength and the mode that made it, so a recipe stays a flat,
comparable value that fits a PNG text chunk and the same recipe always decodes to the same control (the CLI and the
dock make the same pixels). What is stored is the map the model was given, already derived from the user's picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.engine.control_maps import CONTROL_MODES
from genart_desktop.engine.pipelines.embedded_png import from_png_text, to_png_text

MAX_CONTROL_SIDE = 256  # our models are 32-128 pixels; a larger picture's control is stored scaled down
MAX_CONTROL_TEXT = 256 * 1024  # base64 characters of one stored control
MAX_CONTROL_STRENGTH = 2.0


def check_strength(strength: Any) -> float:
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not np.isfinite(strength) \
            or not 0.0 <= float(strength) <= MAX_CONTROL_STRENGTH:
        raise InputError(f"The control strength must be between 0 and {MAX_CONTROL_STRENGTH:g}, got {strength!r}.")
    return float(strength)


@dataclass(frozen=True)
class RecipeControl:
    """``picture``: a base64 RGB PNG; ``strength`` scales the control's effect (0: none); ``mode`` made it."""

    picture: str = field(repr=False)
    strength: float = 1.0
    mode: str = "sketch"

    def __post_init__(self) -> None:
        if not isinstance(self.picture, str) or not self.picture:
            raise InputError("A recipe's control must hold its picture as text.")
        if len(self.picture) > MAX_CONTROL_TEXT:
            raise InputError(f"A recipe's stored control picture is larger than {MAX_CONTROL_TEXT // 1024} KiB.")
        if self.mode not in CONTROL_MODES:
            raise InputError(f"The control mode must be one of {', '.join(CONTROL_MODES)}, got {self.mode!r}.")
        check_strength(self.strength)

    @classmethod
    def from_picture(cls, picture: np.ndarray, strength: float = 1.0, mode: str = "sketch") -> RecipeControl:
        """A control from an (h, w, 3) uint8 picture (scaled down to at most :data:`MAX_CONTROL_SIDE` a side)."""
        from genart_desktop.core.images import check_pixel_image, resize

        check_pixel_image(picture)
        rgb = np.ascontiguousarray(np.asarray(picture)[..., :3])
        h, w = rgb.shape[:2]
        scale = min(1.0, MAX_CONTROL_SIDE / max(h, w))
        if scale < 1.0:
            rgb = resize(rgb, max(1, round(w * scale)), max(1, round(h * scale)))
        return cls(to_png_text(rgb, "RGB"), check_strength(strength), mode)

    def pixels(self, width: int, height: int) -> np.ndarray:
        """The control as (height, width, 3) uint8; InputError when it is damaged or of another shape."""
        from genart_desktop.core.images import resize
        from genart_desktop.engine.pipelines.regions import same_shape

        rgb = from_png_text(self.picture, "RGB", MAX_CONTROL_SIDE, "the control picture",
                            "The recipe's control picture")
        size = (rgb.shape[1], rgb.shape[0])
        if not same_shape(size, (width, height)):
            raise InputError(f"The control picture is {size[0]}x{size[1]}, not the shape of the {width}x{height} "
                             "picture.")
        return resize(rgb, width, height)

    def to_dict(self) -> dict[str, Any]:
        return {"picture": self.picture, "strength": self.strength, "mode": self.mode}


def control_from_data(data: Any) -> RecipeControl | None:
    """The control of a recipe read from JSON (``{"picture", "strength", "mode"}`` or null), checked."""
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"picture", "strength", "mode"}:
        raise InputError("A recipe's control must be an object with a picture, a strength and a mode.")
    if not isinstance(data["mode"], str):
        raise InputError("A recipe's control mode must be text.")
    return RecipeControl(data["picture"], check_strength(data["strength"]), data["mode"])
