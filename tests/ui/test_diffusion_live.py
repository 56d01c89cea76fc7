"""Live mode in the window (issue 20): strokes painted with Live on update the canvas overlay (never the layers), Keep
lands one undoable layer, turning Live off clears the preview."""

from __future__ import annotations

import numpy as np

from genart_desktop.ui.diffusion_panel import install_diffusion_panel
from genart_desktop.workspace.tools import Tool
from tests.fixtures import painted_document
from tests.ui.helpers import mouse_stroke
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
