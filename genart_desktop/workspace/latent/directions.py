"""The Directions tab's part: principal directions of the model, the user's saved ones, and the sliders over them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.engine.latent.directions import Direction, UserDirections, direction_between, load_cached
from genart_desktop.engine.latent.space import LatentSpace
from genart_desktop.workspace.latent.direction_names import DirectionNames
from genart_desktop.workspace.latent.requests import PRINCIPAL_COUNT, PRINCIPAL_SAMPLES, FindDirections
from genart_desktop.workspace.latent.state import ExplorerState


class Directions:
    """Directions of the shared state's model; the user's are saved per model (``UserDirections``)."""

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self.names: DirectionNames | None = None  # the user's names for the open model's principal directions

    def load(self, space: LatentSpace) -> None:
        """The saved and cached directions of a newly opened model, every slider at zero."""
        state = self.state
        state.user_directions = UserDirections(space.model_id, space.latent_dim).load()
        self.names = DirectionNames(space.model_id)
        state.principal = load_cached(space, PRINCIPAL_COUNT, PRINCIPAL_SAMPLES) or []
        state.sliders = [0.0] * len(state.directions)
        state.directions_changed.emit()

    def principal_request(self) -> FindDirections:
        """Find (or load from the cache) the principal directions: slow the first time, so it is a job."""
        return FindDirections(self.state.require_space())

    def set_principal(self, directions: Sequence[Direction], model_id: str) -> bool:
        """Install principal directions found by a job (ignored if the model changed meanwhile)."""
        state = self.state
        if not state.is_model(model_id):
            return False
        user = state.sliders[len(state.principal):]
        state.principal = list(directions)
        state.sliders = [0.0] * len(state.principal) + user
        state.directions_changed.emit()
        return True

    def save_current(self, name: str) -> Direction:
        """Name the move the sliders make now (current minus centre) and keep it as a direction of its own."""
        offset = self.state.current() - self.state.centre
        length = float(np.linalg.norm(offset))
        if length < 1e-6:
            raise InputError("Move some sliders first: the direction to save is where they take the image.")
        saved = self._store().save(Direction(name.strip(), offset / length, length, "user"))
        self._reload_user()
        return saved

    def define(self, a: np.ndarray, b: np.ndarray, name: str) -> Direction:
        """A direction from image A to image B (e.g. two bookmarks), saved under ``name``."""
        space = self.state.require_space()
        za, zb = space.check_latents(a)[0], space.check_latents(b)[0]
        saved = self._store().save(direction_between(za, zb, name.strip()))
        self._reload_user()
        return saved

    def label(self, direction: Direction) -> str:
        """What the slider row says: the user's name for a principal direction, else the direction's own."""
        if direction.kind == "principal" and self.names is not None:
            return self.names.label(direction.name)
        return direction.name

    def rename(self, key: str, name: str) -> None:
        """Name the principal direction ``key`` (e.g. "PC 1") for this model; kept between sessions."""
        self.state.require_space()
        if self.names is None:
            raise InputError("Open a model first.")
        self.names.rename(key, name)
        self.state.directions_changed.emit()

    def delete(self, name: str) -> None:
        self._store().delete(name)
        self._reload_user()
        self.state.changed.emit()

    def _store(self) -> UserDirections:
        space = self.state.require_space()
        return UserDirections(space.model_id, space.latent_dim)

    def _reload_user(self) -> None:
        """Read the user's directions again, keeping each remaining one's slider value."""
        state = self.state
        values = dict(zip((d.name for d in state.user_directions), state.sliders[len(state.principal):]))
        state.user_directions = self._store().load()
        state.sliders = state.sliders[: len(state.principal)] + [values.get(d.name, 0.0)
                                                                  for d in state.user_directions]
        state.directions_changed.emit()
