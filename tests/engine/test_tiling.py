"""Tile plans cover the image, weights form a partition of unity, and tiled processing matches whole processing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, JobCancelled
from genart_desktop.engine.tiling import (
    TilePlan,
    memory_tile,
    pad_to_multiple,
    plan_spans,
    run_tiled,
    span_totals,
)


@pytest.mark.parametrize("length,tile,overlap", [(100, 100, 10), (101, 100, 10), (1000, 256, 32), (4096, 768, 96),
                                                  (300, 64, 20)])
def test_spans_cover_and_overlap_enough(length, tile, overlap):
    spans = plan_spans(length, tile, overlap)
    assert spans[0].start == 0 and spans[-1].stop == length
    assert all(span.length == min(tile, length) for span in spans)
    for left, right in zip(spans, spans[1:]):
        assert left.stop - right.start >= overlap
    total = span_totals(spans, length)
    # raised-cosine cross-fades: the weights of overlapping spans add up to one everywhere
    np.testing.assert_allclose(total, 1.0, atol=1e-5)


def test_weights_ramp_smoothly_inside_and_stay_one_at_the_border():
    spans = plan_spans(500, 200, 50)
    first, second = spans[0], spans[1]
    assert first.weight[0] == 1.0  # image border: no fade
    shared = first.stop - second.start
    ramp = second.weight[:shared]
    assert np.all(np.diff(ramp) > 0) and ramp[0] < 0.01 and ramp[-1] > 0.99


@pytest.mark.parametrize("tile,overlap", [(128, 32), (64, 48)])
def test_normalised_tile_weights_sum_to_one(tile, overlap):
    plan = TilePlan.create(300, 410, tile, overlap)  # (64, 48): three tiles overlap, still normalised
    acc = np.zeros((300, 410), np.float32)
    for tile in plan:
        acc[tile.slices] += plan.normalised_weight(tile)
    np.testing.assert_allclose(acc, 1.0, atol=1e-5)


def test_bad_tiling_is_refused():
    with pytest.raises(InputError):
        plan_spans(100, 32, 32)
    with pytest.raises(InputError):
        plan_spans(0, 32, 4)


def test_pad_to_multiple_reflects():
    array = np.arange(5 * 7 * 1, dtype=np.float32).reshape(5, 7, 1)
    padded, pad_h, pad_w = pad_to_multiple(array, 4)
    assert padded.shape == (8, 8, 1) and (pad_h, pad_w) == (3, 1)
    np.testing.assert_array_equal(padded[:5, :7], array)
    np.testing.assert_array_equal(padded[5, :7], array[3])


def _box_blur(patch: np.ndarray) -> np.ndarray:
    """A local operator with a 5x5 footprint: tiling with enough overlap must reproduce it away from tile edges."""
    x = patch.astype(np.float32)
    padded = np.pad(x, ((2, 2), (2, 2), (0, 0)), mode="edge")
    out = np.zeros_like(x)
    for dy in range(5):
        for dx in range(5):
            out += padded[dy:dy + x.shape[0], dx:dx + x.shape[1]]
    return out / 25.0


def test_tiled_matches_whole_for_a_local_operator():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (190, 260, 3), dtype=np.uint8)
    whole = _box_blur(image)
    tiled = run_tiled(image, _box_blur, tile=64, overlap=24)
    # tile borders see edge padding instead of neighbours, but the cross-fade gives them almost no weight
    assert np.abs(tiled - whole).max() < 2.0
    assert np.abs(tiled - whole).mean() < 0.05


def test_progress_cancel_and_input_untouched():
    image = np.full((100, 100, 3), 7, np.uint8)
    before = image.copy()
    seen = []
    run_tiled(image, lambda p: p.astype(np.float32), tile=40, overlap=8, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == len(seen) == len(TilePlan.create(100, 100, 40, 8))
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(JobCancelled):
        run_tiled(image, lambda p: p.astype(np.float32), tile=40, overlap=8, cancelled=cancelled)
    np.testing.assert_array_equal(image, before)


def test_process_that_changes_size_is_reported():
    with pytest.raises(InputError, match="keep the image size"):
        run_tiled(np.zeros((40, 40, 3), np.uint8), lambda p: p[::2, ::2].astype(np.float32), tile=32, overlap=4)


@pytest.mark.parametrize("length,tile,overlap,align", [(1000, 256, 32, 4), (333, 64, 16, 8), (4096, 768, 96, 4)])
def test_aligned_spans_start_on_the_grid(length, tile, overlap, align):
    spans = plan_spans(length, tile, overlap, align)
    assert all(span.start % align == 0 for span in spans)
    assert spans[-1].stop == length and spans[-1].length < tile + align
    for left, right in zip(spans, spans[1:]):
        assert left.stop - right.start >= overlap
    assert span_totals(spans, length).min() > 0.99


def test_memory_tile_runs_an_image_whole_when_it_fits_the_budget():
    assert memory_tile(1024, 1024, 500, 1024 * 1024 * 500, 96, 4) is None
    assert memory_tile(1024, 1024, 500, 1024 * 1024 * 500 - 1, 96, 4) is not None


@pytest.mark.parametrize("height,width,bpp,budget_mb", [(4096, 4096, 624, 640), (3000, 1000, 300, 100),
                                                         (777, 5001, 100, 8), (2048, 2048, 624, 384)])
def test_memory_tiles_fit_the_budget_and_are_balanced(height, width, bpp, budget_mb):
    side = memory_tile(height, width, bpp, budget_mb << 20, 96, 4)
    assert side is not None and side % 4 == 0
    assert side * side * bpp <= budget_mb << 20  # every run fits
    largest = int(math.sqrt((budget_mb << 20) / bpp)) // 4 * 4
    fewest = len(TilePlan.create(height, width, largest, 96, 4))
    plan = TilePlan.create(height, width, side, 96, 4)
    assert len(plan) == fewest  # no more tiles than the budget's largest side needs, with less overlap
    assert side <= largest
    covered = np.zeros((height, width), bool)
    for tile in plan:
        covered[tile.slices] = True
    assert covered.all()


def test_finishing_rows_in_bands_gives_the_same_image_as_finishing_at_the_end():
    image = np.random.default_rng(3).integers(0, 256, (150, 130, 3), dtype=np.uint8)
    whole = run_tiled(image, _box_blur, tile=48, overlap=12)

    def finish(block: np.ndarray) -> np.ndarray:
        assert block.shape[0] <= 48  # only one row of tiles is ever held in float32
        return np.clip(np.rint(block), 0, 255).astype(np.uint8)

    banded = run_tiled(image, _box_blur, tile=48, overlap=12, finish=finish)
    assert banded.dtype == np.uint8
    np.testing.assert_array_equal(banded, np.clip(np.rint(whole), 0, 255).astype(np.uint8))
