"""Live mode with a control layer (issue 20): frames carry the same control as a dock image of the canvas, and
painting the control layer, changing the control's strength, or clearing it renders a new frame, coalesced."""

from __future__ import annotations

import dataclasses

import numpy as np

from genart_desktop.document.document import Document
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import FROM_CANVAS
from tests.ui.test_diffusion_control import draw_line
from tests.workspace.test_diffusion_live import Live
from tests.workspace.tiny_control import control_folder

SIZE = 16


def grey(frame) -> np.ndarray:
    return frame.pixels.astype(int).mean(axis=2)


def test_live_frames_carry_the_control_and_follow_its_layer(tmp_path):
    control_folder(tmp_path, "tiny-control", text=True, resolution=SIZE)
    h = Live(ModelRegistry(roots=[(tmp_path, "user")]))
    try:
        base = h.diffusion.default_settings("tiny-control")
        h.diffusion.set_settings(dataclasses.replace(base, prompt="red", seed_mode="fixed", seed=3, strength=1.0,
                                                     control_strength=1.0))
        doc = Document(SIZE, SIZE)
        sketch = doc.add_layer("Sketch")
        draw_line(doc, (3, 3), (3, 12))
        h.diffusion.use_layer_as_control(doc)
        h.live.set_document(doc)
        h.live.set_enabled(True)
        h.pump()
        frame = h.live.frame
        (entry,), _seed = h.diffusion.submit(FROM_CANVAS, doc=doc)  # what a dock image of the canvas would carry
        h.diffusion.cancel_all()
        assert frame.recipe.control is not None and frame.recipe.control == entry.recipe.control
        drawn = sketch.pixels[..., 3] > 200
        assert grey(frame)[drawn].mean() < 80 and grey(frame)[~drawn].mean() > 180  # the frame follows the lines

        submitted = h.live.frames_submitted
        for y in (5, 8, 11):  # a burst of strokes on the control layer: few frames, the last shows them all
            draw_line(doc, (6, y), (13, y))
        h.pump()
        assert h.live.frames_submitted - submitted <= 2
        drawn = sketch.pixels[..., 3] > 200
        assert drawn[8, 6:13].all() and grey(h.live.frame)[drawn].mean() < 80

        h.diffusion.set_settings(dataclasses.replace(h.diffusion.settings, control_strength=0.0))
        h.pump()
        weak = h.live.frame
        assert weak.recipe.control.strength == 0.0 and weak.pixels[drawn][:, 0].mean() > 200  # the prompt's red

        h.diffusion.clear_control()  # no document change: the choice alone renders a frame without a control
        h.pump()
        assert h.live.frame is not weak and h.live.frame.recipe.control is None
    finally:
        h.live.set_enabled(False)
        h.workspace.shutdown()


def test_a_deleted_control_layer_is_said_once_and_no_frame_is_made(tmp_path):
    control_folder(tmp_path, "tiny-control", text=True, resolution=SIZE)
    h = Live(ModelRegistry(roots=[(tmp_path, "user")]))
    try:
        h.diffusion.set_settings(dataclasses.replace(h.diffusion.default_settings("tiny-control"), prompt="red"))
        doc = Document(SIZE, SIZE)
        doc.add_layer("Sketch")
        draw_line(doc, (3, 3), (3, 12))
        h.diffusion.use_layer_as_control(doc)
        doc.remove_layer(doc.active_index)
        failures = []
        h.live.failed.connect(failures.append)
        h.live.set_document(doc)
        h.live.set_enabled(True)
        h.pump()
        assert h.live.frames_submitted == 0 and h.live.frame is None
        assert len(failures) == 1 and "control layer was deleted" in failures[0]
    finally:
        h.live.set_enabled(False)
        h.workspace.shutdown()
