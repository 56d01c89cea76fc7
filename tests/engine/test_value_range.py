"""One conversion between pixels and a model's value range: exact for [-1, 1] (the engine's old arithmetic) and
[0, 255] (the identity), clipped on the way out."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.value_range import convert, model_to_levels, model_to_pixels, pixels_to_model

ALL_LEVELS = np.arange(256, dtype=np.uint8)


def test_minus_one_to_one_is_the_engines_old_arithmetic():
    assert np.array_equal(pixels_to_model(ALL_LEVELS), ALL_LEVELS.astype(np.float32) / 127.5 - 1.0)
    values = np.linspace(-1.3, 1.3, 1001, dtype=np.float32)
    old = np.clip(np.rint((values + 1.0) * 127.5), 0, 255).astype(np.uint8)
    assert np.array_equal(model_to_pixels(values), old)


@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 1.0), (0.0, 255.0)])
def test_pixels_survive_the_round_trip(value_range):
    assert np.array_equal(model_to_pixels(pixels_to_model(ALL_LEVELS, value_range), value_range), ALL_LEVELS)


def test_zero_to_255_is_the_identity_and_output_is_clipped():
    assert np.array_equal(pixels_to_model(ALL_LEVELS, (0.0, 255.0)), ALL_LEVELS.astype(np.float32))
    out = model_to_pixels(np.array([-40.0, 12.4, 300.0, np.nan], np.float32), (0.0, 255.0))
    assert out.tolist() == [0, 12, 255, 128]
    assert model_to_pixels(np.array([-0.5, 0.5, 1.5], np.float32), (0.0, 1.0)).tolist() == [0, 128, 255]


def test_levels_in_place_and_conversion_between_ranges():
    values = np.array([0.0, 0.5, 1.0], np.float32)
    assert model_to_levels(values, (0.0, 1.0), out=values) is not None and values.tolist() == [0.0, 127.5, 255.0]
    np.testing.assert_allclose(convert(np.array([0.0, 127.5, 255.0]), (0.0, 255.0), (-1.0, 1.0)), [-1, 0, 1])
