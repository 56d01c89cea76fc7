"""Neighbour grids: variations arranged around a centre latent, the same for the same seed.

The centre cell holds the centre latent itself. Each other cell is the centre plus a Gaussian offset whose length
grows with the cell's ring (its Chebyshev distance from the middle), so in a 5x5 grid the inner ring shows close
relatives and the outer ring bolder ones; ``spread`` is the offset's standard deviation on the outer ring, in units
of the latent's own standard deviation (1 for N(0, 1) latents).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genart_desktop.core.errors import InputError

MIN_GRID = 3
MAX_GRID = 5


def ring_of(index: int, size: int) -> int:
    """Chebyshev distance of a cell from the grid's middle (0 for the centre)."""
    middle = size // 2
    row, col = divmod(index, size)
    return max(abs(row - middle), abs(col - middle))


def centre_index(size: int) -> int:
    return (size // 2) * size + size // 2


def neighbour_offsets(dim: int, size: int, spread: float, seed: int,
                      shape: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """(size*size, dim) float32 offsets; the centre row is zero. Depends only on (dim, size, spread, seed) and
    ``shape``, which maps isotropic noise to the latent's own covariance (``LatentSpace.shape_noise``)."""
    if not MIN_GRID <= size <= MAX_GRID or size % 2 == 0:
        raise InputError(f"The neighbour grid is 3x3 or 5x5 (odd sizes from {MIN_GRID} to {MAX_GRID}); got {size}.")
    if not np.isfinite(spread) or spread < 0:
        raise InputError(f"The spread must be a non-negative number; got {spread}.")
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
    count = size * size
    noise = rng.standard_normal((count, dim))
    if shape is not None:
        noise = np.asarray(shape(noise.astype(np.float32)), np.float64)
    outer = size // 2
    scale = np.array([ring_of(i, size) / outer for i in range(count)], np.float64) * float(spread)
    offsets = noise * scale[:, None]
    offsets[centre_index(size)] = 0.0
    return offsets.astype(np.float32)


def neighbour_grid(centre: np.ndarray, size: int, spread: float, seed: int,
                   shape: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """(size*size, D) latents around ``centre`` (a flat (D,) vector), row-major, centre in the middle cell."""
    c = np.asarray(centre, dtype=np.float32).reshape(-1)
    return c[None, :] + neighbour_offsets(c.size, size, spread, seed, shape)
