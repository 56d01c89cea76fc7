"""Regional prompts in the diffusion controller: the document's regions become the recipe's, land on the right
part of the picture, survive a recipe PNG, and come back onto a canvas."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.document.regions import MAX_DOCUMENT_REGIONS
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import MAX_REGIONS, RecipeRegion
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import GENERATE, DiffusionController
from genart_desktop.workspace.diffusion_placement import Placement
from genart_desktop.workspace.diffusion_regions import (
    crop_mask,
    layer_region,
    picture_rect,
    restore_regions,
    selection_region,
)
from genart_desktop.workspace.recipe_png import read_recipe_png
from genart_desktop.workspace.workspace import Workspace
from tests.workspace.tiny_diffusion import diffusion_folder

SIZE = 16


@pytest.fixture
def controller(tmp_path):
    root = tmp_path / "models"
    diffusion_folder(root, "tiny-text", conditioned="text", resolution=SIZE)
    diffusion_folder(root, "tiny-plain", conditioned=False, resolution=SIZE)
    workspace = Workspace(ModelRegistry(roots=[(root, "user")]))
    yield DiffusionController(workspace, preview_every=0)
    workspace.shutdown()


def text_settings(controller, **changes):
    base = controller.default_settings("tiny-text")
    return dataclasses.replace(base, **{"seed_mode": "fixed", "seed": 5, "prompt": "red", **changes})


def generate(controller, doc, settings):
    (entry,), _ = controller.submit(GENERATE, settings, doc)
    assert entry.handle.wait(20)
    for _ in range(200):  # events arrive on the worker thread (no post): wait for the last one
        if entry.finished:
            break
        entry.handle.wait(0.05)
    assert entry.state == "done", entry.message
    return entry


def test_document_regions_shape_the_picture_and_the_recipe(controller):
    doc = Document(SIZE, SIZE)
    doc.select_rect(Rect(0, 0, SIZE // 2, SIZE))
    selection_region(doc, "blue")
    doc.deselect()
    entry = generate(controller, doc, text_settings(controller))
    (region,) = entry.recipe.regions
    assert region.prompt == "blue"
    pixels = entry.pixels.astype(int)
    assert pixels[:, :6, 2].mean() > pixels[:, :6, 0].mean() + 100
    assert pixels[:, -6:, 0].mean() > pixels[:, -6:, 2].mean() + 100


def test_blank_prompts_are_left_out_and_unprompted_models_refuse_regions(controller):
    doc = Document(SIZE, SIZE)
    doc.select_rect(Rect(0, 0, 4, 4))
    selection_region(doc)
    doc.deselect()
    assert generate(controller, doc, text_settings(controller)).recipe.regions == ()
    doc.regions.set_prompt(0, "green")
    plain = dataclasses.replace(controller.default_settings("tiny-plain"), seed_mode="fixed")
    with pytest.raises(InputError, match="takes no prompt"):
        controller.submit(GENERATE, plain, doc)
    assert controller.staged == [] or all(e.recipe.model_id == "tiny-text" for e in controller.staged)


def test_the_recipe_png_round_trip_restores_the_regions(controller, tmp_path):
    doc = Document(SIZE, SIZE)
    doc.select_rect(Rect(0, SIZE // 2, SIZE, SIZE // 2))
    selection_region(doc, "green")
    doc.deselect()  # with a selection, the picture would be made for the selection alone
    entry = generate(controller, doc, text_settings(controller))
    path = controller.export_png(entry.id, tmp_path / "regions.png")
    _pixels, recipe = read_recipe_png(path)
    assert recipe.regions == entry.recipe.regions
    other = Document(2 * SIZE, SIZE)  # a wider canvas: the picture is fitted inside it
    settings, _item = controller.open_png(path)
    assert controller.restore_regions(recipe, other) == 1
    (restored,) = other.regions
    assert restored.prompt == "green"
    assert restored.mask[SIZE // 2 + 1:, SIZE // 2:SIZE + SIZE // 2].min() > 200
    assert restored.mask[: SIZE // 2 - 1].max() < 50 and restored.mask[:, : SIZE // 2].max() == 0
    again = Document(SIZE, SIZE)
    controller.restore_regions(recipe, again)
    repeat = generate(controller, again, dataclasses.replace(settings, seed_mode="fixed"))
    np.testing.assert_array_equal(repeat.pixels, entry.pixels)


def test_a_region_in_a_selection_is_cut_to_the_picture_it_lands_on():
    mask = np.zeros((10, 20), np.uint8)
    mask[:, 10:] = 255
    fill = picture_rect(Placement(Rect(0, 0, 20, 10), fit="fill"), (10, 10))
    assert fill == Rect(0, -5, 20, 20)
    cropped = crop_mask(mask, fill)
    assert cropped.shape == (20, 20) and cropped[:5].max() == 0 and cropped[5:15, 10:].min() == 255
    fit = picture_rect(Placement(Rect(0, 0, 20, 10), fit="fit"), (10, 10))
    assert fit == Rect(5, 0, 10, 10)
    assert picture_rect(Placement(Rect(2, 3, 4, 5)), (8, 10)) == Rect(2, 3, 4, 5)


def test_layer_alpha_regions_and_caps():
    doc = Document(8, 8, background=None)
    with pytest.raises(InputError, match="no opaque pixels"):
        layer_region(doc)
    with pytest.raises(InputError, match="Select"):
        selection_region(doc)
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[2:6, 2:6] = 255
    doc.add_layer("Sun", pixels)
    layer_region(doc, prompt="a sun")
    assert doc.regions[0].name == "Sun" and doc.regions[0].mask.sum() == 16 * 255
    assert MAX_DOCUMENT_REGIONS == MAX_REGIONS


def test_a_damaged_recipe_changes_no_regions(controller):
    doc = Document(SIZE, SIZE)
    doc.select_rect(Rect(0, 0, 4, 4))
    selection_region(doc, "blue")
    entry = generate(controller, doc, text_settings(controller))
    broken = dataclasses.replace(entry.recipe, regions=(dataclasses.replace(entry.recipe.regions[0], mask="AAAA"),))
    target = Document(SIZE, SIZE)
    target.select_rect(Rect(0, 0, 2, 2))
    selection_region(target, "kept")
    with pytest.raises(InputError, match="region's mask"):
        restore_regions(target, broken)
    assert [r.prompt for r in target.regions] == ["kept"]


def test_the_document_store_drops_the_oldest_regions_to_stay_readable(monkeypatch):
    from genart_desktop.workspace import diffusion_store
    from genart_desktop.workspace.diffusion import HistoryItem

    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    recipe = Recipe("tiny-text", prompt="red", width=SIZE, height=SIZE,
                    regions=(RecipeRegion.from_mask(noise, "blue"),))
    history = [HistoryItem(i, dataclasses.replace(recipe, seed=i), np.zeros((4, 4, 3), np.uint8)) for i in range(6)]
    size = len(recipe.to_json())
    monkeypatch.setattr(diffusion_store, "MAX_INDEX_BYTES", 3 * size + 4000)
    stash = diffusion_store.load(diffusion_store.dump([], history))
    kept = [len(r.regions) for r, _thumb in stash.history]
    assert kept[:2] == [1, 1] and kept[-1] == 0 and [r.seed for r, _ in stash.history] == list(range(6))


def test_live_frames_follow_the_regions_and_their_prompt_edits(tmp_path):
    from tests.workspace.test_diffusion_live import Live

    diffusion_folder(tmp_path, "tiny-text", conditioned="text", resolution=SIZE)
    harness = Live(ModelRegistry(roots=[(tmp_path, "user")]))
    try:
        harness.diffusion.set_settings(text_settings(harness.diffusion, strength=1.0))
        doc = Document(SIZE, SIZE)
        doc.select_rect(Rect(0, 0, SIZE // 2, SIZE))
        selection_region(doc, "blue")
        doc.deselect()
        harness.live.set_document(doc)
        harness.live.set_enabled(True)
        harness.pump()
        frame = harness.live.frame
        assert [r.prompt for r in frame.recipe.regions] == ["blue"]
        assert frame.pixels[:, :6, 2].mean() > frame.pixels[:, :6, 0].mean() + 100
        doc.regions.set_prompt(0, "green")
        harness.pump()
        assert [r.prompt for r in harness.live.frame.recipe.regions] == ["green"]
    finally:
        harness.live.set_enabled(False)
        harness.workspace.shutdown()
