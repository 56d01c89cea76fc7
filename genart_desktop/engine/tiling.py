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
    finish: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Apply ``process`` (an ``(h, w, C)`` patch -> float32 ``(h, w, C')``) tile by tile and blend the results.

    ``image`` is an ``(H, W, C)`` array of any dtype (patches keep it, so a uint8 canvas is never copied whole to
    float) and is never modified. Tiles start on multiples of ``multiple`` and are padded to it, for networks that
    downsample. ``progress(done, total)`` is called after each tile; ``cancelled()`` is checked before each tile and
    raises :class:`JobCancelled` when true. ``adjust(result, tile)`` may correct each tile's result before blending.
    ``finish(block)`` turns finished float32 rows into the output's values (for example uint8); without it the
    output is float32. Memory: the output, plus one row of tiles in float32, plus one tile at a time.
    """
    if image.ndim != 3:
        raise InputError(f"Expected an (H, W, C) image to tile, got shape {image.shape}.")
    height, width = image.shape[:2]
    plan = TilePlan.create(height, width, tile, overlap, multiple)
    band = _Band(height, width, finish)
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
        weight = plan.normalised_weight(item)
        band.add(item, result * weight[:, :, None])
        if progress is not None:
            progress(item.index + 1, total)
    return band.close()


class _Band:
    """The float32 sums of the current row of tiles; rows no later tile reaches are finished into the output.

    Tiles come row span by row span, and a row span only overlaps the one before it, so everything above a new
    span's first row is final: it goes through ``finish`` into the output and the band keeps only the overlap.
    """

    def __init__(self, height: int, width: int, finish: Callable[[np.ndarray], np.ndarray] | None) -> None:
        self.height, self.width = height, width
        self.finish = finish if finish is not None else (lambda block: block)
        self.output: np.ndarray | None = None
        self.sums: np.ndarray | None = None
        self.top = 0

    def add(self, item: Tile, values: np.ndarray) -> None:
        if self.sums is None or item.rows.start + item.rows.length > self.top + self.sums.shape[0]:
            self._advance(item.rows.start, item.rows.length, values.shape[2])
        top = item.rows.start - self.top
        self.sums[top:top + item.rows.length, item.cols.start:item.cols.stop] += values  # type: ignore[index]

    def _advance(self, start: int, length: int, channels: int) -> None:
        sums = np.zeros((length, self.width, channels), np.float32)
        if self.sums is not None:
            done = start - self.top
            self._emit(self.top, self.sums[:done])
            kept = self.sums[done:]
            sums[:kept.shape[0]] = kept
        self.sums, self.top = sums, start

    def _emit(self, top: int, block: np.ndarray) -> None:
        finished = np.asarray(self.finish(block))
        if self.output is None:
            self.output = np.empty((self.height, self.width, finished.shape[2]), finished.dtype)
        self.output[top:top + finished.shape[0]] = finished

    def close(self) -> np.ndarray:
        assert self.sums is not None
        self._emit(self.top, self.sums)
        self.sums = None
        assert self.output is not None
        return self.output


def memory_tile(height: int, width: int, bytes_per_pixel: float, budget_bytes: int, overlap: int,
                align: int = 1) -> int | None:
    """The tile side for an image whose network run takes ``bytes_per_pixel``, within ``budget_bytes`` per run.

    None when the whole image fits: one run, no overlap to compute twice and no seams. Otherwise the smallest
    tile side that needs no more tiles than the largest side the budget allows, so the tiles are balanced (a 4096 px
    side in tiles of up to 1180 px becomes four tiles of 1100, not four of 1180 overlapping by 550).
    """
    if height * width * bytes_per_pixel <= budget_bytes:
        return None
    smallest = overlap + 2 * align
    largest = max(smallest, int(math.sqrt(budget_bytes / bytes_per_pixel)) // align * align)
    side = smallest
    for length in (height, width):
        if length <= side:
            continue
        if length <= largest:
            side = max(side, length + (-length) % align)
            continue
        count = len(plan_spans(length, largest, overlap, align))
        candidate = -(-(length + (count - 1) * overlap) // count)
        candidate += (-candidate) % align
        while candidate < largest and len(plan_spans(length, candidate, overlap, align)) > count:
            candidate += align
        side = max(side, min(candidate, largest))
    return side
