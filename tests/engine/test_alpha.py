"""The premultiplied-alpha convention of 4-channel image tensors, and that 3-channel tensors are read as before."""

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import from_tensor, to_tensor
from genart_desktop.engine.alpha import pixels_tensor, premultiply, tensor_pixels, unpremultiply, with_alpha


def test_premultiply_and_back_keeps_visible_colour_and_clears_hidden_colour():
    straight = np.array([[[200, 100, 50, 255], [200, 100, 50, 128], [90, 180, 30, 0]]], np.uint8)
    pre = premultiply(straight)
    assert pre.tolist() == [[[200, 100, 50, 255], [100, 50, 25, 128], [0, 0, 0, 0]]]
    back = unpremultiply(pre.astype(np.float32))
    assert back[0, 0].tolist() == [200, 100, 50, 255] and back[0, 2].tolist() == [0, 0, 0, 0]
    assert np.abs(back[0, 1].astype(int) - [200, 100, 50, 128]).max() <= 2


def test_a_four_channel_tensor_becomes_straight_rgba_and_round_trips():
    rng = np.random.default_rng(0)
    straight = rng.integers(0, 256, (6, 5, 4)).astype(np.uint8)
    straight[0, :, 3] = 0
    straight[1, :, 3] = 255
    tensor = pixels_tensor(straight, 4)
    assert tensor.shape == (1, 4, 6, 5) and tensor.min() >= -1 and tensor.max() <= 1
    assert (tensor[0, :, 0] == -1).all()  # a transparent pixel is one value whatever its colour
    pixels = tensor_pixels(tensor)
    assert pixels.shape == (6, 5, 4)
    assert (pixels[0] == 0).all()
    np.testing.assert_array_equal(pixels[1], straight[1])
    visible = straight[..., 3] >= 64  # colour comes back within a level or two wherever it shows
    assert np.abs(pixels[visible].astype(int) - straight[visible].astype(int)).max() <= 2
    overshoot = np.array([[[1.0]], [[1.0]], [[1.0]], [[-0.5]]], np.float32)  # colour above its alpha
    assert tensor_pixels(overshoot)[0, 0].tolist() == [255, 255, 255, 64]


def test_three_channels_behave_exactly_as_before():
    rgb = np.random.default_rng(1).integers(0, 256, (4, 3, 3)).astype(np.uint8)
    np.testing.assert_array_equal(pixels_tensor(rgb, 3), to_tensor(rgb))
    tensor = np.random.default_rng(2).uniform(-1.2, 1.2, (1, 3, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(tensor_pixels(tensor), from_tensor(tensor))
    opaque = pixels_tensor(rgb, 4)
    np.testing.assert_array_equal(opaque[:, :3], to_tensor(rgb))
    assert (opaque[:, 3] == 1).all()


def test_with_alpha_adds_an_opaque_plane_or_drops_it():
    rgb = np.zeros((2, 3, 4, 4), np.float32)
    assert with_alpha(rgb, 4).shape == (2, 4, 4, 4) and (with_alpha(rgb, 4)[:, 3] == 1).all()
    assert with_alpha(with_alpha(rgb, 4), 3).shape == rgb.shape
    np.testing.assert_array_equal(with_alpha(rgb + 0.5, 3), rgb + 0.5)
    with pytest.raises(InputError):
        with_alpha(rgb, 5)
    with pytest.raises(InputError):
        tensor_pixels(np.zeros((2, 4, 4), np.float32))
    with pytest.raises(InputError):
        pixels_tensor(np.zeros((4, 4, 3), np.uint8), 2)
