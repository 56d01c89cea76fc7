"""The explorer's main page: the neighbour grid around the centre, moving the centre (a click, a seed, a random
jump) and the back/forward history of those moves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.engine.latent import neighbours
from genart_desktop.workspace.latent.requests import RenderLatents, frozen_copy
from genart_desktop.workspace.latent.state import ExplorerState, new_seed

MAX_HISTORY = 200


@dataclass(frozen=True)
class Place:
    """One entry of the back/forward history: where the explorer was centred and how its sliders stood."""

    centre: np.ndarray = field(compare=False)
    seed: int | None
    grid_seed: int
    sliders: tuple[float, ...] = ()


class History:
    """Moves of the centre over the shared :class:`ExplorerState`, and the grid of neighbours around it."""

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self.grid_size = 3
        self.spread = 0.6
        self.grid_seed = 0
        self._places: list[Place] = []
        self._index = -1

    def clear(self) -> None:
        self._places, self._index = [], -1

    # -- the grid --------------------------------------------------------------------------------------------------
    def grid_latents(self) -> np.ndarray:
        return neighbours.neighbour_grid(self.state.current(), self.grid_size, self.spread, self.grid_seed,
                                         self.state.require_space().shape_noise)

    def grid_request(self) -> RenderLatents:
        state = self.state
        return RenderLatents(state.require_space(), frozen_copy(self.grid_latents()), state.render_truncation,
                             self.grid_size)

    def set_grid(self, size: int | None = None, spread: float | None = None) -> None:
        if size is not None:
            neighbours.neighbour_offsets(1, size, 0.0, 0)  # validates the size
            self.grid_size = int(size)
        if spread is not None:
            if not np.isfinite(spread) or spread < 0:
                raise InputError(f"The spread must be a non-negative number; got {spread}.")
            self.spread = float(spread)
        self.state.changed.emit()

    def shuffle(self) -> None:
        """New neighbours around the same centre."""
        self.grid_seed = (self.grid_seed + 7919) % (2**31)
        self.state.changed.emit()

    # -- moving ----------------------------------------------------------------------------------------------------
    def move_to(self, latent: np.ndarray, seed: int | None = None) -> None:
        """Make ``latent`` the new centre (sliders reset) and remember the move in the history."""
        state = self.state
        z = state.require_space().check_latents(latent)[0]
        self._keep_sliders()
        state.centre = z.copy()
        state.seed = seed
        self.grid_seed = (self.grid_seed + 1) % (2**31)
        state.sliders = [0.0] * len(state.directions)
        del self._places[self._index + 1:]
        self._places.append(Place(state.centre.copy(), state.seed, self.grid_seed, tuple(state.sliders)))
        if len(self._places) > MAX_HISTORY:
            del self._places[0]
        self._index = len(self._places) - 1
        state.changed.emit()

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
        space = self.state.require_space()
        seed = new_seed() if seed is None else int(seed)
        if not 0 <= seed < 2**63:
            raise InputError(f"A seed is a whole number from 0 to {2**63 - 1}; got {seed}.")
        self.move_to(space.sample(seed)[0], seed=seed)
        return seed

    # -- back and forward ------------------------------------------------------------------------------------------
    @property
    def can_go_back(self) -> bool:
        return self._index > 0

    @property
    def can_go_forward(self) -> bool:
        return self._index < len(self._places) - 1

    def back(self) -> bool:
        return self.can_go_back and self._go(-1)

    def forward(self) -> bool:
        return self.can_go_forward and self._go(1)

    def _keep_sliders(self) -> None:
        if 0 <= self._index < len(self._places):
            self._places[self._index] = replace(self._places[self._index], sliders=tuple(self.state.sliders))

    def _go(self, step: int) -> bool:
        self._keep_sliders()
        self._index += step
        place, state = self._places[self._index], self.state
        state.centre = place.centre.copy()
        state.seed = place.seed
        self.grid_seed = place.grid_seed
        count = len(state.directions)
        sliders = list(place.sliders)[:count]
        state.sliders = sliders + [0.0] * (count - len(sliders))
        state.changed.emit()
        return True
