"""The Diffusion dock's Regions box driven with pytest-qt: two regions with two prompts make one picture; each
edit in the box is one undo step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit

from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.ui.diffusion_panel import DiffusionPanel
from genart_desktop.workspace.diffusion import DiffusionController
from tests.ui.test_diffusion_panel import choose, click, generate_one, settle, workspace  # noqa: F401 - the dock's wiring

SIZE = 16


@pytest.fixture
def doc():
    return Document(SIZE, SIZE)


@pytest.fixture
def panel(qtbot, workspace, doc):  # noqa: F811 - the workspace fixture above
    widget = DiffusionPanel(DiffusionController(workspace), lambda: doc)
    qtbot.addWidget(widget)
    widget.resize(420, 1000)
    widget.show()
    return widget


def test_two_regions_with_two_prompts_make_one_picture(qtbot, panel, doc, tmp_path):
    box = panel.regions_box
    assert not box.remove_button.isEnabled()
    click(qtbot, box.selection_button)  # nothing selected: refused, said in the status line
    assert len(doc.regions) == 0 and "Select" in panel.status.text()
    doc.select_rect(Rect(0, 0, SIZE, SIZE // 2))
    click(qtbot, box.selection_button)
    box.set_prompt(0, "green")
    layer = np.zeros((SIZE, SIZE, 4), np.uint8)
    layer[SIZE // 2:, : SIZE // 2] = 255
    doc.add_layer("Pond", layer)
    click(qtbot, box.layer_button)
    box.set_prompt(1, "blue")
    assert [(r.name, r.prompt) for r in doc.regions] == [("Region 1", "green"), ("Pond", "blue")]
    assert box.table.rowCount() == 2 and box.table.item(1, 0).text() == "Pond"
    doc.deselect()

    choose(panel, "tiny-text")
    entry = generate_one(qtbot, panel, "red")
    assert entry.state == "done" and [r.prompt for r in entry.recipe.regions] == ["green", "blue"]
    pixels = entry.pixels.astype(int)
    top, pond, rest = pixels[:6].mean(axis=(0, 1)), pixels[-5:, :5].mean(axis=(0, 1)), pixels[-5:, -5:].mean(
        axis=(0, 1))
    assert top[1] > top[0] + 100 and top[1] > top[2] + 100
    assert pond[2] > pond[0] + 100 and pond[2] > pond[1] + 100
    assert rest[0] > rest[1] + 100 and rest[0] > rest[2] + 100

    # the recipe PNG brings the regions back onto a fresh canvas through Open PNG recipe
    path = panel.controller.export_png(entry.id, tmp_path / "two.png")
    box.table.selectRow(0)
    click(qtbot, box.remove_button)
    click(qtbot, box.remove_button)
    assert len(doc.regions) == 0 and box.table.rowCount() == 0
    assert panel.open_png(path)
    assert [r.prompt for r in doc.regions] == ["green", "blue"] and box.table.rowCount() == 2


def test_the_chosen_region_is_tinted_on_the_canvas_while_the_list_has_focus(qtbot, window, tmp_path, monkeypatch):
    from genart_desktop.ui.diffusion_panel import install_diffusion_panel
    from tests.ui.test_diffusion_panel import model_root

    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    install_diffusion_panel(window)
    panel, canvas = window.diffusion_panel, window.canvas
    doc = Document(64, 48)
    window.set_document(doc)
    window.docks["Diffusion"].raise_()
    doc.select_rect(Rect(10, 5, 20, 30))
    click(qtbot, panel.regions_box.selection_button)
    doc.deselect()
    table = panel.regions_box.table
    table.selectRow(0)
    table.setFocus()
    qtbot.waitUntil(lambda: canvas.overlay is not None)
    image, x, y = canvas.overlay
    assert (x, y, image.width(), image.height()) == (10, 5, 20, 30)
    canvas.setFocus()
    qtbot.waitUntil(lambda: canvas.overlay is None)
    assert len(doc.layers) == 1  # a tint, never a layer


def type_into_cell(qtbot, box, row: int, column: int, text: str) -> None:
    """Open a cell's editor (adding a region opens its prompt's), type ``text`` key by key over what was there,
    press Enter."""
    if box.table.state() != QAbstractItemView.State.EditingState:
        box.table.setCurrentCell(row, column)
        box.table.editItem(box.table.item(row, column))
    (editor,) = [child for child in box.table.findChildren(QLineEdit) if child.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: box.table.state() != QAbstractItemView.State.EditingState)


def test_each_edit_in_the_box_is_one_undo_step(qtbot, panel, doc):
    box = panel.regions_box
    doc.select_rect(Rect(0, 0, SIZE, SIZE // 2))
    start = doc.history.undo_count
    click(qtbot, box.selection_button)
    assert doc.history.undo_count == start + 1 and doc.history.undo_text == "Add Region"
    type_into_cell(qtbot, box, 0, 1, "green")  # five keys, one step
    assert doc.regions[0].prompt == "green" and doc.history.undo_count == start + 2
    type_into_cell(qtbot, box, 0, 0, "Hills")
    assert doc.regions[0].name == "Hills" and doc.history.undo_text == "Rename Region"
    type_into_cell(qtbot, box, 0, 0, " ")  # a blank name is refused and the cell shows the name again
    assert "name" in panel.status.text() and box.table.item(0, 0).text() == "Hills"
    box.table.selectRow(0)
    click(qtbot, box.remove_button)
    assert box.table.rowCount() == 0 and doc.history.undo_count == start + 4

    shown = []
    for _ in range(4):
        doc.undo()
        shown.append([(box.table.item(row, 0).text(), box.table.item(row, 1).text())
                      for row in range(box.table.rowCount())])
    assert shown == [[("Hills", "green")], [("Region 1", "green")], [("Region 1", "")], []]
    doc.redo()
    assert box.table.rowCount() == 1 and len(doc.regions) == 1
