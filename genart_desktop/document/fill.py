"""Bucket fill: the region of similar colour around a seed pixel, found with vectorised run propagation.

Without a flood-fill primitive in numpy, the connected region is grown by alternating passes: a pass labels the
runs of candidate pixels along rows (then columns) and marks every run that holds a reached pixel. Each pass is
O(pixels) in C; the number of passes is the number of turns the region takes, small for real artwork.
"""

from __future__ import annotations

import numpy as np


def similar_mask(pixels: np.ndarray, x: int, y: int, tolerance: int) -> np.ndarray:
    """Pixels whose every RGBA channel is within ``tolerance`` of the seed; fully transparent pixels match each
    other whatever colour they hide."""
    seed = pixels[y, x].astype(np.int16)
    diff = np.abs(pixels.astype(np.int16) - seed).max(axis=2)
    mask = diff <= int(tolerance)
    if seed[3] == 0:
        mask |= pixels[..., 3] == 0
    return mask


def _run_labels(candidates: np.ndarray) -> np.ndarray:
    starts = candidates.copy()
    starts[:, 1:] &= ~candidates[:, :-1]
    labels = np.cumsum(starts.ravel(), dtype=np.int64).reshape(candidates.shape)
    labels[~candidates] = 0
    return labels


def connected_region(candidates: np.ndarray, x: int, y: int) -> np.ndarray:
    """The 4-connected part of ``candidates`` (bool (H, W)) holding ``(x, y)``."""
    reached = np.zeros_like(candidates)
    if not candidates[y, x]:
        return reached
    reached[y, x] = True
    rows = _run_labels(candidates)
    cols = _run_labels(np.ascontiguousarray(candidates.T))
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    count = 1
    while True:
        hit = np.zeros(n_rows, bool)
        hit[rows[reached]] = True
        hit[0] = False
        reached = hit[rows]
        reached_t = np.ascontiguousarray(reached.T)
        hit = np.zeros(n_cols, bool)
        hit[cols[reached_t]] = True
        hit[0] = False
        reached = np.ascontiguousarray(hit[cols].T)
        new_count = int(np.count_nonzero(reached))
        if new_count == count:
            return reached
        count = new_count


def fill_region(pixels: np.ndarray, x: int, y: int, tolerance: int = 0, contiguous: bool = True) -> np.ndarray:
    """The bool ``(H, W)`` region a bucket fill at ``(x, y)`` covers."""
    candidates = similar_mask(pixels, x, y, tolerance)
    return connected_region(candidates, x, y) if contiguous else candidates
