"""The Style dock with the arbitrary model, driven with pytest-qt: add a style from an image, its tile appears and
persists, Ctrl+click two styles, blend them with their sliders, Apply lands one undoable, well-named layer."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from genart_desktop.engine.registry import ModelRegistry
from tests.fixtures import painted_document, style_models
from tests.fixtures_arbitrary_style import arbitrary_folder, painting
from tests.ui.test_style_palette import WAIT_MS, make_panel, settle


@pytest.fixture
def doc():
    return painted_document(96, 64)


@pytest.fixture
def registry(tmp_path):
    root = style_models(tmp_path / "models")
    arbitrary_folder(root)
    return ModelRegistry(roots=[(root, "user")], settings={"session_cache_size": 6})


@pytest.fixture
def panel(qtbot, registry, doc):
    widget = make_panel(qtbot, registry, doc)
    yield widget
    widget.workspace.shutdown()


def click(qtbot, panel, choice, ctrl=False):
    item = panel.grid.item_for(choice)
    panel.grid.scrollToItem(item)
    modifier = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, modifier,
                     pos=panel.grid.visualItemRect(item).center())


def test_presets_show_as_tiles_with_rendered_thumbnails(panel):
    assert panel.grid.model_ids() == ["tiny-invert", "tiny-wash", "preset:starry-night", "preset:great-wave",
                                      "preset:held-out"]
    assert panel.grid.kind_of("preset:great-wave") == "preset"
    assert panel.add_image_button.isEnabled() and panel.add_layer_button.isEnabled()


def test_add_from_image_select_two_blend_and_apply(qtbot, panel, doc, tmp_path, registry):
    source = tmp_path / "Harbour.png"
    Image.fromarray(painting(31, 80)).save(source)
    thumbs = []
    panel.controller.thumbnail_ready.connect(lambda choice, pixels: thumbs.append(choice))
    choice = panel.add_style_from_image(str(source))
    assert choice is not None and panel.grid.item_for(choice).text() == "Harbour" and thumbs == [choice]
    assert panel.grid.kind_of(choice) == "user" and "Harbour" in panel.status_label.text()
    settle(qtbot, panel)

    click(qtbot, panel, "preset:great-wave")
    click(qtbot, panel, choice, ctrl=True)
    assert [c for c, _w in panel.controller.choices] == ["preset:great-wave", choice]
    assert panel.grid.chosen() == ["preset:great-wave", choice]
    assert list(panel.blend_sliders) == ["preset:great-wave", choice] and panel.blend_box.isVisible()
    panel.blend_sliders["preset:great-wave"].set_value(0.25)
    panel.blend_sliders["preset:great-wave"].value_changed.emit(0.25)
    panel.blend_sliders[choice].value_changed.emit(0.75)
    panel.strength.value_changed.emit(0.8)
    qtbot.waitUntil(lambda: panel.last_preview.recipe.key == (("preset:great-wave", 0.25), (choice, 0.75)),
                    timeout=WAIT_MS)  # the sliders re-preview the blend
    settle(qtbot, panel)

    layers_before = len(doc.layers)
    panel.apply()
    qtbot.waitUntil(lambda: len(doc.layers) == layers_before + 1, timeout=WAIT_MS)
    assert doc.active_layer.name == "Style: The Great Wave (Hokusai) 25% + Harbour 75%, strength 80%"
    assert doc.history.undo_count == 1
    doc.undo()
    assert len(doc.layers) == layers_before

    again = make_panel(qtbot, registry, doc)  # a restart: the style is still there
    try:
        assert choice in again.grid.model_ids()
        again.grid.remove_requested.emit(choice)
        assert choice not in again.grid.model_ids()
    finally:
        again.workspace.shutdown()


def test_a_fifth_style_is_refused_and_a_network_without_a_painting_does_not_blend(qtbot, panel):
    panel.controller.library.add_pixels(painting(2, 32), "Extra")
    panel.controller.library.add_pixels(painting(3, 32), "Extra 2")
    ids = [choice for choice in panel.grid.model_ids() if ":" in choice]
    click(qtbot, panel, ids[0])
    for choice in ids[1:5]:
        click(qtbot, panel, choice, ctrl=True)
    assert len(panel.controller.choices) == 4 and panel.grid.chosen() == ids[:4]
    assert "at most 4" in panel.status_label.text()
    click(qtbot, panel, ids[3], ctrl=True)  # Ctrl+click drops one
    assert panel.grid.chosen() == ids[:3]
    click(qtbot, panel, "tiny-invert", ctrl=True)
    assert "Tiny Invert cannot be blended" in panel.status_label.text()
    assert panel.grid.chosen() == [choice for choice, _w in panel.controller.choices] == ids[:3]


def test_add_from_layer_and_a_bad_image_is_one_line(qtbot, panel, doc, tmp_path):
    assert panel.add_style_from_layer() is not None
    assert panel.grid.item_for(panel.controller.choices[0][0]).text() == doc.active_layer.name
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    count = panel.grid.count()
    assert panel.add_style_from_image(str(bad)) is None
    assert "bad.png" in panel.status_label.text() and "\n" not in panel.status_label.text()
    assert panel.grid.count() == count


def test_no_preview_runs_while_the_dock_is_hidden(qtbot, panel):
    panel.hide()
    panel.choose_style("preset:starry-night")
    qtbot.wait(200)
    assert not panel.busy and panel.last_preview is None
    panel.show()
    qtbot.waitUntil(lambda: panel.last_preview is not None, timeout=WAIT_MS)
