"""The Breed tab's part: children of two or more bookmarks (blend or gene crossover, with some mutation)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.engine.latent import crossbreed
from genart_desktop.engine.latent.space import GAN
from genart_desktop.workspace.latent.bookmarks import Bookmarks
from genart_desktop.workspace.latent.requests import RenderLatents, frozen_copy
from genart_desktop.workspace.latent.state import ExplorerState, new_seed


class Breeding:
    def __init__(self, state: ExplorerState, bookmarks: Bookmarks) -> None:
        self.state = state
        self.bookmarks = bookmarks
        self.children = np.zeros((0, 0), np.float32)

    def clear(self) -> None:
        self.children = np.zeros((0, 0), np.float32)

    def breed(self, bookmark_ids: Sequence[str], mode: str, ratio: float | Sequence[float] | None, count: int,
              seed: int | None = None, mutation: float = 0.0, doc: Document | None = None) -> np.ndarray:
        """Children of two or more bookmarks. A single ``ratio`` r gives the first parent r and the rest share 1-r."""
        parents = self.bookmarks.latents_of(bookmark_ids, doc)
        if len(parents) < 2:
            raise InputError("Choose at least two bookmarks to crossbreed.")
        if ratio is None:
            weights = None
        elif isinstance(ratio, (int, float)):
            r = float(ratio)
            if not 0.0 <= r <= 1.0:
                raise InputError(f"The ratio must be between 0 and 1; got {ratio}.")
            weights = [r] + [(1.0 - r) / (len(parents) - 1)] * (len(parents) - 1)
        else:
            weights = list(ratio)
        gaussian = self.state.require_space().kind == GAN
        self.children = crossbreed.children(parents, count, mode, weights, seed if seed is not None else new_seed(),
                                            mutation, gaussian)
        return self.children

    def children_request(self) -> RenderLatents:
        if not len(self.children):
            raise InputError("Breed some children first.")
        state = self.state
        return RenderLatents(state.require_space(), frozen_copy(self.children), state.render_truncation,
                             len(self.children))
