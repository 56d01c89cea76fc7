import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document, Rect
from genart_desktop.document.fill import connected_region


def test_contiguous_fill_stops_at_borders_and_undoes():
    doc = Document(30, 20)
    pixels = doc.active_layer.pixels
    pixels[:, 10] = (0, 0, 0, 255)  # a wall
    before = pixels.copy()
    assert doc.fill(2, 2, (255, 0, 0))
    assert (doc.active_layer.pixels[:, :10] == (255, 0, 0, 255)).all()
    assert (doc.active_layer.pixels[:, 11:] == 255).all()
    doc.undo()
    assert np.array_equal(doc.active_layer.pixels, before)


def test_global_fill_and_tolerance():
    doc = Document(20, 10)
    pixels = doc.active_layer.pixels
    pixels[:, 10] = 0
    pixels[0, 0] = (250, 250, 250, 255)
    doc.fill(5, 5, (0, 255, 0), contiguous=False)
    assert (doc.active_layer.pixels[:, 15] == (0, 255, 0, 255)).all()
    assert doc.active_layer.pixels[0, 0].tolist() == [250, 250, 250, 255]
    doc.undo()
    doc.fill(5, 5, (0, 255, 0), tolerance=5, contiguous=False)
    assert doc.active_layer.pixels[0, 0].tolist() == [0, 255, 0, 255]


def test_fill_limited_by_selection_and_lock():
    doc = Document(20, 20)
    doc.select_rect(Rect(0, 0, 5, 5))
    doc.fill(15, 15, (9, 9, 9))
    assert doc.active_layer.pixels[..., 0].tolist().count([9] * 5 + [255] * 15) == 5
    assert doc.active_layer.pixels[10, 10].tolist() == [255, 255, 255, 255]
    assert not doc.fill(-1, 3, (1, 2, 3))
    with pytest.raises(InputError):
        doc.fill(1, 1, (300, 0, 0))
    doc.set_layer_property(0, locked=True)
    with pytest.raises(InputError):
        doc.fill(1, 1, (1, 2, 3))


def test_region_follows_a_spiral():
    size = 41
    wall = np.ones((size, size), bool)
    # carve a spiral corridor
    grid = np.zeros((size, size), bool)
    x = y = 1
    lo, hi = 1, size - 2
    while lo <= hi:
        grid[lo, lo:hi + 1] = True
        grid[lo:hi + 1, hi] = True
        grid[hi, lo:hi + 1] = True
        grid[lo + 2:hi + 1, lo] = True
        if lo + 2 <= hi:
            grid[lo + 2, lo:lo + 2] = True
        lo, hi = lo + 2, hi - 2
    del wall, x, y
    region = connected_region(grid, 1, 1)
    assert region[1, 1] and region.sum() > 100
    assert not region[~grid].any()
    # everything reached is 4-connected to the seed: a second pass adds nothing
    assert np.array_equal(connected_region(region, 1, 1), region)


def test_pick_color_merged_and_layer():
    doc = Document(10, 10)
    layer = np.zeros((10, 10, 4), np.uint8)
    layer[3, 4] = (255, 0, 0, 128)
    doc.add_layer("Half red", layer)
    merged = doc.pick_color(4.5, 3.5)
    assert merged[3] == 255 and abs(merged[0] - 255) <= 1 and abs(merged[1] - 127) <= 1
    assert doc.pick_color(4.5, 3.5, sample_merged=False) == (255, 0, 0, 128)
    assert doc.pick_color(50, 3) == (0, 0, 0, 0)
