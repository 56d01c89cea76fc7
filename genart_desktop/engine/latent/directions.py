"""Directions to move along in a latent space: principal ones found GANSpace-style, and named ones users make.

Principal directions (after Harkonen et al., "GANSpace", 2020): render many random latents, take a feature of each
output (an intermediate output when the graph exposes one, else the image shrunk to a few hundred numbers), find the
principal components of those features, then regress the latents onto the component scores. The regression maps
each feature-space component back to the latent direction that produces it, which is what a slider needs. Sampled
latents alone are isotropic N(0, 1), so PCA on them would find nothing; the generator's outputs carry the structure.

The result is computed once per model file and cached in the cache directory under the file's sha256.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.atomic import atomic_write_bytes, atomic_write_with
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import InputError, JobCancelled
from genart_desktop.core.paths import cache_dir, user_subdir
from genart_desktop.core.text import shown
from genart_desktop.engine.latent.space import LatentSpace

CACHE_VERSION = 1
PRINCIPAL_SPAN = 3.0  # slider end in latent standard deviations along a unit direction
PAIR_SPAN = 1.5  # slider end in multiples of the A->B difference
USER_FORMAT = "genart-latent-directions/1"
MAX_USER_FILE_BYTES = 32 << 20

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class Direction:
    """``vector`` is flat float32; a slider at value ``s`` in [-1, 1] moves the latent by ``s * span * vector``."""

    name: str
    vector: np.ndarray
    span: float = PRINCIPAL_SPAN
    kind: str = "principal"  # principal | user
    variance: float | None = None  # share of feature variance (principal directions only)

    def offset(self, slider: float) -> np.ndarray:
        return (np.float32(slider * self.span) * self.vector).astype(np.float32)


def combine(base: np.ndarray, directions: list[Direction], sliders: list[float]) -> np.ndarray:
    """``base`` moved along every direction by its slider value."""
    out = np.asarray(base, np.float32).reshape(-1).copy()
    for direction, value in zip(directions, sliders):
        if value:
            out += direction.offset(value)
    return out


def _features(space: LatentSpace, latents: np.ndarray, size: int) -> np.ndarray:
    inner = space.decode_features(latents)
    if inner is not None:
        return inner.astype(np.float64)
    images = space.decode_tensor(latents)  # (N, 3, H, W)
    n, c, h, w = images.shape
    fy, fx = max(1, h // size), max(1, w // size)
    hh, ww = (h // fy) * fy, (w // fx) * fx
    pooled = images[:, :, :hh, :ww].reshape(n, c, hh // fy, fy, ww // fx, fx).mean(axis=(3, 5))
    return pooled.reshape(n, -1).astype(np.float64)


def principal_directions(
    space: LatentSpace,
    count: int = 8,
    samples: int = 512,
    seed: int = 0,
    feature_size: int = 16,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> list[Direction]:
    """The ``count`` strongest directions of variation of ``space``'s outputs, as unit latent vectors."""
    if count < 1 or samples < 2:
        raise InputError("Ask for at least one direction from at least two samples.")
    rng = np.random.default_rng(seed)
    latents = rng.standard_normal((samples, space.latent_dim)).astype(np.float32)
    batch = 64
    feats = []
    for start in range(0, samples, batch):
        if cancelled is not None and cancelled():
            raise JobCancelled("Finding directions was cancelled.")
        feats.append(_features(space, latents[start : start + batch], feature_size))
        if progress is not None:
            progress(min(1.0, (start + batch) / samples) * 0.95)
    y = np.concatenate(feats)
    y -= y.mean(axis=0)
    _, singular, vt = np.linalg.svd(y, full_matrices=False)
    k = int(min(count, vt.shape[0], space.latent_dim))
    scores = y @ vt[:k].T  # (samples, k)
    basis, *_ = np.linalg.lstsq(scores, latents.astype(np.float64), rcond=None)  # (k, D): scores -> latents
    total = float(np.sum(singular**2)) or 1.0
    out = []
    for index in range(k):
        vector = basis[index]
        norm = np.linalg.norm(vector)
        if norm < 1e-12:
            continue
        vector = vector / norm
        if vector[np.argmax(np.abs(vector))] < 0:  # a fixed sign, so the cache and a recomputation agree
            vector = -vector
        out.append(Direction(f"PC {index + 1}", vector.astype(np.float32), PRINCIPAL_SPAN, "principal",
                             float(singular[index] ** 2 / total)))
    if progress is not None:
        progress(1.0)
    return out


def _cache_path(space: LatentSpace, count: int, samples: int) -> Path:
    key = space.sha256 or re.sub(r"[^a-z0-9._-]", "_", space.model_id.lower()) or "unnamed"
    folder = cache_dir() / "latent-directions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}-d{space.latent_dim}-k{count}-n{samples}-v{CACHE_VERSION}.npz"


def load_cached(space: LatentSpace, count: int = 8, samples: int = 512) -> list[Direction] | None:
    """Cached principal directions for this model file, or None when absent or unreadable."""
    path = _cache_path(space, count, samples)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = np.asarray(data["vectors"], np.float32)
            variance = np.asarray(data["variance"], np.float64)
    except (OSError, ValueError, KeyError):
        return None
    if vectors.ndim != 2 or vectors.shape[1] != space.latent_dim or variance.shape != (vectors.shape[0],):
        return None
    if not np.all(np.isfinite(vectors)):
        return None
    return [Direction(f"PC {i + 1}", vectors[i], PRINCIPAL_SPAN, "principal", float(variance[i]))
            for i in range(vectors.shape[0])]


def cached_principal_directions(
    space: LatentSpace,
    count: int = 8,
    samples: int = 512,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> list[Direction]:
    """Principal directions from the cache, computing and caching them the first time."""
    found = load_cached(space, count, samples)
    if found is not None:
        if progress is not None:
            progress(1.0)
        return found
    directions = principal_directions(space, count, samples, progress=progress, cancelled=cancelled)
    vectors = np.stack([d.vector for d in directions]).astype(np.float32)
    variance = np.asarray([d.variance or 0.0 for d in directions], np.float64)

    def write(handle: Any) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, vectors=vectors, variance=variance)
        handle.write(buffer.getvalue())

    atomic_write_with(_cache_path(space, count, samples), write)
    return directions


def direction_between(a: np.ndarray, b: np.ndarray, name: str = "A to B") -> Direction:
    """The direction from image A's latent to image B's: slider 1/span of the way lands exactly on B."""
    va = np.asarray(a, np.float32).reshape(-1)
    vb = np.asarray(b, np.float32).reshape(-1)
    if va.shape != vb.shape:
        raise InputError("The two images come from latent spaces of different sizes.")
    diff = vb - va
    if not np.all(np.isfinite(diff)) or float(np.linalg.norm(diff)) < 1e-6:
        raise InputError("Pick two different images to define a direction.")
    return Direction(name, diff, PAIR_SPAN, "user")


def _user_file(model_id: str) -> Path:
    key = re.sub(r"[^a-z0-9._-]", "_", model_id.lower()) or "unnamed"
    return user_subdir("latent") / "directions" / f"{key}.json"


class UserDirections:
    """Named directions a user saved for one model, in the user data directory (JSON, atomic writes)."""

    def __init__(self, model_id: str, latent_dim: int) -> None:
        self.model_id = model_id
        self.latent_dim = latent_dim
        self.path = _user_file(model_id)

    def load(self) -> list[Direction]:
        if not self.path.is_file():
            return []
        try:
            data = load_json(self.path, MAX_USER_FILE_BYTES)
        except InputError as exc:
            raise InputError(f"Saved directions in {shown(self.path)} cannot be read ({exc}); the file was left as "
                             "it is.") from exc
        if not isinstance(data, dict) or data.get("format") != USER_FORMAT or not isinstance(data.get("directions"), list):
            raise InputError(f"{self.path} is not a saved-directions file; it was left as it is.")
        out = []
        for entry in data["directions"]:
            try:
                vector = np.asarray(entry["vector"], np.float32).reshape(-1)
                span = float(entry.get("span", PRINCIPAL_SPAN))
                name = str(entry["name"])
            except (KeyError, TypeError, ValueError):
                continue
            if vector.size == self.latent_dim and np.all(np.isfinite(vector)) and np.isfinite(span) and span > 0:
                out.append(Direction(name, vector, span, "user"))
        return out

    def _write(self, directions: list[Direction]) -> None:
        payload = {
            "format": USER_FORMAT,
            "model_id": self.model_id,
            "directions": [{"name": d.name, "span": d.span, "vector": [float(v) for v in d.vector]} for d in directions],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, json.dumps(payload).encode("utf-8"))

    def save(self, direction: Direction) -> Direction:
        """Store ``direction`` under its name (replacing one of the same name)."""
        name = direction.name.strip()
        if not name:
            raise InputError("Give the direction a name before saving it.")
        vector = np.asarray(direction.vector, np.float32).reshape(-1)
        if vector.size != self.latent_dim:
            raise InputError(f"This direction has {vector.size} values but the model's latent has {self.latent_dim}.")
        saved = Direction(name, vector, direction.span, "user")
        self._write([d for d in self.load() if d.name != name] + [saved])
        return saved

    def delete(self, name: str) -> None:
        self._write([d for d in self.load() if d.name != name])
