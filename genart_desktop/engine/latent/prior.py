"""Where a VAE really puts images in its latent space: its aggregate posterior, summarised as a Gaussian.

A VAE's KL term only pulls the encoder towards N(0, I); a model tuned for reconstruction (the shipped emoji VAE has
a spatial 4x8x8 latent and beta 0.25) leaves its encodings far from it, so N(0, I) draws decode to colour noise. The
card's ``latent.prior`` records the encodings' mean, their ``K`` strongest principal axes with a standard deviation
each, and one standard deviation for every other direction. Random draws and neighbour offsets are shaped by it, so
exploring a VAE shows the kind of picture it was trained on. The explorer keeps working in the raw latent (what the
decoder takes); only the noise it adds is shaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genart_desktop.core.errors import ModelError

KIND = "gaussian-pca"
MAX_RANK = 256


@dataclass(frozen=True)
class LatentPrior:
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (K, D), orthonormal rows, strongest first
    scales: np.ndarray  # (K,) standard deviation along each component
    residual: float  # standard deviation in every direction orthogonal to the components

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def fit(cls, latents: np.ndarray, rank: int = 32) -> LatentPrior:
        """The Gaussian summary of (N, D) encodings (N >= 2): principal axes by SVD of the centred data."""
        x = np.asarray(latents, dtype=np.float64).reshape(len(latents), -1)
        if x.shape[0] < 2 or not np.all(np.isfinite(x)):
            raise ModelError("Fitting a latent prior needs at least two finite encodings.")
        rank = int(max(1, min(rank, x.shape[1], x.shape[0] - 1, MAX_RANK)))
        mean = x.mean(axis=0)
        _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
        variances = singular ** 2 / (x.shape[0] - 1)
        rest = variances[rank:]
        residual_dims = x.shape[1] - rank
        residual = float(np.sqrt(rest.sum() / residual_dims)) if residual_dims > 0 else 0.0
        return cls(mean.astype(np.float32), vt[:rank].astype(np.float32),
                   np.sqrt(variances[:rank]).astype(np.float32), residual)

    @classmethod
    def from_card(cls, value: Any, dim: int, where: str = "latent.prior") -> LatentPrior:
        """Read and check a card's ``latent.prior`` for a latent of ``dim`` values; a bad one is a ModelError."""
        if not isinstance(value, dict) or value.get("kind") != KIND:
            raise ModelError(f"{where} must be an object with \"kind\": \"{KIND}\".")
        try:
            mean = np.asarray(value["mean"], dtype=np.float64)
            components = np.asarray(value["components"], dtype=np.float64)
            scales = np.asarray(value["scales"], dtype=np.float64)
            residual = float(value["residual"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where} needs numeric mean, components, scales and residual ({exc}).") from exc
        rank = scales.shape[0] if scales.ndim == 1 else -1
        if mean.shape != (dim,) or scales.ndim != 1 or not 1 <= rank <= min(dim, MAX_RANK) \
                or components.shape != (rank, dim):
            raise ModelError(f"{where} does not fit a latent of {dim} values: mean {list(mean.shape)}, components "
                             f"{list(components.shape)}, scales {list(scales.shape)}.")
        values = np.concatenate([mean, components.ravel(), scales, [residual]])
        if not np.all(np.isfinite(values)) or scales.min() < 0 or residual < 0 or np.abs(values).max() > 1e6:
            raise ModelError(f"{where} holds NaN, infinite, negative or absurd values.")
        gram = components @ components.T
        if np.abs(gram - np.eye(rank)).max() > 1e-3:
            raise ModelError(f"{where}.components must be orthonormal rows.")
        return cls(mean.astype(np.float32), components.astype(np.float32), scales.astype(np.float32), residual)

    def to_card(self, digits: int = 5) -> dict[str, Any]:
        def rounded(array: np.ndarray) -> list:
            return np.round(np.asarray(array, np.float64), digits).tolist()

        return {"kind": KIND, "mean": rounded(self.mean), "components": rounded(self.components),
                "scales": rounded(self.scales), "residual": round(self.residual, digits)}

    def shape_noise(self, noise: np.ndarray) -> np.ndarray:
        """Map isotropic N(0, I) noise (N, D) to the prior's covariance (its mean not added)."""
        eps = np.asarray(noise, dtype=np.float32)
        along = eps @ self.components.T  # (N, K)
        across = eps - along @ self.components
        return (along * self.scales) @ self.components + np.float32(self.residual) * across

    def sample(self, noise: np.ndarray) -> np.ndarray:
        """Latents drawn from the prior, given isotropic N(0, I) noise (N, D)."""
        return (self.mean + self.shape_noise(noise)).astype(np.float32)
