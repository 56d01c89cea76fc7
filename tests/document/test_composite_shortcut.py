"""The compositor skips layers hidden under an opaque normal layer; the pixels must equal the full blend."""

import numpy as np

from genart_desktop.document.blend import composite_layers
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect


def test_opaque_top_layer_gives_the_same_pixels_as_the_full_blend():
    rng = np.random.default_rng(3)
    doc = Document(96, 80)
    below = rng.integers(0, 256, (80, 96, 4), dtype=np.uint8)
    opaque = rng.integers(0, 256, (80, 96, 4), dtype=np.uint8)
    opaque[..., 3] = 255
    above = rng.integers(0, 256, (80, 96, 4), dtype=np.uint8)
    doc.add_layer("below", pixels=below)
    doc.set_layer_property(1, blend_mode="multiply")
    doc.add_layer("opaque", pixels=opaque)
    doc.add_layer("above", pixels=above)
    doc.set_layer_property(3, blend_mode="screen", opacity=0.6)
    stack = [(layer.pixels, layer.opacity, layer.blend_mode) for layer in doc.layers]
    expected = composite_layers(stack, (80, 96))
    assert np.array_equal(doc.composite(), expected)
    assert np.array_equal(doc.composite(Rect(10, 5, 40, 30)), expected[5:35, 10:50])


def test_a_translucent_or_blended_top_layer_still_shows_what_is_below():
    doc = Document(32, 32)
    top = np.zeros((32, 32, 4), np.uint8)
    top[..., 0] = 200
    top[..., 3] = 255
    doc.add_layer("multiply", pixels=top)
    doc.set_layer_property(1, blend_mode="multiply")
    # white background multiplied by (200, 0, 0) is (200, 0, 0); a wrongly skipped background would give the same
    # here, so also check opacity < 1 keeps the white showing through
    doc.set_layer_property(1, opacity=0.5)
    out = doc.composite()
    assert out[0, 0, 1] > 100  # green from the white background shows through the half-transparent layer
