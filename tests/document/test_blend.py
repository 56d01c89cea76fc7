import numpy as np
import pytest

from genart_desktop.document.blend import composite_layers
from genart_desktop.document.layer import BLEND_MODES


def px(r, g, b, a):
    return np.array([[[r, g, b, a]]], np.uint8)


def flat(backdrop, source, mode, opacity=1.0):
    return composite_layers([(backdrop, 1.0, "normal"), (source, opacity, mode)], (1, 1))[0, 0].tolist()


@pytest.mark.parametrize("mode,expected", [
    ("normal", [51, 102, 153]),
    ("multiply", [round(200 * 51 / 255), round(100 * 102 / 255), round(50 * 153 / 255)]),
    ("screen", [round(255 - (55 * 204) / 255), round(255 - (155 * 153) / 255), round(255 - (205 * 102) / 255)]),
    ("darken", [51, 100, 50]),
    ("lighten", [200, 102, 153]),
    ("add", [251, 202, 203]),
    ("overlay", [round(255 - 2 * 55 * 204 / 255), round(2 * 100 * 102 / 255), round(2 * 50 * 153 / 255)]),
])
def test_opaque_blend_modes_match_formulas(mode, expected):
    out = flat(px(200, 100, 50, 255), px(51, 102, 153, 255), mode)
    assert out[3] == 255
    assert all(abs(a - b) <= 1 for a, b in zip(out[:3], expected)), (out, expected)


def test_normal_half_alpha_over_opaque_and_over_transparent():
    assert flat(px(0, 0, 0, 255), px(255, 255, 255, 128), "normal")[:3] == [128, 128, 128]
    # over nothing, a translucent pixel keeps its colour (no dark fringe from straight alpha)
    out = composite_layers([(px(0, 0, 0, 0), 1.0, "normal"), (px(200, 10, 20, 64), 1.0, "multiply")], (1, 1))
    assert out[0, 0].tolist() == [200, 10, 20, 64]


def test_opacity_scales_source_alpha():
    out = flat(px(0, 0, 0, 255), px(255, 0, 0, 255), "normal", opacity=0.5)
    assert abs(out[0] - 128) <= 1 and out[3] == 255


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_transparent_source_changes_nothing(mode):
    assert flat(px(10, 20, 30, 200), px(255, 255, 255, 0), mode) == [10, 20, 30, 200]
