"""The Diffusion dock's Control box driven with pytest-qt: lines drawn on a layer become the control picture and
the result follows them; the box is off for models without a control input."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.document.brush import BrushSettings
from genart_desktop.document.document import Document
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui.diffusion_panel import DiffusionPanel
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.workspace.diffusion import DiffusionController
from genart_desktop.workspace.workspace import Workspace
from tests.ui.test_diffusion_panel import choose, click, generate_one, settle
from tests.workspace.tiny_control import control_folder
from tests.workspace.tiny_diffusion import diffusion_folder

SIZE = 16


@pytest.fixture
def workspace(qtbot, tmp_path):
    root = tmp_path / "models"
    control_folder(root, "tiny-control", text=True, resolution=SIZE)
    diffusion_folder(root, "tiny-text", conditioned="text", resolution=SIZE)
    bridge = JobBridge()
    workspace = Workspace(ModelRegistry(roots=[(root, "user")]), post=bridge.post, name="test-diffusion-control")
    bridge.event.connect(workspace.deliver)
    workspace.bridge = bridge
    yield workspace
    workspace.shutdown()


@pytest.fixture
def doc():
    return Document(SIZE, SIZE)


@pytest.fixture
def panel(qtbot, workspace, doc):
    widget = DiffusionPanel(DiffusionController(workspace), lambda: doc)
    qtbot.addWidget(widget)
    widget.resize(420, 1000)
    widget.show()
    return widget


def draw_line(doc: Document, start: tuple[float, float], end: tuple[float, float]) -> None:
    stroke = doc.begin_stroke(BrushSettings(size=2, hardness=1.0, color=(0, 0, 0)))
    for t in np.linspace(0.0, 1.0, 24):
        stroke.add_point(start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
    stroke.end()


def test_lines_drawn_on_a_layer_steer_the_picture(qtbot, panel, doc):
    box = panel.control_box
    choose(panel, "tiny-text")
    assert not box.isEnabled() and "takes none" in box.title()
    choose(panel, "tiny-control")
    assert box.isEnabled() and box.title() == "Control (edges)"
    assert not box.clear_button.isEnabled() and box.thumbnail.text() == "No control"

    doc.add_layer("Sketch")
    click(qtbot, box.use_button)  # an empty layer is refused, said in the status line
    assert panel.controller.control_layer_uid is None and "empty" in panel.status.text()
    draw_line(doc, (3, 3), (3, 12))
    draw_line(doc, (3, 12), (12, 12))
    click(qtbot, box.use_button)
    assert panel.controller.control_layer_uid == doc.layers[doc.active_index].uid
    assert not box.thumbnail.pixmap().isNull() and box.clear_button.isEnabled()

    box.strength.set_value(1.0)
    entry = generate_one(qtbot, panel, "red")
    assert entry.state == "done", entry.message
    control = entry.recipe.control
    assert control is not None and (control.mode, control.strength) == ("sketch", 1.0)
    drawn = doc.layers[doc.active_index].pixels[..., 3] > 200
    pixels = entry.pixels.astype(int).mean(axis=2)
    assert pixels[drawn].mean() < 80 and pixels[~drawn].mean() > 180  # the picture follows the lines

    # strength 0: the prompt's colour (red) where the lines were; Clear drops the control
    panel.controller.discard_finished()
    box.strength.spin.setValue(0.0)  # as if typed
    assert panel.controller.settings.control_strength == 0.0
    click(qtbot, panel.generate_button)
    settle(qtbot, panel)
    (weak,) = panel.controller.staged
    assert weak.recipe.control.strength == 0.0
    red = weak.pixels[drawn].astype(int)
    assert red[:, 0].mean() > 200 and red[:, 1:].mean() < 60
    click(qtbot, box.clear_button)
    assert panel.controller.control_layer_uid is None and box.thumbnail.text() == "No control"


def test_open_png_and_history_put_the_control_back_as_a_layer(qtbot, panel, doc, tmp_path):
    box = panel.control_box
    choose(panel, "tiny-control")
    doc.add_layer("Sketch")
    draw_line(doc, (3, 3), (3, 12))
    click(qtbot, box.use_button)
    box.strength.spin.setValue(0.5)
    entry = generate_one(qtbot, panel, "red")
    path = panel.controller.export_png(entry.id, tmp_path / "control.png")
    click(qtbot, box.clear_button)
    box.strength.spin.setValue(1.0)

    layers = len(doc.layers)
    assert panel.open_png(path)
    control = doc.layers[doc.active_index]
    assert len(doc.layers) == layers + 1 and control.name == "Control (sketch)"
    assert panel.controller.control_layer_uid == control.uid and box.clear_button.isEnabled()
    assert panel.controller.settings.control_strength == 0.5 and not box.thumbnail.pixmap().isNull()
    doc.undo()  # one step takes the layer away again
    assert len(doc.layers) == layers
    qtbot.waitUntil(lambda: box.thumbnail.text() == "Layer gone")  # the thumbnail follows a moment later

    click(qtbot, box.clear_button)
    panel.history_list.setCurrentRow(0)  # the opened PNG, newest first
    assert panel.restore_selected()
    assert len(doc.layers) == layers + 1 and panel.controller.control_layer_uid == doc.layers[-1].uid


def test_the_section_opens_when_a_control_is_chosen_and_sums_it_up(qtbot, panel, doc):
    box = panel.control_box
    choose(panel, "tiny-control")
    assert not box.is_expanded() and not box.body.isVisible() and box.header.text() == "Control (edges)"
    doc.add_layer("Sketch")
    draw_line(doc, (3, 3), (3, 12))
    assert box.use_active_layer()
    assert box.is_expanded() and box.body.isVisible()
    box.strength.spin.setValue(0.8)  # typed: the setting changes, and the header with it
    assert panel.controller.settings.control_strength == 0.8
    assert box.header.text() == "Control (edges): Sketch, 0.8"
    box.set_expanded(False)  # folded by the user: choosing the same layer again leaves it folded
    assert box.use_active_layer() and not box.is_expanded()
    panel.controller.clear_control()
    assert box.summary() == "" and not box.is_expanded()
