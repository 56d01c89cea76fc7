"""Layer > Upscale in the real window: the menu enlarges the active layer or the selection into one undoable layer,
and a refusal (nothing selected) is a status line that changes nothing."""

from __future__ import annotations

import numpy as np

from genart_desktop.document.document import Document
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui.upscale_menu import install_upscale_menu
from tests.engine.tiny_upscaler import write_upscaler_folder

WAIT_MS = 60_000


def picture_document() -> Document:
    doc = Document(1920, 1080)
    picture = np.zeros((90, 160, 4), np.uint8)
    picture[..., 0] = np.arange(160, dtype=np.uint8)[None, :]
    picture[..., 2] = 200
    picture[..., 3] = 255
    doc.add_layer("Picture", pixels=picture, origin=(400, 300))
    doc.history.clear()
    return doc


def test_the_menu_upscales_the_layer_as_one_undoable_layer_and_refuses_without_a_selection(qtbot, window, tmp_path):
    write_upscaler_folder(tmp_path / "models", scale=2, tile=64, overlap=8)
    window.registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={"execution_provider": "cpu"})
    controller = install_upscale_menu(window)
    doc = picture_document()
    window.set_document(doc)
    menu_texts = [action.text() for action in window.layer_menu.actions()]
    assert "&Upscale" in menu_texts

    window.actions["upscale_selection_2"].trigger()  # nothing selected: one line, nothing queued or changed
    assert "Select the part of the picture to upscale first." in window.statusBar().currentMessage()
    assert len(doc.layers) == 2 and not controller.busy

    window.actions["upscale_layer_2"].trigger()
    qtbot.waitUntil(lambda: len(doc.layers) == 3, timeout=WAIT_MS)
    layer = doc.layers[-1]
    assert layer.name == "Upscaled layer x2"
    assert layer.pixels[..., 3].sum() > 0 and "Undo removes it" in window.statusBar().currentMessage()
    painted = np.argwhere(layer.pixels[..., 3] > 0)
    height, width = painted.max(axis=0) - painted.min(axis=0) + 1
    assert (width, height) == (320, 180)  # twice the 160x90 picture, aspect kept
    doc.undo()
    assert len(doc.layers) == 2

    assert controller.request(doc).ensemble is None  # the card's self-ensemble
    window.actions["upscale_fast"].trigger()
    assert window.actions["upscale_fast"].isChecked() and controller.request(doc).ensemble == 1
    window.actions["upscale_fast"].trigger()
    assert controller.request(doc).ensemble is None
