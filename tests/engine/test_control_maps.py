"""The control map functions shared by training and the app, on synthetic pictures."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.control_maps import (
    colour_blocks,
    control_picture,
    edge_lines,
    edge_map,
    sketch_lines,
)


def square(size: int = 48, lo: int = 12, hi: int = 36) -> np.ndarray:
    picture = np.full((size, size, 3), 235, np.uint8)
    picture[lo:hi, lo:hi] = (30, 90, 200)
    return picture


def test_edges_find_the_square_border_and_nothing_else():
    lines = edge_lines(square())
    border = np.zeros_like(lines)
    border[10:38, 10:38] = True
    border[14:34, 14:34] = False  # a band of 2 pixels either side of the square's edge
    assert lines[border].mean() > 0.6  # the border is found all round
    assert not lines[~border].any()  # and nothing else: not the flat inside, not the flat outside
    assert lines[12, 12:36].all() and lines[35, 12:36].all()  # each side is a continuous line


def test_edge_map_is_dark_lines_on_white_and_a_flat_picture_has_none():
    drawn = edge_map(square())
    assert drawn.dtype == np.uint8 and drawn.shape == (48, 48, 3)
    assert set(np.unique(drawn)) == {0, 255}
    assert (drawn == 255).mean() > 0.7  # mostly paper
    flat = np.full((32, 32, 3), 120, np.uint8)
    assert (edge_map(flat) == 255).all()
    faint = flat.copy()
    faint[:, 16:] += 3  # a step too faint to be a line, even relative to the picture
    assert (edge_map(faint) == 255).all()


def test_a_drawn_sketch_reads_back_as_its_lines():
    lines = edge_lines(square())
    np.testing.assert_array_equal(sketch_lines(edge_map(square())), lines)


def test_colour_blocks_flatten_a_noisy_picture_to_few_colours_in_their_places():
    rng = np.random.default_rng(0)
    picture = np.zeros((64, 64, 3), np.float32)
    picture[:32] = (60, 120, 220)  # sky
    picture[32:] = (40, 150, 60)  # grass
    picture[40:56, 8:24] = (120, 80, 40)  # earth
    noisy = np.clip(picture + rng.normal(0, 20, picture.shape), 0, 255).astype(np.uint8)
    blocks = colour_blocks(noisy, 4)
    colours = np.unique(blocks.reshape(-1, 3), axis=0)
    assert len(colours) <= 4
    assert len(np.unique(noisy.reshape(-1, 3), axis=0)) > 1000
    # each region is (mostly) one flat colour close to its true colour
    for (rows, cols), truth in (((slice(4, 28), slice(4, 60)), (60, 120, 220)),
                                ((slice(36, 62), slice(30, 60)), (40, 150, 60))):
        patch = blocks[rows, cols].reshape(-1, 3)
        values, counts = np.unique(patch, axis=0, return_counts=True)
        main = values[counts.argmax()].astype(int)
        assert counts.max() / len(patch) > 0.95
        assert np.abs(main - truth).max() < 20
    assert np.array_equal(colour_blocks(noisy, 4), blocks)  # deterministic


def test_control_picture_modes():
    picture = square()
    np.testing.assert_array_equal(control_picture(picture, "sketch"), picture)
    np.testing.assert_array_equal(control_picture(picture, "edges"), edge_map(picture))
    assert len(np.unique(control_picture(picture, "colour-blocks").reshape(-1, 3), axis=0)) <= 6
    with pytest.raises(ValueError, match="control mode"):
        control_picture(picture, "scribble")
