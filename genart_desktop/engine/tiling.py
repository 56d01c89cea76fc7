"""Overlapping tiles with raised-cosine blending, so large images run through a network in bounded memory.

A tile plan is the product of two 1-D span lists (rows x columns). Each span carries a 1-D weight that ramps up over
the overlap with its neighbour as a raised cosine (and stays 1 at the image border). Because the 2-D weight of a tile
is the outer product of its row and column weights, the per-pixel sum of weights is also separable: we normalise
with two 1-D totals instead of a full-size weight image, and a seam is a smooth cross-fade rather than a cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from genart_desktop.core.errors import InputError, JobCancelled


@dataclass(frozen=True)
class Span:
    """A 1-D interval ``[start, stop)`` and its blending weight (``stop - start`` float32 values)."""

    start: int
    stop: int
    weight: np.ndarray

    @property
    def length(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Tile:
    index: int
    rows: Span
    cols: Span

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.rows.start, self.rows.stop), slice(self.cols.start, self.cols.stop)


def _ramp(length: int) -> np.ndarray:
    """Raised cosine rising from near 0 to near 1 over ``length`` samples; ``ramp + ramp[::-1] == 1``."""
    t = (np.arange(length, dtype=np.float64) + 0.5) / length
    return (0.5 - 0.5 * np.cos(np.pi * t)).astype(np.float32)


def plan_spans(length: int, tile: int, overlap: int, align: int = 1) -> list[Span]:
    """Cover ``[0, length)`` with spans of about ``tile`` that overlap by at least ``overlap``.

    Span starts are multiples of ``align``, so a network that downsamples by ``align`` sees every tile on the same
    pixel grid as the whole image (otherwise a stride-2 layer samples odd and even pixels in different tiles).
    The last span ends at ``length`` and may be up to ``align - 1`` longer than ``tile``.
    """
    if length <= 0:
        raise InputError(f"Cannot tile an image side of {length} px.")
    if tile <= 0 or overlap < 0 or overlap >= tile or align < 1 or align > tile - overlap:
        raise InputError(f"Tile size {tile}, overlap {overlap} and alignment {align} are inconsistent.")
    if length <= tile:
        return [Span(0, length, np.ones(length, np.float32))]
    count = math.ceil((length - overlap) / (tile - overlap - (align - 1)))
    starts = [round(i * (length - tile) / (count - 1)) // align * align for i in range(count)]
    stops = [start + tile for start in starts[:-1]] + [length]
    spans = []
    for i, (start, stop) in enumerate(zip(starts, stops)):
        size = stop - start
        weight = np.ones(size, np.float32)
        if i > 0:
            shared = stops[i - 1] - start
            weight[:shared] = _ramp(shared)
        if i < count - 1:
            shared = stop - starts[i + 1]
            weight[size - shared:] = np.minimum(weight[size - shared:], _ramp(shared)[::-1])
        spans.append(Span(start, stop, weight))
    return spans


def span_totals(spans: list[Span], length: int) -> np.ndarray:
    """Sum of the span weights at each position (the 1-D normaliser)."""
    total = np.zeros(length, np.float32)
    for span in spans:
        total[span.start:span.stop] += span.weight
    return total


@dataclass(frozen=True)
class TilePlan:
    height: int
    width: int
    row_spans: list[Span]
    col_spans: list[Span]
    row_total: np.ndarray
    col_total: np.ndarray

    @classmethod
    def create(cls, height: int, width: int, tile: int, overlap: int, align: int = 1) -> "TilePlan":
        rows, cols = plan_spans(height, tile, overlap, align), plan_spans(width, tile, overlap, align)
        return cls(height, width, rows, cols, span_totals(rows, height), span_totals(cols, width))

    def __len__(self) -> int:
        return len(self.row_spans) * len(self.col_spans)

    def __iter__(self) -> Iterator[Tile]:
        index = 0
        for rows in self.row_spans:
            for cols in self.col_spans:
                yield Tile(index, rows, cols)
                index += 1

    def normalised_weight(self, tile: Tile) -> np.ndarray:
        """The tile's 2-D weight divided by the total weight, so the weights of all tiles sum to 1 at every pixel."""
        rows, cols = tile.slices
        return np.outer(tile.rows.weight / self.row_total[rows], tile.cols.weight / self.col_total[cols])


def pad_to_multiple(array: np.ndarray, multiple: int) -> tuple[np.ndarray, int, int]:
    """Reflect-pad an ``(H, W, C)`` array at the bottom/right so both sides are multiples of ``multiple``."""
    height, width = array.shape[:2]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return array, 0, 0
    mode = "reflect" if height > pad_h and width > pad_w else "edge"
    return np.pad(array, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode), pad_h, pad_w


def run_tiled(
    image: np.ndarray,
    process: Callable[[np.ndarray], np.ndarray],
    *,
    tile: int,
    overlap: int,
    multiple: int = 1,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    adjust: Callable[[np.ndarray, Tile], np.ndarray] | None = None,
) -> np.ndarray:
    """Apply ``process`` (an ``(h, w, C)`` patch -> float32 ``(h, w, C')``) tile by tile and blend the results.

    ``image`` is an ``(H, W, C)`` array of any dtype (patches keep it, so a uint8 canvas is never copied whole to
    float) and is never modified. Tiles start on multiples of ``multiple`` and are padded to it, for networks that
    downsample. ``progress(done, total)`` is called after each tile; ``cancelled()`` is checked before each tile and
    raises :class:`JobCancelled` when true. ``adjust(result, tile)`` may correct each tile's result before blending.
    Memory: one float32 output image plus one tile at a time.
    """
    if image.ndim != 3:
        raise InputError(f"Expected an (H, W, C) image to tile, got shape {image.shape}.")
    height, width = image.shape[:2]
    plan = TilePlan.create(height, width, tile, overlap, multiple)
    output: np.ndarray | None = None
    total = len(plan)
    for item in plan:
        if cancelled is not None and cancelled():
            raise JobCancelled("Cancelled; nothing was changed.")
        rows, cols = item.slices
        patch, _, _ = pad_to_multiple(image[rows, cols], multiple)
        result = np.asarray(process(np.ascontiguousarray(patch)), dtype=np.float32)
        if result.ndim != 3 or result.shape[:2] != patch.shape[:2]:
            raise InputError(
                f"A tile of {patch.shape[1]}x{patch.shape[0]} came back as shape {result.shape}; "
                "the network must keep the image size."
            )
        result = result[: item.rows.length, : item.cols.length]
        if adjust is not None:
            result = adjust(result, item)
        if output is None:
            output = np.zeros((height, width, result.shape[2]), np.float32)
        weight = plan.normalised_weight(item)
        output[rows, cols] += result * weight[:, :, None]
        if progress is not None:
            progress(item.index + 1, total)
    assert output is not None
    return output
