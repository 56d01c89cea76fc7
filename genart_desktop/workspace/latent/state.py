"""Where the latent explorer is, in one place: the model's space, the centre and its seed, the direction sliders and
the truncation. The history, directions, bookmarks, breeding, animation and encoding parts all read and change this
one object (never a copy), and it announces changes through its signals.
"""

from __future__ import annotations

import secrets

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.observable import Signal
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.latent import crossbreed
from genart_desktop.engine.latent.directions import Direction, combine
from genart_desktop.engine.latent.space import GAN, LatentSpace


def new_seed() -> int:
    return secrets.randbelow(2**31)


class ExplorerState:
    """The shared state. ``changed()`` fires when what the grid shows changed (centre, sliders, truncation, grid
    settings: the controller re-renders); ``directions_changed()`` when the list of directions did;
    ``bookmarks_changed()`` when bookmarks were added or removed."""

    def __init__(self) -> None:
        self.space: LatentSpace | None = None
        self.principal: list[Direction] = []
        self.user_directions: list[Direction] = []
        self.sliders: list[float] = []
        self.truncation = 1.0
        self.centre = np.zeros(0, np.float32)
        self.seed: int | None = None
        self.encoded_region: Rect | None = None  # where the current image was encoded from (VAE), for placing back
        self.changed = Signal()
        self.directions_changed = Signal()
        self.bookmarks_changed = Signal()

    def require_space(self) -> LatentSpace:
        if self.space is None:
            raise InputError("Choose a GAN or VAE model first.")
        return self.space

    def is_model(self, model_id: str) -> bool:
        """True when ``model_id`` is still the one explored (a job's result for another model is ignored)."""
        return self.space is not None and self.space.model_id == model_id

    @property
    def directions(self) -> list[Direction]:
        return list(self.principal) + list(self.user_directions)

    @property
    def render_truncation(self) -> float:
        """The truncation renders use: GAN only (a VAE's latents are never pulled toward the mean)."""
        return self.truncation if self.space is not None and self.space.kind == GAN else 1.0

    @property
    def edited(self) -> bool:
        """The image differs from its seed's: a slider is off zero or a GAN is truncated."""
        return any(self.sliders) or self.render_truncation < 1.0

    def current(self) -> np.ndarray:
        """The centre moved along every direction by its slider (before truncation)."""
        self.require_space()
        return combine(self.centre, self.directions, self.sliders)

    def effective(self, latents: np.ndarray) -> np.ndarray:
        """What is rendered: GAN latents pulled toward the mean by the truncation setting."""
        if self.render_truncation < 1.0:
            return crossbreed.truncate(latents, self.truncation)
        return np.asarray(latents, np.float32)

    def set_truncation(self, psi: float) -> None:
        if not 0.0 <= psi <= 1.0:
            raise InputError(f"Truncation must be between 0 and 1; got {psi}.")
        self.truncation = float(psi)
        self.changed.emit()

    def set_slider(self, index: int, value: float) -> None:
        if not 0 <= index < len(self.sliders):
            raise InputError(f"There is no direction slider {index}.")
        self.sliders[index] = float(np.clip(value, -1.0, 1.0))
        self.changed.emit()

    def reset_sliders(self) -> None:
        self.sliders = [0.0] * len(self.sliders)
        self.changed.emit()
