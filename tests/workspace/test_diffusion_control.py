"""Control pictures between the canvas and the recipe: restoring a recipe (Open PNG, history) puts its control back
as a layer chosen as the control (with its regions, one undo step) that regenerates the same picture; a recipe without a control
leaves the choice alone, and a damaged one changes nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.control import RecipeControl
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import RecipeRegion
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import DiffusionController
from genart_desktop.workspace.diffusion_regions import selection_region
from genart_desktop.workspace.workspace import Workspace
from tests.ui.test_diffusion_control import draw_line
from tests.workspace.test_diffusion_regions import generate
from tests.workspace.tiny_control import control_folder

SIZE = 16


@pytest.fixture
def controller(tmp_path):
    root = tmp_path / "models"
    control_folder(root, "tiny-control", text=True, resolution=SIZE)
    workspace = Workspace(ModelRegistry(roots=[(root, "user")]))
    yield DiffusionController(workspace, preview_every=0)
    workspace.shutdown()


def sketched(controller) -> Document:
    """A canvas with an L drawn on a layer chosen as the control, and a region on its left half."""
    doc = Document(SIZE, SIZE)
    doc.select_rect(Rect(0, 0, SIZE // 2, SIZE))
    selection_region(doc, "blue")
    doc.deselect()
    doc.add_layer("Sketch")
    draw_line(doc, (3, 3), (3, 12))
    draw_line(doc, (3, 12), (12, 12))
    controller.use_layer_as_control(doc)
    return doc


@pytest.mark.parametrize("mode", ["sketch", "edges"])
def test_a_restored_recipe_puts_its_control_back_and_repeats_the_picture(controller, tmp_path, mode):
    settings = dataclasses.replace(controller.default_settings("tiny-control"), prompt="red", seed_mode="fixed",
                                   seed=5, control_mode=mode, control_strength=0.75)
    entry = generate(controller, sketched(controller), settings)
    path = controller.export_png(entry.id, tmp_path / "control.png")
    controller.clear_control()

    wide = Document(2 * SIZE, SIZE)  # the picture is fitted inside a wider canvas, like restored regions
    restored, item = controller.open_png(path)
    steps = wide.history.undo_count
    layer = controller.restore_onto(item.recipe, wide)
    assert layer.name == f"Control ({mode})" and controller.control_layer_uid == layer.uid
    assert wide.history.undo_count == steps + 1 and wide.history.undo_text == "Restore Recipe"
    assert wide.layers[wide.active_index] is layer and [r.prompt for r in wide.regions] == ["blue"]
    xs = np.nonzero(layer.pixels[..., 3])[1]
    assert xs.min() >= SIZE // 2 and xs.max() < SIZE + SIZE // 2 and len(xs) > 0
    # the stored map is used as drawn (deriving lines from lines again would change it), at the recipe's strength
    assert (restored.control_mode, restored.control_strength) == ("sketch", 0.75)
    wide.undo()
    assert layer not in wide.layers and len(wide.regions) == 0

    again = Document(SIZE, SIZE)
    controller.restore_onto(controller.history_item(item.id).recipe, again)
    repeat = generate(controller, again, controller.restore(item.id))
    assert repeat.recipe.control == dataclasses.replace(entry.recipe.control, mode="sketch")  # the same map
    np.testing.assert_array_equal(repeat.pixels, entry.pixels)


def test_a_recipe_without_a_control_leaves_the_choice_and_a_damaged_one_changes_nothing(controller):
    doc = sketched(controller)
    chosen, layers, steps = controller.control_layer_uid, len(doc.layers), doc.history.undo_count
    plain = Recipe("tiny-control", prompt="red", width=SIZE, height=SIZE)
    assert controller.restore_onto(plain, doc) is None
    assert (controller.control_layer_uid, len(doc.layers), doc.history.undo_count) == (chosen, layers, steps)
    mask = np.full((SIZE, SIZE), 255, np.uint8)
    broken = dataclasses.replace(plain, control=RecipeControl("AAAA", 1.0, "sketch"),
                                 regions=(RecipeRegion.from_mask(mask, "green"),))
    with pytest.raises(InputError, match="control picture"):
        controller.restore_onto(broken, doc)
    assert [r.prompt for r in doc.regions] == ["blue"] and len(doc.layers) == layers  # the regions came back
    assert controller.control_layer_uid == chosen and doc.history.undo_count == steps
