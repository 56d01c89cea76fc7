"""Live mode in the window (issue 20): strokes painted with Live on update the canvas overlay (never the layers), Keep
lands one undoable layer, turning Live off clears the preview; the preview is drawn scaled over its region and
see-through while the pen paints."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from genart_desktop.document.document import Document
from genart_desktop.ui.canvas_view import CanvasView
from genart_desktop.ui.diffusion_panel import install_diffusion_panel
from genart_desktop.workspace.tools import Tool, ToolController
from tests.fixtures import painted_document
from tests.ui.helpers import mouse_stroke, widget_point
from tests.ui.test_diffusion_panel import choose, click, model_root

WAIT_MS = 30000


def test_painting_with_live_on_updates_the_overlay_and_keep_lands_a_layer(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    install_diffusion_panel(window)
    panel, canvas = window.diffusion_panel, window.canvas
    doc = painted_document(320, 240)
    window.set_document(doc)
    window.docks["Diffusion"].raise_()
    choose(panel, "tiny-diffusion")
    steps = panel.steps_spin.value()
    assert not panel.keep_button.isEnabled()
    click(qtbot, panel.live_button)
    assert panel.live.enabled and panel.live_button.isChecked()
    qtbot.waitUntil(lambda: canvas.overlay is not None, timeout=WAIT_MS)
    first = panel.live.frame
    assert panel.keep_button.isEnabled()
    layers = len(doc.layers)

    canvas.controller.set_tool(Tool.BRUSH)
    for offset in (0, 40, 80):
        mouse_stroke(canvas, [(40 + offset, 60), (120 + offset, 150), (200, 200)])
    assert len(doc.layers) == layers  # the strokes went to the painting, not to a frame layer
    qtbot.waitUntil(lambda: panel.live.frame is not first and not panel.live.busy
                    and panel.live.frame.revision == panel.live._revision, timeout=WAIT_MS)
    image, x, y = canvas.overlay
    assert (x, y) == (0, 0) and (image.width(), image.height()) == panel.live.frame.preview.shape[1::-1]
    before = doc.composite().copy()

    click(qtbot, panel.keep_button)
    assert len(doc.layers) == layers + 1
    kept = [layer for layer in doc.layers if layer.metadata.get("source") == "diffusion"]
    assert len(kept) == 1 and kept[0].pixels.shape == (240, 320, 4) and kept[0].pixels[..., 3].min() == 255
    doc.undo()
    assert len(doc.layers) == layers
    np.testing.assert_array_equal(doc.composite(), before)

    click(qtbot, panel.live_button)
    assert not panel.live.enabled and canvas.overlay is None
    assert panel.steps_spin.value() == steps  # the live step count was only for live frames


def test_a_preview_is_drawn_scaled_over_its_region_and_see_through_while_the_pen_paints(qtbot):
    doc = Document(200, 120)
    controller = ToolController(doc)
    controller.set_brush(size=4.0, color=(200, 30, 30))
    canvas = CanvasView(controller)
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.set_document(doc)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_view(zoom=1.0, center=(100, 60))
    canvas.set_overlay(np.full((10, 20, 4), (0, 0, 255, 255), np.uint8), (40, 30), (100, 50))  # drawn 5x

    def colour_at(x, y):
        shot = canvas.grab().toImage().pixelColor(canvas.map_from_canvas(x, y).toPoint())
        return shot.red(), shot.green(), shot.blue()

    assert colour_at(130, 70) == (0, 0, 255) and colour_at(150, 90) == (255, 255, 255)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(canvas, 10, 10))
    red, green, blue = colour_at(130, 70)  # the white canvas shows through while the stroke goes on
    assert red > 100 and green > 100 and blue == 255
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(canvas, 10, 10))
    assert colour_at(130, 70) == (0, 0, 255)
