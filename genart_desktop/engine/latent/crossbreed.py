"""Crossbreeding bookmarked latents into children, and the truncation trick for GANs.

A weighted mean of independent N(0, 1) latents has a smaller norm than its parents (variance sum(w^2) < 1), which
renders as washed-out "average" images; ``mix`` rescales by 1/sqrt(sum(w^2)) for Gaussian latents so children look
as alive as their parents. Crossover copies each dimension from one parent, picked with probability given by the
ratio, which keeps the distribution exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genart_desktop.core.errors import InputError

MIX = "mix"
CROSSOVER = "crossover"


def _parents(parents: Sequence[np.ndarray]) -> np.ndarray:
    stack = [np.asarray(p, np.float32).reshape(-1) for p in parents]
    if len(stack) < 2:
        raise InputError("Crossbreeding needs at least two bookmarks.")
    if len({p.size for p in stack}) != 1:
        raise InputError("These bookmarks come from latent spaces of different sizes and cannot be crossbred.")
    return np.stack(stack).astype(np.float64)


def _weights(count: int, weights: Sequence[float] | None) -> np.ndarray:
    if weights is None:
        return np.full(count, 1.0 / count)
    w = np.asarray(weights, np.float64).reshape(-1)
    if w.size != count or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError(f"Give {count} non-negative ratios that do not all equal zero.")
    return w / w.sum()


def mix(parents: Sequence[np.ndarray], weights: Sequence[float] | None = None, gaussian: bool = True) -> np.ndarray:
    """The weighted blend of the parents (norm-preserving for Gaussian latents)."""
    z = _parents(parents)
    w = _weights(len(z), weights)
    child = w @ z
    if gaussian:
        child /= np.sqrt(np.sum(w * w))
    return child.astype(np.float32)


def crossover(parents: Sequence[np.ndarray], weights: Sequence[float] | None = None, seed: int = 0) -> np.ndarray:
    """Each dimension taken whole from one parent, chosen at random with the ratios as probabilities."""
    z = _parents(parents)
    w = _weights(len(z), weights)
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
    pick = rng.choice(len(z), size=z.shape[1], p=w)
    return z[pick, np.arange(z.shape[1])].astype(np.float32)


def children(
    parents: Sequence[np.ndarray],
    count: int,
    mode: str = MIX,
    weights: Sequence[float] | None = None,
    seed: int = 0,
    mutation: float = 0.0,
    gaussian: bool = True,
) -> np.ndarray:
    """(count, D) children: crossovers with different seeds, or the blend with a little mutation each.

    ``mutation`` is the standard deviation of Gaussian noise added to every child (child 0 of a mix with no mutation
    is the exact blend), so a litter of mixes is not ``count`` copies of one image.
    """
    if count < 1:
        raise InputError(f"Ask for at least one child; got {count}.")
    if mutation < 0 or not np.isfinite(mutation):
        raise InputError(f"The mutation amount must be a non-negative number; got {mutation}.")
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
    out = []
    for index in range(count):
        if mode == CROSSOVER:
            child = crossover(parents, weights, seed=int(rng.integers(0, 2**63)))
        elif mode == MIX:
            child = mix(parents, weights, gaussian=gaussian)
        else:
            raise InputError(f"Unknown crossbreeding mode '{mode}' (use '{MIX}' or '{CROSSOVER}').")
        noise = rng.standard_normal(child.size)
        if mutation > 0:
            child = child + (mutation * noise).astype(np.float32)
        out.append(child)
    return np.stack(out).astype(np.float32)


def truncate(latents: np.ndarray, psi: float) -> np.ndarray:
    """The truncation trick in z space: pull latents toward the mean (0) by ``psi`` in [0, 1].

    Lower psi trades variety for typical, cleaner images; psi = 1 leaves the latent as it is.
    """
    if not 0.0 <= psi <= 1.0:
        raise InputError(f"Truncation must be between 0 and 1; got {psi}.")
    return (np.asarray(latents, np.float32) * np.float32(psi)).astype(np.float32)


def truncated_normal(seed: int, count: int, dim: int, threshold: float) -> np.ndarray:
    """N(0, 1) samples with every value beyond +-threshold redrawn (BigGAN-style sampling), deterministic by seed."""
    if threshold <= 0:
        raise InputError(f"The truncation threshold must be positive; got {threshold}.")
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
    z = rng.standard_normal((count, dim))
    bad = np.abs(z) > threshold
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > threshold
    return z.astype(np.float32)
