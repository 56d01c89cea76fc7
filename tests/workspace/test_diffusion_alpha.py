"""A model that decodes alpha (issue 18): its picture comes out of the engine as straight RGBA and lands on the
painting as the cut-out the model drew, with no box and no keying, whatever "keep background" says.

The model is hand-built: the ideal flat-colour U-Net in a 3-channel latent space and a ``vae_decoder`` that draws
a fixed premultiplied red disc on a transparent ground (the latent only enters multiplied by zero)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import GENERATE, DiffusionController
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import painted_document
from tests.tiny_onnx import _finish, write_model_folder
from tests.workspace.tiny_diffusion import CLASSES, SCHEDULE, ideal_unet

SIDE = 16
RED = (220, 30, 40)
ELLIPSE = Rect(400, 150, 974, 780)


def disc() -> np.ndarray:
    """(SIDE, SIDE) bool: the disc the decoder draws."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    return (xx - SIDE / 2 + 0.5) ** 2 + (yy - SIDE / 2 + 0.5) ** 2 < (SIDE * 0.35) ** 2


def cutout_decoder():
    inside = disc().astype(np.float32)
    levels = np.stack([inside * c for c in RED] + [inside * 255.0])  # premultiplied: colour 0 where alpha is 0
    picture = (levels / 127.5 - 1.0)[None].astype(np.float32)
    nodes = [helper.make_node("Conv", ["latent", "zero"], ["nothing"]),
             helper.make_node("Add", ["nothing", "picture"], ["image"])]
    graph = helper.make_graph(
        nodes, "cutout_decoder", [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["batch", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 4, SIDE, SIDE])],
        initializer=[numpy_helper.from_array(np.zeros((4, 3, 1, 1), np.float32), "zero"),
                     numpy_helper.from_array(picture, "picture")])
    return _finish(graph)


@pytest.fixture
def registry(tmp_path):
    config = {"schedule": SCHEDULE.to_dict(), "conditioning": {"type": "class", "classes": CLASSES},
              "latent": {"scaling_factor": 1.0, "factor": 1}, "default_steps": 4, "default_guidance": 1.0}
    write_model_folder(tmp_path / "models", "tiny-cutout", "diffusion",
                       {"unet": ideal_unet(True), "vae_decoder": cutout_decoder()}, resolution=[SIDE, SIDE],
                       config=config)
    return ModelRegistry(roots=[(tmp_path / "models", "user")])


def test_the_engine_returns_the_decoders_alpha_as_straight_rgba(registry):
    model = CardDiffusionModel.from_registry(registry, "tiny-cutout")
    output = model.render(model.recipe(class_label="red", seed=3, steps=4, guidance=1.0))
    pixels, inside = output.pixels, disc()
    assert pixels.shape == (SIDE, SIDE, 4)
    assert (pixels[~inside] == 0).all()  # transparent, no colour
    assert (pixels[inside, 3] == 255).all() and (np.abs(pixels[inside, :3].astype(int) - RED).max() <= 1)


@pytest.mark.parametrize("keep_background", [False, True])
def test_a_cut_out_lands_without_a_box_through_the_models_own_alpha(registry, keep_background):
    controller = DiffusionController(Workspace(registry), preview_every=0)
    doc = painted_document(1920, 1080)
    doc.select_ellipse(ELLIPSE)
    before = doc.composite().copy()
    settings = dataclasses.replace(controller.default_settings("tiny-cutout"), seed_mode="fixed", seed=3,
                                   class_label="red", guidance=1.0, keep_background=keep_background)
    (entry,) = controller.submit(GENERATE, settings, doc)[0]
    assert entry.handle.wait(30) and entry.state == "done"
    assert entry.pixels.shape == (SIDE, SIDE, 4)
    controller.accept(entry.id, doc)
    after = doc.composite()
    cy, cx = ELLIPSE.y + 390, ELLIPSE.x + 487  # the centre of the ellipse and of the fitted 780x780 square
    beside_the_disc = (cy, cx - 330)  # inside the selection and the square, outside the disc
    np.testing.assert_array_equal(after[beside_the_disc], before[beside_the_disc])
    assert np.abs(after[cy, cx, :3].astype(int) - RED).max() <= 2 and after[cy, cx, 3] == 255
    outside = doc.selection.mask == 0
    np.testing.assert_array_equal(after[outside], before[outside])
    doc.undo()
    np.testing.assert_array_equal(doc.composite(), before)
    controller.workspace.shutdown()
