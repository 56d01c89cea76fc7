"""Interpolation between latents and paths through several of them.

Samples of a high-dimensional N(0, 1) concentrate near a sphere of radius sqrt(D); a straight line between two of
them passes through the low-norm interior where a GAN has rarely been trained, so Gaussian latents are interpolated
along the great circle (slerp). VAE means live in a space the decoder saw as a whole, so they go linearly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genart_desktop.core.errors import InputError

SLERP = "slerp"
LINEAR = "linear"


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation that also blends the two norms; falls back to lerp for (anti)parallel vectors."""
    a = np.asarray(a, np.float64).reshape(-1)
    b = np.asarray(b, np.float64).reshape(-1)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t)
    ua, ub = a / na, b / nb
    cos = float(np.clip(np.dot(ua, ub), -1.0, 1.0))
    omega = np.arccos(cos)
    if omega < 1e-6 or np.pi - omega < 1e-6:
        return lerp(a, b, t)
    sin = np.sin(omega)
    direction = (np.sin((1.0 - t) * omega) / sin) * ua + (np.sin(t * omega) / sin) * ub
    return (direction * ((1.0 - t) * na + t * nb)).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, t: float, mode: str) -> np.ndarray:
    if mode == SLERP:
        return slerp(a, b, t)
    if mode == LINEAR:
        return lerp(a, b, t)
    raise InputError(f"Unknown interpolation '{mode}' (use '{SLERP}' or '{LINEAR}').")


def path_frames(keys: Sequence[np.ndarray], frames: int, mode: str, loop: bool = False) -> np.ndarray:
    """(frames, D) latents along the path through ``keys`` (two or more), evenly spaced in path parameter.

    Every key appears exactly as a frame when the frame count allows; with ``loop`` the path returns to the first
    key and the last frame stops one step before it, so the animation repeats seamlessly.
    """
    points = [np.asarray(k, np.float32).reshape(-1) for k in keys]
    if len(points) < 2:
        raise InputError("An interpolation path needs at least two bookmarks.")
    if len({p.size for p in points}) != 1:
        raise InputError("The bookmarks on this path come from latent spaces of different sizes.")
    if frames < 2:
        raise InputError(f"An animation needs at least 2 frames; got {frames}.")
    if loop:
        points = points + [points[0]]
    segments = len(points) - 1
    stops = np.linspace(0.0, segments, frames, endpoint=not loop)
    out = np.empty((frames, points[0].size), np.float32)
    for index, s in enumerate(stops):
        seg = min(int(np.floor(s)), segments - 1)
        out[index] = interpolate(points[seg], points[seg + 1], float(s - seg), mode)
    return out


def path_point(keys: Sequence[np.ndarray], position: float, mode: str) -> np.ndarray:
    """The latent at ``position`` in [0, 1] along the path (for a scrubber)."""
    points = [np.asarray(k, np.float32).reshape(-1) for k in keys]
    if len(points) < 2:
        raise InputError("An interpolation path needs at least two bookmarks.")
    s = float(np.clip(position, 0.0, 1.0)) * (len(points) - 1)
    seg = min(int(np.floor(s)), len(points) - 2)
    return interpolate(points[seg], points[seg + 1], s - seg, mode)
