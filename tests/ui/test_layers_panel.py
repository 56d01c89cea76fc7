"""The Layers dock, bound both ways to the document: every control edits it, every change (undo too) shows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent

from genart_desktop.document.brush import BrushSettings
from genart_desktop.document.document import Document
from genart_desktop.ui.layers_panel import LayersPanel


@pytest.fixture
def panel(qtbot):
    widget = LayersPanel()
    qtbot.addWidget(widget)
    widget.resize(260, 400)
    widget.set_document(Document(64, 48))
    widget.show()
    return widget


def names(panel):
    return [panel.list.item(row).text() for row in range(panel.list.count())]


def test_add_duplicate_delete_and_undo(panel):
    doc = panel.document
    panel.buttons["layer_add"].click()
    assert names(panel) == ["Layer 2", "Background"]
    assert panel.list.currentRow() == 0 and doc.active_index == 1
    panel.buttons["layer_duplicate"].click()
    assert names(panel) == ["Layer 2 copy", "Layer 2", "Background"]
    panel.buttons["layer_delete"].click()
    assert names(panel) == ["Layer 2", "Background"]
    doc.undo()
    assert names(panel) == ["Layer 2 copy", "Layer 2", "Background"]
    doc.undo()
    doc.undo()
    assert names(panel) == ["Background"]
    assert not panel.buttons["layer_delete"].isEnabled()


def test_selecting_a_row_sets_the_active_layer(panel):
    doc = panel.document
    panel.add_layer()
    panel.add_layer()
    panel.list.setCurrentRow(2)
    assert doc.active_index == 0
    doc.set_active(2)
    assert panel.list.currentRow() == 0


def test_rename_and_visibility_from_the_list(panel):
    doc = panel.document
    panel.add_layer()
    item = panel.list.item(0)
    item.setText("Ink")
    assert doc.layers[1].name == "Ink"
    panel.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert doc.layers[0].visible is False
    assert doc.composite()[..., 3].max() == 0
    doc.undo()
    assert panel.list.item(1).checkState() == Qt.CheckState.Checked
    doc.undo()
    assert names(panel)[0] == "Layer 2"
    panel.list.item(0).setText("   ")
    assert doc.layers[1].name == "Layer 2" and names(panel)[0] == "Layer 2"  # empty names are refused


def test_opacity_blend_and_lock_controls(panel):
    doc = panel.document
    panel.add_layer()
    panel.opacity.slider.setValue(40)  # a keyboard/wheel step commits at once
    assert doc.layers[1].opacity == pytest.approx(0.4)
    undo_steps = doc.history.undo_count
    panel.opacity.slider.setSliderDown(True)
    for value in (35, 30, 25):
        panel.opacity.slider.setValue(value)
    panel.opacity.slider.setSliderDown(False)
    panel.opacity.slider.sliderReleased.emit()
    assert doc.layers[1].opacity == pytest.approx(0.25)
    assert doc.history.undo_count == undo_steps + 1, "a slider drag is one undo step"
    panel.blend.setCurrentIndex(panel.blend.findData("screen"))
    assert doc.layers[1].blend_mode == "screen"
    panel.lock.setChecked(True)
    assert doc.layers[1].locked
    doc.undo()
    doc.undo()
    assert panel.blend.currentData() == "normal" and not panel.lock.isChecked()
    doc.undo()
    assert panel.opacity.value() == 40


def test_reorder_with_buttons_and_drag(panel):
    doc = panel.document
    panel.add_layer()
    panel.add_layer()
    assert names(panel) == ["Layer 3", "Layer 2", "Background"]
    panel.buttons["layer_down"].click()
    assert names(panel) == ["Layer 2", "Layer 3", "Background"]
    assert panel.list.currentRow() == 1
    panel.buttons["layer_up"].click()
    assert names(panel) == ["Layer 3", "Layer 2", "Background"]

    # drag the top row below the bottom row: a real drop event on the list's viewport
    panel.list.setCurrentRow(0)
    bottom = panel.list.visualItemRect(panel.list.item(2))
    target = QPointF(bottom.center().x(), bottom.bottom() - 1)
    mime = panel.list.model().mimeData([panel.list.currentIndex()])
    event = QDropEvent(target, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    moved = []
    panel.list.row_moved.connect(lambda a, b: moved.append((a, b)))
    panel.list.dropEvent(event)
    assert moved and moved[0][0] == 0
    assert names(panel)[0] != "Layer 3"
    assert [layer.name for layer in doc.layers][-1] == names(panel)[0]
    doc.undo()
    assert names(panel) == ["Layer 3", "Layer 2", "Background"]


def test_move_row_maps_rows_to_stack_indices(panel):
    doc = panel.document
    panel.add_layer()
    panel.add_layer()
    panel.move_row(2, 0)  # Background to the top
    assert [layer.name for layer in doc.layers] == ["Layer 2", "Layer 3", "Background"]
    assert names(panel) == ["Background", "Layer 3", "Layer 2"]


def test_merge_down(panel):
    doc = panel.document
    doc.add_layer("Red", pixels=np.tile(np.array([255, 0, 0, 255], np.uint8), (48, 64, 1)))
    panel.buttons["layer_merge"].click()
    assert names(panel) == ["Background"]
    assert tuple(doc.layers[0].pixels[10, 10]) == (255, 0, 0, 255)
    assert not panel.buttons["layer_merge"].isEnabled()
    doc.undo()
    assert names(panel) == ["Red", "Background"]


def test_errors_are_reported_not_raised(panel):
    messages = []
    panel.error.connect(messages.append)
    panel.document.set_layer_property(0, locked=True)
    panel.add_layer()
    panel.list.setCurrentRow(0)
    panel.buttons["layer_merge"].click()  # the layer below is locked
    assert messages and "locked" in messages[0]
    assert len(panel.document.layers) == 2


def test_thumbnails_follow_pixels(panel, qtbot):
    doc = panel.document
    before = panel.list.item(0).icon().pixmap(40, 40).toImage()
    stroke = doc.begin_stroke(BrushSettings(size=40, color=(0, 0, 0)))
    stroke.add_point(32, 24)
    stroke.end()
    qtbot.waitUntil(lambda: panel.list.item(0).icon().pixmap(40, 40).toImage() != before, timeout=2000)
