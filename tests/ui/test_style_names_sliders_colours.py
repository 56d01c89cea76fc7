"""Item 7 of issue 22: applied style layers are told apart by name, size sliders have no jump at their middle, and
the colour dock does not move when its first recent swatch appears."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from genart_desktop.ui.widgets import ValueSlider
from genart_desktop.workspace.style import layer_name


def recipe(strength: float, scale: float = 1.0):
    return SimpleNamespace(model_name="Starry Night", settings=SimpleNamespace(strength=strength, scale=scale))


def test_applied_styles_get_distinct_names():
    taken: list[str] = []
    for settings in ((0.8, 1.0), (0.8, 1.0), (0.5, 1.0), (0.8, 2.0), (0.8, 1.0)):
        taken.append(layer_name(recipe(*settings), taken))
    assert taken == ["Style: Starry Night, strength 80%", "Style: Starry Night, strength 80% (2)",
                     "Style: Starry Night, strength 50%", "Style: Starry Night, strength 80%, strokes 2\u00d7",
                     "Style: Starry Night, strength 80% (3)"]


def test_the_brush_size_slider_is_geometric_with_small_sizes_in_reach(qtbot, window):
    size = window.tools_panel.size
    slider = size.slider
    slider.setValue((slider.minimum() + slider.maximum()) // 2)
    assert size.value() == pytest.approx(22, abs=1)  # the middle is a useful size, not 250 px
    assert window.controller.brush.size == size.value()
    previous = size.value()
    for step in range(slider.minimum(), slider.maximum() + 1, 50):  # no jump anywhere along it
        slider.setValue(step)
        assert size.value() >= previous or step == slider.minimum()
        assert size.value() <= previous * 1.45 + 1
        previous = size.value()
    slider.setValue(slider.maximum())
    assert size.value() == 500
    size.spin.setValue(16)
    assert size._slider_value(slider.value()) == pytest.approx(16, abs=0.5)  # typed values land on the slider


def test_the_style_stroke_size_has_the_trained_size_at_its_middle(qtbot, window):
    from genart_desktop.ui.ai_panels import install_ai_panels

    install_ai_panels(window)
    scale = window.style_palette.scale
    scale.slider.setValue((scale.slider.minimum() + scale.slider.maximum()) // 2)
    assert scale.value() == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError):
        ValueSlider("Feather", 0, 10, 1, log=True)


def test_the_colour_dock_does_not_jump_when_the_first_swatch_appears(qtbot, window):
    panel = window.color_panel
    before = {name: getattr(panel, name).geometry() for name in ("square", "hue", "swatch", "hex")}
    panel.remember((200, 10, 10))
    qtbot.wait(20)
    assert {name: getattr(panel, name).geometry() for name in before} == before
    assert panel._recent_buttons[0].isVisible()
