"""numpy <-> QImage conversions keep every pixel and own their memory."""

import numpy as np

from genart_desktop.ui.qimage import picture_to_qimage, qimage_to_rgba, rgb_to_qimage, rgba_to_qimage


def test_rgb_round_trip_is_exact_and_ignores_a_fourth_channel():
    rgba = np.random.default_rng(0).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    expected = rgba[..., :3].copy()
    image = rgb_to_qimage(rgba)
    rgba[:] = 0  # the QImage must not point into the array
    back = qimage_to_rgba(image)
    assert (image.width(), image.height()) == (7, 5)
    assert np.array_equal(back[..., :3], expected) and (back[..., 3] == 255).all()


def test_straight_rgba_round_trip_is_exact_when_not_premultiplied():
    rgba = np.random.default_rng(1).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    assert np.array_equal(qimage_to_rgba(rgba_to_qimage(rgba, premultiply=False)), rgba)


def test_a_picture_with_alpha_becomes_a_cut_out_and_an_rgb_one_stays_opaque():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (200, 10, 20, 255)
    cut_out = picture_to_qimage(rgba)
    assert cut_out.hasAlphaChannel() and cut_out.pixelColor(1, 1).alpha() == 0
    assert cut_out.pixelColor(0, 0).getRgb() == (200, 10, 20, 255)
    opaque = picture_to_qimage(rgba[..., :3])
    assert not opaque.hasAlphaChannel() and opaque.pixelColor(1, 1).getRgb() == (0, 0, 0, 255)
