"""Interop with pyora, an independent OpenRaster implementation (tests only)."""

import numpy as np
import pytest
from PIL import Image

from genart_desktop.document import Document
from genart_desktop.document.io.ora import load_ora, save_ora

pyora = pytest.importorskip("pyora")


def test_file_written_by_pyora_opens_with_the_same_layers(tmp_path):
    rng = np.random.default_rng(7)
    bottom = rng.integers(0, 256, (30, 40, 4), dtype=np.uint8)
    bottom[..., 3] = 255
    top = rng.integers(0, 256, (10, 12, 4), dtype=np.uint8)
    project = pyora.Project.new(40, 30)
    project.add_layer(Image.fromarray(bottom, "RGBA"), "Paper")
    project.add_layer(Image.fromarray(top, "RGBA"), "Ink", offsets=(5, 7), opacity=0.6, visible=False,
                      composite_op="svg:multiply")
    path = tmp_path / "pyora.ora"
    project.save(str(path))

    doc = load_ora(path)
    assert [layer.name for layer in doc.layers] == ["Paper", "Ink"]
    paper, ink = doc.layers
    assert np.array_equal(paper.pixels, bottom)
    assert abs(ink.opacity - 0.6) < 1e-6 and not ink.visible and ink.blend_mode == "multiply"
    assert np.array_equal(ink.pixels[7:17, 5:17], top)
    assert ink.pixels[:7].max() == 0


def test_our_file_opens_in_pyora(tmp_path):
    doc = Document(40, 30)
    pixels = np.zeros((30, 40, 4), np.uint8)
    pixels[10:20, 10:30] = (10, 200, 30, 180)
    doc.add_layer("Leaf", pixels)
    doc.set_layer_property(1, opacity=0.25, blend_mode="screen", visible=False)
    path = tmp_path / "ours.ora"
    save_ora(doc, path)

    project = pyora.Project.load(str(path))
    layers = list(project.iter_layers)
    assert [layer.name for layer in layers] == ["Background", "Leaf"]
    leaf = layers[1]
    assert abs(leaf.opacity - 0.25) < 1e-6 and not leaf.visible and leaf.composite_op == "svg:screen"
    assert project.dimensions == (40, 30)
    assert np.array_equal(np.asarray(leaf.get_image_data(raw=False).convert("RGBA")), pixels)
    assert np.array_equal(np.asarray(layers[0].get_image_data(raw=False).convert("RGBA")), doc.layers[0].pixels)
